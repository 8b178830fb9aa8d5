package dev.shopwatch.platform;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.support.OpenApiContract;
import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.HttpMethod;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The published document itself (/q/openapi): every operation has its stable operationId, every error status is a
 * problem+json document with the Problem schema, servers and licence are declared, and exactly the operations the code
 * secures (@RolesAllowed) carry the one security scheme and the Unauthorized (401) and Forbidden (403) responses. What the responses must look like is
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

    @Test
    void exactlyTheSecuredOperationsDeclareTheSchemeAnd401And403() throws Exception {
        Map<String, Boolean> code = resourceMethods();
        assertThat(code.keySet()).as("the resource methods of the code are the document's operations").isEqualTo(operations.keySet());
        assertThat(code).as("operations that need a role (Contract A: writes)").containsValue(true);
        JsonNode schemes = document.at("/components/securitySchemes");
        List<String> names = new ArrayList<>();
        schemes.fieldNames().forEachRemaining(names::add);
        assertThat(names).as("components.securitySchemes: one scheme").hasSize(1);
        JsonNode scheme = schemes.get(names.get(0));
        assertThat(scheme.path("type").asText() + " " + scheme.path("scheme").asText().toLowerCase(java.util.Locale.ROOT))
                .as("the scheme: Authorization: Bearer <API key> (Contract A)").isEqualTo("http bearer");
        assertThat(document.has("security")).as("no document-wide security requirement: reads are public").isFalse();
        code.forEach((route, secured) -> {
            JsonNode op = operations.get(route);
            JsonNode responses = op.path("responses");
            if (secured) {
                assertThat(op.path("security")).as(route + " needs a role: its security requirement").hasSize(1);
                assertThat(op.path("security").get(0).has(names.get(0))).as(route + " requires " + names.get(0)).isTrue();
                assertThat(responses.path("401").path("$ref").asText()).as(route + " needs a role: 401")
                        .isEqualTo("#/components/responses/Unauthorized");
                assertThat(responses.path("403").path("$ref").asText()).as(route + " needs a role: 403")
                        .isEqualTo("#/components/responses/Forbidden");
            } else {
                assertThat(op.path("security").isEmpty()).as(route + " is public: no security requirement").isTrue();
                assertThat(responses.has("401") || responses.has("403")).as(route + " is public: no 401/403").isFalse();
            }
        });
    }

    /**
     * The routes of the compiled JAX-RS resource methods ("POST /api/products"), each with whether it needs a role:
     * {@code @RolesAllowed} on the method, or on its class and the method not {@code @PermitAll}.
     */
    static Map<String, Boolean> resourceMethods() throws Exception {
        Path classes = Path.of("target", "classes");
        Map<String, Boolean> routes = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(classes)) {
            files = walk.filter(f -> f.toString().endsWith(".class")).toList();
        }
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        for (Path file : files) {
            String name = classes.relativize(file).toString().replace(java.io.File.separatorChar, '.').replaceAll("\\.class$", "");
            Class<?> type = Class.forName(name, false, loader);
            jakarta.ws.rs.Path base = type.getAnnotation(jakarta.ws.rs.Path.class);
            if (base == null) {
                continue;
            }
            for (Method method : type.getDeclaredMethods()) {
                for (Annotation annotation : method.getAnnotations()) {
                    HttpMethod http = annotation.annotationType().getAnnotation(HttpMethod.class);
                    if (http == null) {
                        continue;
                    }
                    jakarta.ws.rs.Path sub = method.getAnnotation(jakarta.ws.rs.Path.class);
                    String path = ("/" + base.value() + (sub == null ? "" : "/" + sub.value())).replaceAll("/+", "/").replaceAll("(?<=.)/$", "");
                    boolean secured = method.isAnnotationPresent(RolesAllowed.class)
                            || type.isAnnotationPresent(RolesAllowed.class) && !method.isAnnotationPresent(PermitAll.class);
                    routes.put(http.value() + " " + path, secured);
                }
            }
        }
        return routes;
    }
}
