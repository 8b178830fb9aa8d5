package dev.shopwatch.auth;

import dev.shopwatch.problem.ProblemMappers;
import dev.shopwatch.problem.ProblemType;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * 401 and 403 as problem documents, each counted in {@code shop_auth_failures_total}: no credential (anonymous,
 * refused by {@code @RolesAllowed}), a malformed or unknown one ({@link ApiKeyMechanism}, {@link ApiKeyIdentityProvider}),
 * or a valid key without the role. A 401 carries {@code WWW-Authenticate: Bearer realm="shop"} (RFC 9110 section 11.6.1).
 * Neither the detail nor a log line repeats the credential. Started with the application so the counters exist at 0.
 */
@Startup
@Singleton
public class AuthProblems {

    private final AuthFailures failures;

    AuthProblems(MeterRegistry registry) {
        this.failures = new AuthFailures(registry);
    }

    @ServerExceptionMapper
    public Response unauthenticated(UnauthorizedException e, UriInfo uri) {
        return unauthorized(AuthFailures.Reason.MISSING, "This operation needs an API key: send 'Authorization: Bearer <key>'.", uri);
    }

    @ServerExceptionMapper
    public Response rejected(AuthenticationFailedException e, UriInfo uri) {
        AuthFailures.Reason reason = e.getAttribute(ApiKeyMechanism.REASON) instanceof AuthFailures.Reason r ? r
                : AuthFailures.Reason.UNKNOWN_KEY;
        String detail = reason == AuthFailures.Reason.MALFORMED
                ? "The Authorization header is not 'Bearer <key>' with a key of this service."
                : "The API key is not valid.";
        return unauthorized(reason, detail, uri);
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, UriInfo uri) {
        failures.count(AuthFailures.Reason.FORBIDDEN);
        return ProblemMappers.respond(ProblemType.FORBIDDEN, "The API key does not grant this operation.", uri, null);
    }

    private Response unauthorized(AuthFailures.Reason reason, String detail, UriInfo uri) {
        failures.count(reason);
        return Response.fromResponse(ProblemMappers.respond(ProblemType.UNAUTHORIZED, detail, uri, null))
                .header(HttpHeaders.WWW_AUTHENTICATE, ApiKeyMechanism.CHALLENGE).build();
    }
}
