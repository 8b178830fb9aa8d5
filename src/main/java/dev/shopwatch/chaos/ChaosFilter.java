package dev.shopwatch.chaos;

import dev.shopwatch.problem.Problem;
import dev.shopwatch.problem.ProblemType;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Applies chaos to API requests after routing, so injected failures are counted under the real route template
 * (uri="/api/products/{id}") in {@code http_server_requests_seconds} and appear on the per-route panels.
 * The delay is a timer, not a sleep: no thread is held while a request waits.
 */
public class ChaosFilter {

    private static final Logger LOG = Logger.getLogger(ChaosFilter.class);
    private final Chaos chaos;

    ChaosFilter(Chaos chaos) {
        this.chaos = chaos;
    }

    @ServerRequestFilter
    public Uni<Response> inject(ContainerRequestContext request) {
        ChaosSettings s = chaos.current();
        if (!s.active() || !request.getUriInfo().getPath().startsWith("/api/")) {
            return Uni.createFrom().nullItem();
        }
        long delay = chaos.drawLatency(s);
        Uni<Void> wait = delay > 0
                ? Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(delay))
                : Uni.createFrom().voidItem();
        return wait.map(ignored -> {
            if (!chaos.drawError(s)) {
                return null;
            }
            String path = request.getUriInfo().getRequestUri().getRawPath();
            LOG.errorf("Injected fault: %s %s answered 500 (chaos errorRate=%s)", request.getMethod(), path, s.errorRate());
            ProblemType t = ProblemType.INJECTED_FAULT;
            return Response.status(t.status()).type(Problem.MEDIA_TYPE)
                    .entity(new Problem(t.type(), t.title(), t.status(), "Chaos controls injected this failure.", path, null))
                    .build();
        });
    }
}
