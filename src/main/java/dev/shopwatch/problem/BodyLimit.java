package dev.shopwatch.problem;

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

    BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize limit) {
        this.limit = limit.asLongValue();
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
                String body = "{\"type\":\"" + t.type() + "\",\"title\":\"" + t.title() + "\",\"status\":" + t.status()
                        + ",\"detail\":\"Request bodies are limited to " + limit + " bytes; this one has " + bytes
                        + ".\",\"instance\":\"" + jsonEscape(ctx.request().path()) + "\"}";
                // The unread body is not drained: the connection is closed after the answer.
                ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                        .putHeader(HttpHeaders.CONNECTION, "close").end(body);
                return;
            }
        }
        ctx.next();
    }

    private static String jsonEscape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
