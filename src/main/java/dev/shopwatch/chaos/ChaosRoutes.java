package dev.shopwatch.chaos;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.problem.Problem;
import dev.shopwatch.problem.ProblemType;
import io.quarkus.vertx.http.ManagementInterface;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;

/**
 * {@code GET|PUT|DELETE /chaos} on the management interface (port 9000) only, so the public API port can never
 * switch faults on. PUT takes {@code {latencyMs, latencyRate, errorRate}}; absent fields keep their value.
 */
@ApplicationScoped
public class ChaosRoutes {

    private static final long MAX_BODY = 4096;
    private final Chaos chaos;
    private final ObjectMapper json;

    ChaosRoutes(Chaos chaos, ObjectMapper json) {
        this.chaos = chaos;
        this.json = json.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    void register(@Observes ManagementInterface management) {
        management.router().route("/chaos").method(HttpMethod.GET).handler(ctx -> send(ctx, 200, chaos.current()));
        management.router().route("/chaos").method(HttpMethod.DELETE).handler(ctx -> send(ctx, 200, chaos.reset()));
        management.router().route("/chaos").method(HttpMethod.PUT).handler(this::put);
    }

    private void put(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || !type.toLowerCase().startsWith("application/json")) {
            problem(ctx, ProblemType.UNSUPPORTED_MEDIA_TYPE, "Send the chaos settings as application/json.", null);
            return;
        }
        // The management router may already have read the body (Quarkus installs a body handler there).
        if (ctx.request().isEnded()) {
            io.vertx.core.buffer.Buffer read = ctx.body() == null ? null : ctx.body().buffer();
            apply(ctx, read == null ? io.vertx.core.buffer.Buffer.buffer() : read);
            return;
        }
        ctx.request().body().onComplete(ar -> {
            if (ar.failed()) {
                problem(ctx, ProblemType.BAD_REQUEST, "Could not read the request body.", null);
                return;
            }
            apply(ctx, ar.result());
        });
    }

    private void apply(RoutingContext ctx, io.vertx.core.buffer.Buffer body) {
        if (body.length() > MAX_BODY) {
            problem(ctx, ProblemType.PAYLOAD_TOO_LARGE, "Chaos settings are at most " + MAX_BODY + " bytes.", null);
            return;
        }
        ChaosSettings change;
        try {
            change = json.readValue(body.getBytes(), ChaosSettings.class);
        } catch (JsonProcessingException e) {
            problem(ctx, ProblemType.MALFORMED_JSON, "Expected {latencyMs, latencyRate, errorRate}: " + e.getOriginalMessage(), null);
            return;
        } catch (java.io.IOException e) {
            problem(ctx, ProblemType.BAD_REQUEST, "Could not read the request body.", null);
            return;
        }
        if (change == null) {
            problem(ctx, ProblemType.VALIDATION, "A JSON object is required.", null);
            return;
        }
        List<Problem.FieldError> violations = change.violations();
        if (!violations.isEmpty()) {
            problem(ctx, ProblemType.VALIDATION, String.join("; ",
                    violations.stream().map(v -> v.field() + ": " + v.message()).toList()), violations);
            return;
        }
        send(ctx, 200, chaos.update(change));
    }

    private void problem(RoutingContext ctx, ProblemType t, String detail, List<Problem.FieldError> errors) {
        Problem p = new Problem(t.type(), t.title(), t.status(), detail, ctx.request().path(), errors);
        write(ctx, t.status(), Problem.MEDIA_TYPE, p);
    }

    private void send(RoutingContext ctx, int status, Object body) {
        write(ctx, status, "application/json", body);
    }

    private void write(RoutingContext ctx, int status, String contentType, Object body) {
        try {
            ctx.response().setStatusCode(status).putHeader("Content-Type", contentType).end(json.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            ctx.fail(e);
        }
    }
}
