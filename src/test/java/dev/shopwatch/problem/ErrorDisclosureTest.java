package dev.shopwatch.problem;

import static dev.shopwatch.support.Api.asAdmin;
import static dev.shopwatch.support.Api.asClient;
import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.stockOf;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.support.Db;
import dev.shopwatch.support.LogCapture;
import dev.shopwatch.support.Management;
import dev.shopwatch.support.PostgresResource;
import dev.shopwatch.support.Traces;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * README, "The API": a 500 is "logged with its trace id, never shown". Each test makes the service fail for real —
 * PostgreSQL raising an error, an overflowing order total, a chaos fault — and checks both halves: the body is the
 * generic problem document with nothing from inside the service, and the ERROR line of that request's trace has
 * the exception, its message and its stack trace.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class ErrorDisclosureTest {

    /** Text only the service's insides produce: exception types, stack frames, packages, SQL. */
    static final List<String> INTERNALS = List.of("Exception", "exception", "\tat ", "at dev.", "dev.shopwatch", "java.", "org.",
            "io.", "SQL", "INSERT", "UPDATE", "SELECT", "RETURNING", "overflow", "Caused by", "PL/pgSQL");

    @Inject
    InMemorySpanExporter spans;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void databaseErrorIs500WithoutInternalsAndLoggedWithTheTrace() throws Exception {
        // PostgreSQL itself refuses the insert, with a message meant for operators only.
        Db.execute("""
                CREATE OR REPLACE FUNCTION disclosure_probe() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.sku LIKE 'LEAK-%' THEN
                    RAISE EXCEPTION 'internal only: disk quota of tablespace ts_secret exceeded' USING ERRCODE = 'XX000';
                  END IF;
                  RETURN NEW;
                END $$""");
        Db.execute("CREATE TRIGGER disclosure_probe BEFORE INSERT ON product FOR EACH ROW EXECUTE FUNCTION disclosure_probe()");
        try {
            String sku = uniqueSku("LEAK");
            JsonNode logged = failAndCapture(Traces.fresh(), () -> asAdmin().contentType(ContentType.JSON)
                    .body(Map.of("sku", sku, "name", "x", "priceCents", 1, "stock", 1)), "POST", "/api/products",
                    "internal-error", "An unexpected error occurred.", "ts_secret");
            assertThat(logged.toString()).contains("PSQLException").contains("internal only: disk quota of tablespace ts_secret exceeded")
                    .contains("dev.shopwatch.product.ProductRepository.create");
        } finally {
            Db.execute("DROP TRIGGER disclosure_probe ON product");
            Db.execute("DROP FUNCTION disclosure_probe()");
        }
    }

    @Test
    void unexpectedFailureIs500WithoutInternalsAndLoggedWithTheTrace() throws Exception {
        // A price no request could set (written straight to the table) makes the order total overflow a long.
        long id = createProduct(uniqueSku("OVF"), 1, 5);
        Db.execute("UPDATE product SET price_cents = " + (Long.MAX_VALUE / 2 + 1) + " WHERE id = " + id);
        try {
            Traces trace = Traces.fresh();
            JsonNode logged = failAndCapture(trace, () -> asClient().contentType(ContentType.JSON)
                    .body(Map.of("lines", List.of(Map.of("productId", id, "quantity", 2)))), "POST", "/api/orders",
                    "internal-error", "An unexpected error occurred.", null);
            assertThat(logged.toString()).contains("java.lang.ArithmeticException").contains("long overflow")
                    .contains("dev.shopwatch.order.OrderRepository");
            assertThat(stockOf(id)).as("the failed order changed nothing").isEqualTo(5);
            SpanData business = Traces.only(trace.await(spans, found -> found.stream().anyMatch(s -> s.getName().equals("order.place"))),
                    s -> s.getName().equals("order.place"), "order.place");
            assertThat(business.getAttributes().get(AttributeKey.stringKey("order.outcome"))).isEqualTo("error");
            assertThat(business.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        } finally {
            Db.execute("DELETE FROM product WHERE id = " + id);
        }
    }

    @Test
    void injectedFaultIs500WithoutInternalsAndLoggedWithTheTrace() throws Exception {
        long id = createProduct(uniqueSku("INJ"), 1, 1);
        String chaos = Management.url("/chaos");
        given().contentType(ContentType.JSON).body(Map.of("errorRate", 1.0)).when().put(chaos).then().statusCode(200);
        try {
            JsonNode logged = failAndCapture(Traces.fresh(), () -> given(), "GET", "/api/products/" + id, "injected-fault",
                    "Chaos controls injected this failure.", null);
            assertThat(logged.get("message").asText()).contains("Injected fault").contains("/api/products/" + id);
        } finally {
            given().when().delete(chaos).then().statusCode(200);
        }
    }

    /**
     * Sends the request in a trace of its own, expects a 500 of {@code type} whose body is exactly the generic
     * document, and returns the one ERROR log line of that trace.
     */
    private JsonNode failAndCapture(Traces trace, Supplier<RequestSpecification> request, String method, String path,
            String type, String detail, String secret) throws Exception {
        try (LogCapture capture = new LogCapture()) {
            ExtractableResponse<Response> response = assertProblem(request.get().header("traceparent", trace.traceparent())
                    .when().request(method, path).then(), 500, type)
                    .body("detail", equalTo(detail))
                    .body("instance", equalTo(path))
                    .extract();
            String text = response.asString();
            List<String> members = new ArrayList<>();
            json.readTree(text).fieldNames().forEachRemaining(members::add);
            assertThat(members).as("only the RFC 9457 members").containsExactlyInAnyOrder("type", "title", "status", "detail", "instance");
            assertThat(INTERNALS).as("internals in the 500 body %s", text).noneMatch(text::contains);
            if (secret != null) {
                assertThat(text).doesNotContain(secret);
            }
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> capture.lines().stream().anyMatch(l -> l.contains("ERROR") && l.contains(trace.traceId)));
            List<JsonNode> errors = capture.lines().stream().map(this::parse)
                    .filter(l -> "ERROR".equals(l.path("level").asText()) && trace.traceId.equals(l.path("traceId").asText())).toList();
            assertThat(errors).as("one ERROR line in the request's trace").hasSize(1);
            return errors.get(0);
        }
    }

    private JsonNode parse(String line) {
        try {
            return json.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
