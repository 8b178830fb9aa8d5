package dev.shopwatch.platform;

import static dev.shopwatch.support.Api.asClient;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.support.LogCapture;
import dev.shopwatch.support.PostgresResource;
import dev.shopwatch.support.Traces;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
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

    private io.restassured.response.ExtractableResponse<io.restassured.response.Response> placeOrder(Traces trace,
            Object... productIdQuantityPairs) {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (int i = 0; i < productIdQuantityPairs.length; i += 2) {
            lines.add(Map.of("productId", productIdQuantityPairs[i], "quantity", productIdQuantityPairs[i + 1]));
        }
        return asClient().header("traceparent", trace.traceparent()).contentType("application/json").body(Map.of("lines", lines))
                .when().post("/api/orders").then().extract();
    }

    private String placeOrder(long productId) {
        return placeOrder(Traces.fresh(), productId, 1).asString();
    }

    /** The server span of POST /api/orders and the order.place span of one trace, once both are exported. */
    private List<SpanData> orderSpans(Traces trace) {
        return trace.await(spans, found -> found.stream().anyMatch(TelemetryTest::isOrderServerSpan)
                && found.stream().anyMatch(s -> s.getName().equals("order.place")));
    }

    private static boolean isOrderServerSpan(SpanData s) {
        return s.getKind() == SpanKind.SERVER && s.getName().contains("/api/orders");
    }

    /** The README's "Telemetry the service emits": every attribute of order.place, with its exact value. */
    private static void assertBusinessAttributes(SpanData business, long lineCount, long itemCount, Long totalCents, Long orderId,
            String outcome) {
        var attributes = business.getAttributes();
        assertThat(attributes.get(AttributeKey.longKey("order.line_count"))).as("order.line_count").isEqualTo(lineCount);
        assertThat(attributes.get(AttributeKey.longKey("order.item_count"))).as("order.item_count").isEqualTo(itemCount);
        assertThat(attributes.get(AttributeKey.longKey("order.total_cents"))).as("order.total_cents").isEqualTo(totalCents);
        assertThat(attributes.get(AttributeKey.longKey("order.id"))).as("order.id").isEqualTo(orderId);
        assertThat(attributes.get(AttributeKey.stringKey("order.outcome"))).as("order.outcome").isEqualTo(outcome);
    }

    @Test
    void orderRequestHasServerSpanJdbcChildrenAndBusinessSpan() throws Exception {
        long tea = createProduct(uniqueSku("TR"), 700, 5);
        long cup = createProduct(uniqueSku("TR"), 300, 5);
        Traces trace = Traces.fresh();
        var response = placeOrder(trace, tea, 2, cup, 3);
        assertThat(response.statusCode()).isEqualTo(201);
        List<SpanData> all = orderSpans(trace);
        SpanData server = Traces.only(all, TelemetryTest::isOrderServerSpan, "POST /api/orders server");
        SpanData business = Traces.only(all, s -> s.getName().equals("order.place"), "order.place");
        assertThat(server.getParentSpanId()).as("the server span continues the caller's trace").isEqualTo(trace.parentSpanId);
        assertThat(business.getParentSpanId()).isEqualTo(server.getSpanId());
        // 2 lines, 5 items, 2 x 700 + 3 x 300 cents
        assertBusinessAttributes(business, 2, 5, 2_300L, response.jsonPath().getLong("id"), "placed");
        assertThat(business.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        List<SpanData> jdbc = all.stream().filter(s -> s.getKind() == SpanKind.CLIENT
                && "postgresql".equals(s.getAttributes().get(AttributeKey.stringKey("db.system")))).toList();
        assertThat(jdbc).as("JDBC client spans").isNotEmpty();
        assertThat(jdbc).as("the stock update runs inside the business span")
                .anySatisfy(s -> assertThat(s.getName()).startsWith("UPDATE"))
                .allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(business.getSpanId()));

        var resource = server.getResource().getAttributes();
        assertThat(resource.get(AttributeKey.stringKey("service.name"))).isEqualTo("shop");
        assertThat(resource.get(AttributeKey.stringKey("service.version"))).as("the pom's version").isEqualTo(pomVersion());
        assertThat(resource.get(AttributeKey.stringKey("deployment.environment"))).as("DEPLOYMENT_ENVIRONMENT, default local")
                .isEqualTo(System.getenv().getOrDefault("DEPLOYMENT_ENVIRONMENT", "local"));
    }

    @Test
    void refusedOrderSpansCarryTheReasonAndNoTotal() {
        long empty = createProduct(uniqueSku("RJ"), 100, 0);
        Traces shortOfStock = Traces.fresh();
        assertThat(placeOrder(shortOfStock, empty, 4).statusCode()).isEqualTo(409);
        SpanData refused = Traces.only(orderSpans(shortOfStock), s -> s.getName().equals("order.place"), "order.place");
        assertBusinessAttributes(refused, 1, 4, null, null, "insufficient_stock");
        assertThat(refused.getStatus().getStatusCode()).as("a refusal is a business outcome, not an error").isEqualTo(StatusCode.UNSET);

        Traces unknown = Traces.fresh();
        assertThat(placeOrder(unknown, 987654321L, 2, 987654322L, 1).statusCode()).isEqualTo(422);
        SpanData notFound = Traces.only(orderSpans(unknown), s -> s.getName().equals("order.place"), "order.place");
        assertBusinessAttributes(notFound, 2, 3, null, null, "unknown_product");
    }

    @Test
    void orderLogLinesAreJsonWithTheTraceIdOfTheRequest() throws Exception {
        long id = createProduct(uniqueSku("LG"), 300, 1);
        Traces first = Traces.fresh();
        Traces second = Traces.fresh();
        List<String> lines;
        try (LogCapture capture = new LogCapture()) {
            placeOrder(first, id, 1);
            placeOrder(second, id, 1); // refused: the stock is gone
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> capture.lines().stream().anyMatch(l -> l.contains("Order rejected")));
            lines = new ArrayList<>(capture.lines());
        }
        JsonNode placed = lines.stream().filter(l -> l.contains("Order placed") && l.contains(first.traceId)).map(this::parse)
                .findFirst().orElseThrow(() -> new AssertionError("no 'Order placed' line with trace id " + first.traceId + ": " + lines));
        JsonNode rejected = lines.stream().filter(l -> l.contains("Order rejected") && l.contains(second.traceId)).map(this::parse)
                .findFirst().orElseThrow(() -> new AssertionError("no 'Order rejected' line with trace id " + second.traceId + ": " + lines));
        for (JsonNode line : List.of(placed, rejected)) {
            for (String field : List.of("timestamp", "level", "loggerName", "message", "traceId", "spanId", "service", "version")) {
                assertThat(line.hasNonNull(field)).as("log field %s in %s", field, line).isTrue();
            }
            assertThat(line.get("level").asText()).isEqualTo("INFO");
            assertThat(line.get("service").asText()).isEqualTo("shop");
            assertThat(line.get("version").asText()).isEqualTo(pomVersion());
            assertThat(line.get("spanId").asText()).matches("[0-9a-f]{16}");
            assertThat(line.has("mdc")).as("trace ids are top-level, not nested").isFalse();
        }
        assertThat(placed.get("traceId").asText()).as("the placed order's line is in its request's trace").isEqualTo(first.traceId);
        assertThat(rejected.get("traceId").asText()).isEqualTo(second.traceId);
        assertThat(rejected.get("message").asText()).contains("insufficient_stock");
        SpanData business = Traces.only(orderSpans(first), s -> s.getName().equals("order.place"), "order.place");
        assertThat(placed.get("spanId").asText()).as("logged inside the business span").isEqualTo(business.getSpanId());
    }

    @Test
    void everyLineIsOneJsonObjectAndNoRequestIsLoggedAtInfo() throws Exception {
        long id = createProduct(uniqueSku("NOISE"), 1, 10);
        try (LogCapture capture = new LogCapture()) {
            for (int i = 0; i < 5; i++) {
                given().when().get("/api/products/" + id).then().statusCode(200);
            }
            assertThat(capture.lines()).as("plain reads log nothing").isEmpty();
            placeOrder(id); // logs "Order placed"
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> capture.lines().stream().anyMatch(l -> l.contains("Order placed")));
            List<String> lines = new ArrayList<>(capture.lines());
            assertThat(lines).isNotEmpty();
            for (String line : lines) {
                assertThat(line).as("one line").doesNotContain("\n");
                assertThat(parse(line).isObject()).as("a JSON object: %s", line).isTrue();
            }
        }
    }

    /** service.version comes from the pom (quarkus.application.version=${project.version}). */
    static String pomVersion() throws Exception {
        var doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new java.io.File("pom.xml"));
        String version = javax.xml.xpath.XPathFactory.newInstance().newXPath().evaluate("/project/version", doc).trim();
        assertThat(version).as("pom.xml <version>").isNotEmpty();
        return version;
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
        // Every bucket boundary of the README ("Telemetry the service emits"): 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5 s.
        assertThat(bucketBounds(body, "uri=\"/api/products/{id}\""))
                .containsExactly(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, Double.POSITIVE_INFINITY);
        // A plain client still gets the classic text format.
        assertThat(given().header("Accept", "text/plain").when().get(metrics).then().extract().contentType()).startsWith("text/plain");
    }

    @Test
    void businessPoolAndJvmMetricsAreExported() {
        long id = createProduct(uniqueSku("BM"), 100, 1);
        placeOrder(id); // placed, and takes the stock to zero
        placeOrder(id); // rejected
        asClient().contentType("application/json").body(Map.of("lines", List.of(Map.of("productId", 987654321L, "quantity", 1))))
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

    /** The {@code le} bounds of the first http_server_requests_seconds series whose labels contain {@code selector}. */
    static List<Double> bucketBounds(String exposition, String selector) {
        Matcher bucket = Pattern.compile("(?m)^http_server_requests_seconds_bucket\\{((?:\\w+=\"(?:[^\"\\\\]|\\\\.)*\",?)*)} ").matcher(exposition);
        String series = null;
        List<Double> bounds = new ArrayList<>();
        while (bucket.find()) {
            String labels = bucket.group(1);
            Matcher le = Pattern.compile("(?:^|,)le=\"([^\"]+)\"").matcher(labels);
            if (!labels.contains(selector) || !le.find()) {
                continue;
            }
            String others = labels.replace(le.group(0), "");
            if (series == null) {
                series = others;
            }
            if (series.equals(others)) {
                bounds.add("+Inf".equals(le.group(1)) ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1)));
            }
        }
        assertThat(bounds).as("buckets of a series matching %s", selector).isNotEmpty();
        return bounds;
    }

    private JsonNode parse(String line) {
        try {
            return json.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
