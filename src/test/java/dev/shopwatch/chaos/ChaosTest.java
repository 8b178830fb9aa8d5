package dev.shopwatch.chaos;

import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class ChaosTest {

    private final String chaos = dev.shopwatch.support.Management.url("/chaos");

    @AfterEach
    void reset() {
        given().when().delete(chaos).then().statusCode(200);
    }

    @Test
    void startsOffAndResetsWithDelete() {
        given().when().get(chaos).then().statusCode(200)
                .body("latencyMs", equalTo(0)).body("latencyRate", equalTo(0.0f)).body("errorRate", equalTo(0.0f));
        given().contentType(ContentType.JSON).body(Map.of("errorRate", 0.5)).when().put(chaos)
                .then().statusCode(200).body("errorRate", equalTo(0.5f)).body("latencyMs", equalTo(0));
        given().when().delete(chaos).then().statusCode(200).body("errorRate", equalTo(0.0f));
        given().when().get(chaos).then().body("errorRate", equalTo(0.0f));
    }

    @Test
    void errorRateOneFailsEveryApiCallWithAProblem() {
        long id = createProduct(uniqueSku("CH"), 1, 1);
        given().contentType(ContentType.JSON).body(Map.of("errorRate", 1.0)).when().put(chaos).then().statusCode(200);
        for (int i = 0; i < 5; i++) {
            assertProblem(given().when().get("/api/products/" + id).then(), 500, "injected-fault");
        }
        given().when().delete(chaos).then().statusCode(200);
        given().when().get("/api/products/" + id).then().statusCode(200);
    }

    @Test
    void latencyIsAddedToApiCalls() {
        long id = createProduct(uniqueSku("LAT"), 1, 1);
        given().contentType(ContentType.JSON).body(Map.of("latencyMs", 300, "latencyRate", 1.0)).when().put(chaos)
                .then().statusCode(200);
        long started = System.nanoTime();
        given().when().get("/api/products/" + id).then().statusCode(200);
        org.assertj.core.api.Assertions.assertThat((System.nanoTime() - started) / 1_000_000)
                .as("the injected delay was applied").isGreaterThanOrEqualTo(300);
    }

    @Test
    void latencyThenErrorAnswersTheProblemAfterTheDelay() {
        long id = createProduct(uniqueSku("LATERR"), 1, 1);
        given().contentType(ContentType.JSON).body(Map.of("latencyMs", 200, "latencyRate", 1.0, "errorRate", 1.0)).when().put(chaos)
                .then().statusCode(200);
        long started = System.nanoTime();
        assertProblem(given().when().get("/api/products/" + id).then(), 500, "injected-fault");
        org.assertj.core.api.Assertions.assertThat((System.nanoTime() - started) / 1_000_000)
                .as("the injected delay came first").isGreaterThanOrEqualTo(200);
    }

    @Test
    void putChangesOnlyTheFieldsItNames() {
        // README, Management port: "absent fields keep their value".
        given().contentType(ContentType.JSON).body(Map.of("latencyMs", 250, "latencyRate", 0.5, "errorRate", 0.25)).when().put(chaos)
                .then().statusCode(200).body("latencyMs", equalTo(250)).body("latencyRate", equalTo(0.5f)).body("errorRate", equalTo(0.25f));
        given().contentType(ContentType.JSON).body(Map.of("errorRate", 0.75)).when().put(chaos)
                .then().statusCode(200).body("latencyMs", equalTo(250)).body("latencyRate", equalTo(0.5f)).body("errorRate", equalTo(0.75f));
        given().contentType(ContentType.JSON).body(Map.of("latencyMs", 0)).when().put(chaos)
                .then().statusCode(200).body("latencyMs", equalTo(0)).body("latencyRate", equalTo(0.5f)).body("errorRate", equalTo(0.75f));
        given().contentType(ContentType.JSON).body("{}").when().put(chaos)
                .then().statusCode(200).body("latencyMs", equalTo(0)).body("latencyRate", equalTo(0.5f)).body("errorRate", equalTo(0.75f));
        given().when().get(chaos).then().statusCode(200)
                .body("latencyMs", equalTo(0)).body("latencyRate", equalTo(0.5f)).body("errorRate", equalTo(0.75f));
    }

    @Test
    void invalidSettingsAre400AndChangeNothing() {
        given().contentType(ContentType.JSON).body(Map.of("latencyMs", 123, "latencyRate", 0.25)).when().put(chaos).then().statusCode(200);
        assertProblem(given().contentType(ContentType.JSON).body(Map.of("errorRate", 1.5, "latencyMs", -1)).when().put(chaos).then(),
                400, "validation-error")
                .body("errors.field", hasItem("errorRate")).body("errors.field", hasItem("latencyMs"));
        assertProblem(given().contentType(ContentType.JSON).body("{\"errorRate\": ").when().put(chaos).then(), 400, "malformed-json");
        assertProblem(given().contentType(ContentType.JSON).body("{\"nonsense\": 1}").when().put(chaos).then(), 400, "malformed-json");
        assertProblem(given().contentType(ContentType.TEXT).body("errorRate=1").when().put(chaos).then(), 415, "unsupported-media-type");
        given().when().get(chaos).then().statusCode(200)
                .body("latencyMs", equalTo(123)).body("latencyRate", equalTo(0.25f)).body("errorRate", equalTo(0.0f));
    }

    @Test
    void chaosIsNotReachableOnTheApiPort() {
        assertProblem(given().when().get("/chaos").then(), 404, "not-found");
        assertProblem(given().contentType(ContentType.JSON).body(Map.of("errorRate", 1.0)).when().put("/chaos").then(), 404, "not-found");
    }
}
