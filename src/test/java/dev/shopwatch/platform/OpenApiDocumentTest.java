package dev.shopwatch.platform;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.support.OpenApiContract;
import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The published document itself (/q/openapi): every operation has its stable operationId, every error status is a
 * problem+json document with the Problem schema, servers and licence are declared. What the responses must look like is
 * the contract filter's part (support/ContractFilter.java), and OpenApiCoverageIT checks every documented status was
 * answered.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class OpenApiDocumentTest {

    /**
     * The operationIds generated clients name their methods after: renaming one breaks every client, so it is a
     * contract change, made here on purpose and announced (README, "The API").
     */
    static final Map<String, String> OPERATION_IDS = Map.of(
            "listProducts", "GET /api/products",
            "createProduct", "POST /api/products",
            "getProduct", "GET /api/products/{id}",
            "replaceProduct", "PUT /api/products/{id}",
            "deleteProduct", "DELETE /api/products/{id}",
            "placeOrder", "POST /api/orders",
            "getOrder", "GET /api/orders/{id}");

    private JsonNode document;
    private final Map<String, JsonNode> operations = new LinkedHashMap<>();

    @BeforeEach
    void read() throws Exception {
        String json = given().accept("application/json").when().get("/q/openapi?format=json").then().statusCode(200).extract().asString();
        document = new ObjectMapper().readTree(json);
        operations.putAll(OpenApiContract.operations(document));
        assertThat(operations).as("operations in the document").isNotEmpty();
    }

    @Test
    void isOpenApi31() {
        assertThat(document.path("openapi").asText()).startsWith("3.1.");
    }

    @Test
    void everyOperationHasItsStableOperationId() {
        Map<String, String> published = new LinkedHashMap<>();
        operations.forEach((route, op) -> {
            assertThat(op.path("operationId").asText("")).as("operationId of " + route).isNotBlank();
            assertThat(published.put(op.get("operationId").asText(), route)).as("operationId used twice: " + op.get("operationId")).isNull();
        });
        assertThat(published).as("operationIds and their routes (clients' method names)").isEqualTo(OPERATION_IDS);
    }

    @Test
    void everyErrorStatusIsAProblemDocument() {
        List<String> checked = new ArrayList<>();
        operations.forEach((route, op) -> op.get("responses").fields().forEachRemaining(r -> {
            if (r.getKey().startsWith("4") || r.getKey().startsWith("5")) {
                JsonNode response = r.getValue().has("$ref") ? document.at(r.getValue().get("$ref").asText().substring(1)) : r.getValue();
                JsonNode content = response.path("content");
                assertThat(content.path("application/problem+json").path("schema").path("$ref").asText())
                        .as(route + " " + r.getKey() + " is application/problem+json with the Problem schema").isEqualTo("#/components/schemas/Problem");
                assertThat(content.size()).as(route + " " + r.getKey() + ": problem+json only").isEqualTo(1);
                checked.add(route + " " + r.getKey());
            }
        }));
        assertThat(checked).as("error responses in the document").isNotEmpty();
    }

    @Test
    void serversAndLicenceAreDeclared() {
        assertThat(document.path("servers")).as("servers").hasSize(1);
        assertThat(document.path("servers").get(0).path("url").asText()).as("the server is the host that serves the document").isEqualTo("/");
        assertThat(document.at("/info/license/name").asText()).as("info.license.name").isNotBlank();
        assertThat(document.at("/info/license/url").asText()).as("info.license.url").startsWith("https://");
    }
}
