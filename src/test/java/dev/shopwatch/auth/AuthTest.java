package dev.shopwatch.auth;

import static dev.shopwatch.support.Api.asAdmin;
import static dev.shopwatch.support.Api.asClient;
import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.shopwatch.support.ApiKeysResource;
import dev.shopwatch.support.LogCapture;
import dev.shopwatch.support.Management;
import dev.shopwatch.support.PostgresResource;
import dev.shopwatch.support.TestKeys;
import dev.shopwatch.support.Traces;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Contract A in the running service (README, "Authentication"): reads are public; catalog writes need the admin role,
 * orders the client role; 401 with {@code WWW-Authenticate} and 403 as problem+json, counted by reason; keys rotate
 * through the key file without a restart; no credential reaches a log line, a span or the metrics.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = ApiKeysResource.class, restrictToAnnotatedClass = false)
class AuthTest {

    private static final Map<String, Object> PRODUCT = Map.of("sku", "AUTH-1", "name", "Auth", "priceCents", 1, "stock", 1);

    @Inject
    InMemorySpanExporter spans;

    private static ValidatableResponse postProduct(RequestSpecification request, Object body) {
        return request.contentType(ContentType.JSON).body(body).when().post("/api/products").then();
    }

    private static RequestSpecification bearer(String key) {
        return given().header("Authorization", "Bearer " + key);
    }

    private static ValidatableResponse assertUnauthorized(ValidatableResponse response) {
        return assertProblem(response, 401, "unauthorized").header("WWW-Authenticate", "Bearer realm=\"shop\"");
    }

    /** The value of {@code shop_auth_failures_total{reason}} on /q/metrics. */
    static double failures(String reason) {
        String text = given().when().get(Management.url("/q/metrics")).then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("(?m)^shop_auth_failures_total\\{reason=\"" + reason + "\"} ([0-9.eE+]+)").matcher(text);
        assertThat(m.find()).as("shop_auth_failures_total{reason=\"%s\"} on /q/metrics", reason).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void validKeysWriteWithTheirRole() {
        long id = createProduct(uniqueSku("AUTHOK"), 100, 5);
        asAdmin().contentType(ContentType.JSON).body(Map.of("sku", uniqueSku("AUTHOK"), "name", "n", "priceCents", 1, "stock", 5))
                .when().put("/api/products/" + id).then().statusCode(200);
        asClient().contentType(ContentType.JSON).body(Map.of("lines", List.of(Map.of("productId", id, "quantity", 1))))
                .when().post("/api/orders").then().statusCode(201);
        asAdmin().when().delete("/api/products/" + id).then().statusCode(204);
    }

    @Test
    void readsArePublicEvenWithABadHeader() {
        long id = createProduct(uniqueSku("AUTHRD"), 1, 1);
        given().when().get("/api/products/" + id).then().statusCode(200);
        given().header("Authorization", "Bearer nonsense").when().get("/api/products?size=1").then().statusCode(200);
    }

    @Test
    void missingCredentialIs401WithChallengeAndCountedAsMissing() {
        double before = failures("missing");
        assertUnauthorized(postProduct(given(), PRODUCT));
        assertUnauthorized(given().contentType(ContentType.JSON).body(PRODUCT).when().put("/api/products/1").then());
        assertUnauthorized(given().when().delete("/api/products/1").then());
        assertUnauthorized(given().contentType(ContentType.JSON).body(Map.of("lines", List.of(Map.of("productId", 1, "quantity", 1))))
                .when().post("/api/orders").then());
        assertThat(failures("missing")).isEqualTo(before + 4);
    }

    @Test
    void authenticationComesBeforeTheBodyIsRead() {
        // An invalid body without a key is refused as unauthenticated, not validated: nothing is disclosed to anonymous callers.
        assertUnauthorized(postProduct(given(), Map.of("sku", "", "name", "")));
    }

    @Test
    void malformedHeaderIs401CountedAsMalformed() {
        double before = failures("malformed");
        String admin = TestKeys.admin();
        assertUnauthorized(postProduct(given().header("Authorization", "Basic " + admin), PRODUCT));
        assertUnauthorized(postProduct(given().header("Authorization", "Bearer"), PRODUCT));
        assertUnauthorized(postProduct(bearer("not-a-shop-key"), PRODUCT));
        assertUnauthorized(postProduct(bearer(admin.substring(0, admin.length() - 1)), PRODUCT));
        assertThat(failures("malformed")).isEqualTo(before + 4);
    }

    @Test
    void unknownKeyIs401CountedAsUnknownKey() {
        double before = failures("unknown_key");
        assertUnauthorized(postProduct(bearer(TestKeys.generate()), PRODUCT)).body("detail", equalTo("The API key is not valid."));
        assertThat(failures("unknown_key")).isEqualTo(before + 1);
    }

    @Test
    void wrongRoleIs403CountedAsForbidden() {
        double before = failures("forbidden");
        assertProblem(postProduct(asClient(), PRODUCT), 403, "forbidden");
        assertProblem(asClient().contentType(ContentType.JSON).body(PRODUCT).when().put("/api/products/1").then(), 403, "forbidden");
        assertProblem(asClient().when().delete("/api/products/1").then(), 403, "forbidden");
        assertProblem(asAdmin().contentType(ContentType.JSON).body(Map.of("lines", List.of(Map.of("productId", 1, "quantity", 1))))
                .when().post("/api/orders").then(), 403, "forbidden");
        assertThat(failures("forbidden")).isEqualTo(before + 4);
    }

    @Test
    void schemeIsCaseInsensitive() {
        postProduct(given().header("Authorization", "bearer " + TestKeys.admin()),
                Map.of("sku", uniqueSku("AUTHCI"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201);
    }

    /** Replaces the key file in one step, as a Kubernetes Secret update does (a rename, never a half-written file). */
    private static void replace(Path file, String content) throws Exception {
        Path next = Files.createTempFile(file.getParent(), "keys-", ".tmp");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void twoKeysAreValidDuringRotationAndARemovedKeyStopsWorkingWithoutRestart() throws Exception {
        Path file = Path.of(ConfigProvider.getConfig().getValue("shop.api-keys-file", String.class));
        String original = Files.readString(file);
        String next = TestKeys.generate();
        try {
            replace(file, original + "test-admin-next admin " + TestKeys.sha256Hex(next) + "\n");
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    postProduct(bearer(next), Map.of("sku", uniqueSku("ROT"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201));
            postProduct(asAdmin(), Map.of("sku", uniqueSku("ROT"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201);

            // The old admin key leaves the file: refused from the next reload on, the new one keeps working.
            replace(file, original.replace("test-admin admin", "# retired test-admin admin")
                    + "test-admin-next admin " + TestKeys.sha256Hex(next) + "\n");
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertUnauthorized(postProduct(asAdmin(), PRODUCT)));
            postProduct(bearer(next), Map.of("sku", uniqueSku("ROT"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201);

            // A broken file is not taken: the keys in force stay.
            replace(file, "test-admin-next admin not-a-hash\n");
            Thread.sleep(500);
            postProduct(bearer(next), Map.of("sku", uniqueSku("ROT"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201);
        } finally {
            replace(file, original);
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    postProduct(asAdmin(), Map.of("sku", uniqueSku("ROT"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201));
        }
    }

    @Test
    void noCredentialInLogsSpansOrMetrics() {
        String valid = TestKeys.admin();
        String unknown = TestKeys.generate();
        List<String> secrets = List.of(valid, TestKeys.sha256Hex(valid), unknown, TestKeys.sha256Hex(unknown),
                valid.substring("shop_".length()), unknown.substring("shop_".length()));
        Traces accepted = Traces.fresh();
        Traces refused = Traces.fresh();
        List<String> lines;
        try (LogCapture capture = new LogCapture()) {
            postProduct(bearer(valid).header("traceparent", accepted.traceparent()),
                    Map.of("sku", uniqueSku("LEAKCHK"), "name", "n", "priceCents", 1, "stock", 1)).statusCode(201);
            String body = assertUnauthorized(postProduct(bearer(unknown).header("traceparent", refused.traceparent()), PRODUCT))
                    .extract().asString();
            // A refused order is logged (one INFO line): a request with a key that the service does log about.
            asClient().contentType(ContentType.JSON)
                    .body(Map.of("lines", List.of(Map.of("productId", 987654321L, "quantity", 1)))).when().post("/api/orders")
                    .then().statusCode(422);
            assertThat(body).doesNotContain(unknown);
            lines = List.copyOf(capture.lines());
        }
        List<SpanData> acceptedSpans = accepted.await(spans, found -> found.stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));
        List<SpanData> refusedSpans = refused.await(spans, found -> found.stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));
        List<SpanData> all = List.copyOf(spans.getFinishedSpanItems());
        String metrics = given().when().get(Management.url("/q/metrics")).then().statusCode(200).extract().asString();

        assertThat(lines).as("log lines captured while keys were sent").isNotEmpty();
        assertThat(acceptedSpans).isNotEmpty();
        assertThat(refusedSpans).isNotEmpty();
        assertThat(metrics).contains("shop_auth_failures_total");
        for (String secret : secrets) {
            assertThat(lines).as("log lines").noneMatch(l -> l.contains(secret));
            assertThat(all).as("spans (name, attributes, events)").noneMatch(s -> s.toString().contains(secret));
            assertThat(metrics).as("/q/metrics").doesNotContain(secret);
        }
    }

    @Test
    void openApiDeclaresTheSchemeAndTheSecuredOperations() {
        var doc = given().accept(ContentType.JSON).when().get("/q/openapi?format=json").then().statusCode(200).extract().jsonPath();
        assertThat(doc.getMap("components.securitySchemes")).as("one security scheme").containsOnlyKeys("apiKey");
        assertThat(doc.getString("components.securitySchemes.apiKey.type")).isEqualTo("http");
        assertThat(doc.getString("components.securitySchemes.apiKey.scheme")).isEqualTo("bearer");
        for (String op : List.of("paths.'/api/products'.post", "paths.'/api/products/{id}'.put", "paths.'/api/products/{id}'.delete",
                "paths.'/api/orders'.post")) {
            assertThat(doc.getList(op + ".security")).as(op + ".security").isNotEmpty();
            assertThat(doc.getMap(op + ".responses.'401'")).as(op + " 401").containsEntry("$ref", "#/components/responses/Unauthorized");
            assertThat(doc.getMap(op + ".responses.'403'")).as(op + " 403").containsEntry("$ref", "#/components/responses/Forbidden");
        }
        assertThat(doc.getList("paths.'/api/products/{id}'.get.security")).as("reads are public").isNullOrEmpty();
    }
}
