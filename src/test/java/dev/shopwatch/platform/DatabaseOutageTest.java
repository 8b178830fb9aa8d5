package dev.shopwatch.platform;

import static dev.shopwatch.support.Api.asAdmin;
import static dev.shopwatch.support.Api.asClient;
import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Stops the real PostgreSQL server under the running service: the API answers 503 problem+json with Retry-After
 * (the client gives up after 10 s, so a request that hung instead would fail the test), readiness goes DOWN while
 * liveness stays UP, and after the server returns the service recovers by itself.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class DatabaseOutageTest {

    private final String management = dev.shopwatch.support.Management.url("/");

    @Test
    void outageGives503AndReadinessDownThenRecoversWithoutRestart() {
        long id = createProduct(uniqueSku("OUT"), 100, 5);
        RestAssuredConfig bounded = RestAssured.config().httpClient(HttpClientConfig.httpClientConfig()
                .setParam("http.socket.timeout", 10_000).setParam("http.connection.timeout", 2_000));
        try {
            PostgresResource.stopServer();
            assertProblem(given().config(bounded).when().get("/api/products/" + id).then(), 503, "database-unavailable")
                    .header("Retry-After", equalTo("5"));
            assertProblem(asClient().config(bounded).contentType("application/json")
                    .body("{\"lines\":[{\"productId\":" + id + ",\"quantity\":1}]}")
                    .when().post("/api/orders").then(), 503, "database-unavailable");
            // The other operations answer the same (each documents its 503; OpenApiCoverageIT requires it seen).
            String product = "{\"sku\":\"" + uniqueSku("OUT") + "\",\"name\":\"Out\",\"priceCents\":1,\"stock\":1}";
            assertProblem(given().config(bounded).when().get("/api/products").then(), 503, "database-unavailable");
            assertProblem(given().config(bounded).when().get("/api/orders/1").then(), 503, "database-unavailable");
            assertProblem(asAdmin().config(bounded).contentType("application/json").body(product)
                    .when().post("/api/products").then(), 503, "database-unavailable");
            assertProblem(asAdmin().config(bounded).contentType("application/json").body(product)
                    .when().put("/api/products/" + id).then(), 503, "database-unavailable");
            assertProblem(asAdmin().config(bounded).when().delete("/api/products/" + id).then(), 503, "database-unavailable");
            given().config(bounded).when().get(management + "q/health/ready").then().statusCode(503).body("status", equalTo("DOWN"));
            given().config(bounded).when().get(management + "q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        } finally {
            PostgresResource.startServer();
        }
        Awaitility.await("service recovers once PostgreSQL is back").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> given().config(bounded).when().get("/api/products/" + id).then().statusCode(200));
        given().when().get(management + "q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        asClient().contentType("application/json").body("{\"lines\":[{\"productId\":" + id + ",\"quantity\":1}]}")
                .when().post("/api/orders").then().statusCode(201);
    }
}
