package dev.shopwatch.platform;

import static dev.shopwatch.support.Api.assertProblem;
import static io.restassured.RestAssured.given;

import dev.shopwatch.support.Management;
import dev.shopwatch.support.PostgresResource;
import dev.shopwatch.support.TestKeys;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The answers every operation gives alike, asked of each one: a fault injected by the chaos controls (500), an Accept
 * header without application/json (406), and for the operations with a body, a body that is not JSON (415) or over
 * 1 MiB (413). The contract filter checks each answer against the operation's documented response, and
 * OpenApiCoverageIT requires each documented status to be seen.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class EveryOperationTest {

    /** One operation; {@code key} is the API key its role needs (null for the public reads), so each answer below is the one asked for, not 401. */
    private record Call(String method, String path, String body, String key) {
    }

    private static final String PRODUCT = "{\"sku\":\"EVERY-1\",\"name\":\"Every\",\"priceCents\":1,\"stock\":1}";
    private static final String ORDER = "{\"lines\":[{\"productId\":1,\"quantity\":1}]}";
    /** One call per documented operation (ids need not exist: each answer below comes before any look-up). */
    private static final List<Call> OPERATIONS = List.of(
            new Call("GET", "/api/products", null, null),
            new Call("POST", "/api/products", PRODUCT, TestKeys.admin()),
            new Call("GET", "/api/products/1", null, null),
            new Call("PUT", "/api/products/1", PRODUCT, TestKeys.admin()),
            new Call("DELETE", "/api/products/1", null, TestKeys.admin()),
            new Call("POST", "/api/orders", ORDER, TestKeys.client()),
            new Call("GET", "/api/orders/1", null, null));

    private static RequestSpecification keyed(Call call) {
        RequestSpecification spec = given();
        return call.key() == null ? spec : spec.header("Authorization", "Bearer " + call.key());
    }

    private static RequestSpecification json(Call call) {
        RequestSpecification spec = keyed(call);
        return call.body() == null ? spec : spec.contentType(ContentType.JSON).body(call.body());
    }

    @Test
    void everyOperationAnswersAnInjectedFaultWithAProblem() {
        String chaos = Management.url("/chaos");
        given().contentType(ContentType.JSON).body(Map.of("errorRate", 1.0)).when().put(chaos).then().statusCode(200);
        try {
            for (Call call : OPERATIONS) {
                assertProblem(json(call).when().request(call.method(), call.path()).then(), 500, "injected-fault");
            }
        } finally {
            given().when().delete(chaos).then().statusCode(200);
        }
    }

    @Test
    void everyOperationRefusesAnAcceptHeaderWithoutJson() {
        for (Call call : OPERATIONS) {
            assertProblem(json(call).accept("text/html").when().request(call.method(), call.path()).then(), 406, "not-acceptable");
        }
    }

    @Test
    void everyOperationWithABodyRefusesOtherMediaTypesAndOversizedBodies() {
        List<Call> withBody = OPERATIONS.stream().filter(c -> c.body() != null).toList();
        org.assertj.core.api.Assertions.assertThat(withBody).hasSize(3);
        String oversized = "{\"name\":\"" + "x".repeat(1024 * 1024) + "\"}";
        for (Call call : withBody) {
            assertProblem(keyed(call).contentType(ContentType.TEXT).body("sku=EVERY-1").when().request(call.method(), call.path()).then(),
                    415, "unsupported-media-type");
            assertProblem(keyed(call).contentType(ContentType.JSON).body(oversized).when().request(call.method(), call.path()).then(),
                    413, "payload-too-large");
        }
    }
}
