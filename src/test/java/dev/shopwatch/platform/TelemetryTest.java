package dev.shopwatch.platform;

import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.support.LogCapture;
import dev.shopwatch.support.PostgresResource;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Traces, metrics and logs as the platform consumes them. */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class TelemetryTest {

    /** The Accept header Prometheus sends by default (2.x and 3.x with default scrape_protocols). */
    static final String PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
            + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    @Inject
    InMemorySpanExporter spans;

    private final String metrics = dev.shopwatch.support.Management.url("/q/metrics");

    private final ObjectMapper json = new ObjectMapper();

    private String placeOrder(long productId) {
        return given().contentType("application/json").body(Map.of("lines", List.of(Map.of("productId", productId, "quantity", 1))))
                .when().post("/api/orders").then().extract().asString();
    }

    @Test
    void orderRequestHasServerSpanJdbcChildrenAndBusinessSpan() {
        long id = createProduct(uniqueSku("TR"), 700, 5);
        spans.reset();
        placeOrder(id);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> spans.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getKind() == SpanKind.SERVER && s.getName().contains("/api/orders")));
        List<SpanData> all = spans.getFinishedSpanItems();
        SpanData server = all.stream().filter(s -> s.getKind() == SpanKind.SERVER && s.getName().contains("/api/orders")).findFirst().orElseThrow();
        SpanData business = all.stream().filter(s -> s.getName().equals("order.place")).findFirst().orElseThrow();
        assertThat(business.getTraceId()).isEqualTo(server.getTraceId());
        assertThat(business.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(business.getAttributes().get(AttributeKey.longKey("order.line_count"))).isEqualTo(1L);
        assertThat(business.getAttributes().get(AttributeKey.longKey("order.total_cents"))).isEqualTo(700L);
        assertThat(business.getAttributes().get(AttributeKey.stringKey("order.outcome"))).isEqualTo("placed");

        List<SpanData> jdbc = all.stream().filter(s -> s.getKind() == SpanKind.CLIENT
                && s.getTraceId().equals(server.getTraceId())
                && "postgresql".equals(s.getAttributes().get(AttributeKey.stringKey("db.system")))).toList();
        assertThat(jdbc).as("JDBC client spans").isNotEmpty();
        assertThat(jdbc).as("the stock update runs inside the business span")
                .anySatisfy(s -> assertThat(s.getName()).startsWith("UPDATE"))
                .allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(business.getSpanId()));

        var resource = server.getResource().getAttributes();
        assertThat(resource.get(AttributeKey.stringKey("service.name"))).isEqualTo("shop");
        assertThat(resource.get(AttributeKey.stringKey("service.version"))).isNotBlank();
        assertThat(resource.get(AttributeKey.stringKey("deployment.environment"))).isNotBlank();
    }

    @Test
    void rejectedOrderSpanCarriesTheReason() {
        long id = createProduct(uniqueSku("RJ"), 100, 0);
        spans.reset();
        placeOrder(id);
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> spans.getFinishedSpanItems().stream().anyMatch(s -> s.getName().equals("order.place")));
        SpanData business = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("order.place")).findFirst().orElseThrow();
        assertThat(business.getAttributes().get(AttributeKey.stringKey("order.outcome"))).isEqualTo("insufficient_stock");
    }

    @Test
    void orderLogLinesAreJsonWithTheTraceIdOfTheRequest() throws Exception {
        long id = createProduct(uniqueSku("LG"), 300, 1);
        spans.reset();
        List<String> lines;
        try (LogCapture capture = new LogCapture()) {
            placeOrder(id);
            placeOrder(id); // the second is refused: stock is gone
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> capture.lines().stream().anyMatch(l -> l.contains("Order rejected")));
            lines = new ArrayList<>(capture.lines());
        }
        JsonNode placed = lines.stream().filter(l -> l.contains("Order placed")).map(this::parse).findFirst().orElseThrow();
        JsonNode rejected = lines.stream().filter(l -> l.contains("Order rejected")).map(this::parse).findFirst().orElseThrow();
        for (JsonNode line : List.of(placed, rejected)) {
            for (String field : List.of("timestamp", "level", "loggerName", "message", "traceId", "spanId", "service", "version")) {
                assertThat(line.hasNonNull(field)).as("log field %s in %s", field, line).isTrue();
            }
            assertThat(line.get("level").asText()).isEqualTo("INFO");
            assertThat(line.get("service").asText()).isEqualTo("shop");
            assertThat(line.get("traceId").asText()).matches("[0-9a-f]{32}");
            assertThat(line.has("mdc")).as("trace ids are top-level, not nested").isFalse();
        }
        assertThat(rejected.get("message").asText()).contains("insufficient_stock");
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> spans.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getTraceId().equals(placed.get("traceId").asText()) && s.getName().equals("order.place")));
    }

    @Test
    void everyLineIsOneJsonObjectAndNoRequestIsLoggedAtInfo() throws Exception {
        long id = createProduct(uniqueSku("NOISE"), 1, 10);
        try (LogCapture capture = new LogCapture()) {
            for (int i = 0; i < 5; i++) {
                given().when().get("/api/products/" + id).then().statusCode(200);
            }
            assertThat(capture.lines()).as("plain reads log nothing").isEmpty();
        }
    }

    @Test
    void prometheusGetsOpenMetricsWithTraceExemplars() {
        long id = createProduct(uniqueSku("EX"), 100, 3);
        for (int i = 0; i < 3; i++) {
            given().when().get("/api/products/" + id).then().statusCode(200);
        }
        placeOrder(id);
        var response = given().header("Accept", PROMETHEUS_ACCEPT).when().get(metrics).then().statusCode(200).extract();
        assertThat(response.contentType()).startsWith("application/openmetrics-text");
        String body = response.asString();
        Matcher exemplar = Pattern.compile(
                "http_server_requests_seconds_bucket\\{[^}]*uri=\"/api/products/\\{id}\"[^}]*} \\S+ # \\{[^}]*trace_id=\"([0-9a-f]{32})\"")
                .matcher(body);
        assertThat(exemplar.find()).as("an exemplar with trace_id on the request histogram").isTrue();
        assertThat(body).contains("le=\"0.25\"").contains("le=\"0.025\"").contains("le=\"1.0\"");
        // A plain client still gets the classic text format.
        assertThat(given().header("Accept", "text/plain").when().get(metrics).then().extract().contentType()).startsWith("text/plain");
    }

    @Test
    void businessPoolAndJvmMetricsAreExported() {
        long id = createProduct(uniqueSku("BM"), 100, 1);
        placeOrder(id); // placed, and takes the stock to zero
        placeOrder(id); // rejected
        given().contentType("application/json").body(Map.of("lines", List.of(Map.of("productId", 987654321L, "quantity", 1))))
                .when().post("/api/orders").then().statusCode(422);
        String body = given().when().get(metrics).then().statusCode(200).extract().asString();
        assertThat(body)
                .containsPattern("(?m)^shop_orders_placed_total [1-9]")
                .containsPattern("(?m)^shop_orders_rejected_total\\{reason=\"insufficient_stock\"} [1-9]")
                .containsPattern("(?m)^shop_orders_rejected_total\\{reason=\"unknown_product\"} [1-9]")
                .containsPattern("(?m)^shop_stockouts_total [1-9]")
                .containsPattern("(?m)^shop_order_value_cents_bucket\\{le=\"1000\\.0\"}")
                .containsPattern("(?m)^agroal_active_count\\{datasource=\"default\"}")
                .containsPattern("(?m)^agroal_awaiting_count\\{datasource=\"default\"}")
                .containsPattern("(?m)^jvm_memory_used_bytes\\{")
                .containsPattern("(?m)^jvm_threads_live_threads ")
                .containsPattern("(?m)^process_cpu_usage ");
    }

    private JsonNode parse(String line) {
        try {
            return json.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
