package dev.shopwatch.platform;

import io.quarkus.vertx.http.ManagementInterface;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Exemplars only travel in the OpenMetrics format. Prometheus asks for it with an Accept header that lists
 * OpenMetrics first but also {@code text/plain;version=0.0.4;q=0.5}; Quarkus's metrics handler answers any
 * Accept containing {@code text/plain} with the classic text format, which has no exemplars, so Prometheus
 * would store none. This route runs before the handler and, when the client accepts OpenMetrics, rewrites
 * the header to the exact value the handler recognises. Clients that do not ask for OpenMetrics (curl,
 * browsers) keep getting text.
 */
@ApplicationScoped
public class OpenMetricsNegotiation {

    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    void register(@Observes ManagementInterface management) {
        management.router().get("/q/metrics").order(Integer.MIN_VALUE).handler(ctx -> {
            String accept = ctx.request().getHeader("Accept");
            if (accept != null && accept.contains("application/openmetrics-text")) {
                ctx.request().headers().set("Accept", OPENMETRICS);
            }
            ctx.next();
        });
    }
}
