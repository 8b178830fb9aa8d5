package dev.shopwatch.platform;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** Port 8080 serves the API, the OpenAPI document and Swagger UI only; health, metrics and chaos live on 9000. */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class PortSplitTest {

    private final String management = dev.shopwatch.support.Management.url("/");

    @Test
    void managementEndpointsAreOnTheManagementPort() {
        given().when().get(management + "q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get(management + "q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get(management + "q/health/started").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get(management + "q/metrics").then().statusCode(200).body(containsString("http_server_requests_seconds"));
    }

    @Test
    void managementEndpointsAreNotOnTheApiPort() {
        for (String path : new String[] {"/q/health", "/q/health/live", "/q/health/ready", "/q/metrics", "/chaos"}) {
            given().when().get(path).then().statusCode(404).contentType(containsString("application/problem+json"));
        }
    }

    @Test
    void apiAndItsDocumentationAreOnTheApiPort() {
        given().when().get("/q/openapi").then().statusCode(200).body(containsString("/api/orders"));
        given().when().get("/q/swagger-ui/").then().statusCode(200).body(containsString("swagger"));
    }

    @Test
    void theApiIsNotOnTheManagementPort() {
        given().when().get(management + "api/products").then().statusCode(404);
    }
}
