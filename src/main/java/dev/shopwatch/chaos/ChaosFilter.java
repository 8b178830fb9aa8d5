package dev.shopwatch.chaos;

import dev.shopwatch.problem.Problem;
import dev.shopwatch.problem.ProblemType;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.spi.ResteasyReactiveContainerRequestContext;

/**
 * Applies chaos to API requests after routing, so injected failures are counted under the real route template
 * (uri="/api/products/{id}") in {@code http_server_requests_seconds} and appear on the per-route panels.
 * The delay is a timer, not a sleep: no thread is held while a request waits.
 *
 * <p>The filter is synchronous (void) and suspends the request only for a delay. A filter returning a {@code Uni}
 * makes RESTEasy Reactive suspend, subscribe and resume every request, with a context-propagation snapshot, even when
 * chaos is off and the Uni is an empty item: about 3 % of the service's CPU per by-id read (profile in
 * loadtest/README.md, "Benchmark"), paid by every request for a feature that is off in normal operation.
 */
public class ChaosFilter {

    private static final Logger LOG = Logger.getLogger(ChaosFilter.class);
    private final Chaos chaos;

    ChaosFilter(Chaos chaos) {
        this.chaos = chaos;
    }

    @ServerRequestFilter
    public void inject(ResteasyReactiveContainerRequestContext request) {
        ChaosSettings s = chaos.current();
        if (!s.active() || !request.getUriInfo().getPath().startsWith("/api/")) {
            return;
        }
        long delay = chaos.drawLatency(s);
        if (delay <= 0) {
            fault(request, s);
            return;
        }
        // As RESTEasy Reactive does for a Uni filter: suspended until the timer fires, then aborted or resumed.
        request.suspend();
        Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(delay)).subscribe().with(ignored -> {
            fault(request, s);
            request.resume();
        }, request::resume);
    }

    /** Aborts the request with an injected 500 when the error rate draws one. */
    private void fault(ResteasyReactiveContainerRequestContext request, ChaosSettings s) {
        if (!chaos.drawError(s)) {
            return;
        }
        String path = request.getUriInfo().getRequestUri().getRawPath();
        LOG.errorf("Injected fault: %s %s answered 500 (chaos errorRate=%s)", request.getMethod(), path, s.errorRate());
        ProblemType t = ProblemType.INJECTED_FAULT;
        request.abortWith(Response.status(t.status()).type(Problem.MEDIA_TYPE)
                .entity(new Problem(t.type(), t.title(), t.status(), "Chaos controls injected this failure.", path, null))
                .build());
    }
}
