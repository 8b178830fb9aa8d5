package dev.shopwatch.auth;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.credential.TokenCredential;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code Authorization: Bearer <key>} and hands the key to {@link ApiKeyIdentityProvider}. No header: the request
 * stays anonymous (reads are public; {@code @RolesAllowed} answers 401 on a write). A header that is not a bearer key
 * fails here as {@code malformed}. Authentication is lazy ({@code quarkus.http.auth.proactive=false}): only an
 * operation that needs a role runs it, so a public read never pays for it nor fails because of a stale header.
 */
@ApplicationScoped
public class ApiKeyMechanism implements HttpAuthenticationMechanism {

    /** The attribute of {@link AuthenticationFailedException} carrying the {@link AuthFailures.Reason}. */
    public static final String REASON = "shop.auth.reason";
    static final String CHALLENGE = "Bearer realm=\"shop\"";
    private static final String BEARER = "Bearer ";

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        String header = context.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null) {
            return Uni.createFrom().nullItem();
        }
        String token = bearerToken(header);
        if (token == null) {
            return Uni.createFrom().failure(failure(AuthFailures.Reason.MALFORMED));
        }
        AuthenticationRequest request = new TokenAuthenticationRequest(new TokenCredential(token, "bearer"));
        return identityProviderManager.authenticate(HttpSecurityUtils.setRoutingContextAttribute(request, context));
    }

    /** The key of a {@code Bearer} header (scheme case-insensitive, RFC 9110), or null when it is not one. */
    static String bearerToken(String header) {
        if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        String token = header.substring(BEARER.length()).strip();
        return ApiKeys.hasKeyShape(token) ? token : null;
    }

    static AuthenticationFailedException failure(AuthFailures.Reason reason) {
        return new AuthenticationFailedException(Map.of(REASON, reason));
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", CHALLENGE));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(TokenAuthenticationRequest.class);
    }
}
