package dev.shopwatch.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import io.quarkus.runtime.configuration.MemorySize;

/**
 * Refuses bodies over {@code quarkus.http.limits.max-body-size} (1 MiB) with a 413 problem document, before the
 * body is read. Without this route Quarkus still enforces the limit but answers with an empty 413. A chunked body
 * that announces no length is cut off by Quarkus's own limit at the same size.
 */
@ApplicationScoped
public class BodyLimit {

    private final long limit;
    private final ObjectMapper json;

    BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize limit, ObjectMapper json) {
        this.limit = limit.asLongValue();
        this.json = json;
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(this::check);
    }

    private void check(RoutingContext ctx) {
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            long bytes;
            try {
                bytes = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                bytes = -1;
            }
            if (bytes > limit) {
                ProblemType t = ProblemType.PAYLOAD_TOO_LARGE;
                Problem problem = new Problem(t.type(), t.title(), t.status(),
                        "Request bodies are limited to " + limit + " bytes; this one has " + bytes + ".", ctx.request().path(), null);
                String body;
                try {
                    body = json.writeValueAsString(problem);
                } catch (JsonProcessingException e) {
                    ctx.fail(e);
                    return;
                }
                // The unread body is not drained: the connection is closed after the answer.
                ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                        .putHeader(HttpHeaders.CONNECTION, "close").end(body);
                return;
            }
        }
        ctx.next();
    }
}
