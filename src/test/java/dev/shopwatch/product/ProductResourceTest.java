package dev.shopwatch.product;

import static dev.shopwatch.support.Api.asAdmin;
import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class ProductResourceTest {

    @Test
    void createReturns201WithLocationAndTheProduct() {
        String sku = uniqueSku("CRT");
        int id = asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", sku, "name", "Tea", "description", "Green", "priceCents", 450, "stock", 7))
                .when().post("/api/products")
                .then().statusCode(201)
                .extract().path("id");
        given().when().get("/api/products/" + id)
                .then().statusCode(200)
                .body("id", equalTo(id)).body("sku", equalTo(sku)).body("name", equalTo("Tea"))
                .body("description", equalTo("Green")).body("priceCents", equalTo(450)).body("stock", equalTo(7));
    }

    @Test
    void locationHeaderNamesTheNewProduct() {
        String sku = uniqueSku("LOC");
        var response = asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", sku, "name", "Cup", "priceCents", 0, "stock", 0))
                .when().post("/api/products").then().statusCode(201).extract();
        String location = response.header("Location");
        long id = response.jsonPath().getLong("id");
        org.assertj.core.api.Assertions.assertThat(location).endsWith("/api/products/" + id);
    }

    @Test
    void duplicateSkuIs409() {
        String sku = uniqueSku("DUP");
        createProduct(sku, 100, 1);
        assertProblem(asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", sku, "name", "Again", "priceCents", 100, "stock", 1))
                .when().post("/api/products").then(), 409, "duplicate-sku")
                .body("detail", containsString(sku));
    }

    @Test
    void unknownProductIs404() {
        assertProblem(given().when().get("/api/products/987654321").then(), 404, "not-found")
                .body("instance", equalTo("/api/products/987654321"));
    }

    @Test
    void invalidValuesAre400NamingEveryField() {
        assertProblem(asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", "", "name", "x", "priceCents", -1, "stock", -5))
                .when().post("/api/products").then(), 400, "validation-error")
                .body("errors.field", hasItems("sku", "priceCents", "stock"))
                .body("errors.field", not(hasItem("name")));
    }

    @Test
    void pricesAndStockHaveUpperBounds() {
        assertProblem(asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", uniqueSku("MAX"), "name", "x", "priceCents", 1_000_000_001L, "stock", 10_000_001))
                .when().post("/api/products").then(), 400, "validation-error")
                .body("errors.field", hasItems("priceCents", "stock"));
    }

    @Test
    void missingRequiredFieldsAre400() {
        assertProblem(asAdmin().contentType(ContentType.JSON).body("{\"name\":\"only a name\"}")
                .when().post("/api/products").then(), 400, "validation-error")
                .body("errors.field", hasItems("sku", "priceCents", "stock"));
    }

    @Test
    void unknownPropertiesAre400NoMassAssignment() {
        assertProblem(asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", uniqueSku("MA"), "name", "x", "priceCents", 1, "stock", 1, "id", 42))
                .when().post("/api/products").then(), 400, "unknown-property")
                .body("errors[0].field", equalTo("id"));
    }

    @Test
    void wrongTypeIs400NamingTheField() {
        assertProblem(asAdmin().contentType(ContentType.JSON)
                .body("{\"sku\":\"T-1\",\"name\":\"x\",\"priceCents\":\"cheap\",\"stock\":1}")
                .when().post("/api/products").then(), 400, "validation-error")
                .body("errors[0].field", equalTo("priceCents"));
    }

    @Test
    void malformedJsonIs400() {
        assertProblem(asAdmin().contentType(ContentType.JSON).body("{\"sku\": \"A\",")
                .when().post("/api/products").then(), 400, "malformed-json");
    }

    @Test
    void missingBodyIs400() {
        assertProblem(asAdmin().contentType(ContentType.JSON).when().post("/api/products").then(), 400, "validation-error");
    }

    @Test
    void wrongMediaTypeIs415() {
        assertProblem(asAdmin().contentType(ContentType.TEXT).body("sku=A")
                .when().post("/api/products").then(), 415, "unsupported-media-type");
    }

    @Test
    void bodyOverOneMebibyteIs413() {
        String big = "{\"name\":\"" + "x".repeat(1024 * 1024 + 10) + "\"}";
        assertProblem(asAdmin().contentType(ContentType.JSON).body(big)
                .when().post("/api/products").then(), 413, "payload-too-large");
    }

    @Test
    void unsupportedMethodIs405AndUnknownPathIs404() {
        assertProblem(given().when().patch("/api/products/1").then(), 405, "method-not-allowed");
        assertProblem(given().when().get("/no/such/path").then(), 404, "not-found");
        assertProblem(given().when().get("/api/products/not-a-number").then(), 404, "not-found");
    }

    @Test
    void listPagesAndCountsAllMatches() {
        String tag = uniqueSku("PG").toLowerCase();
        for (int i = 0; i < 5; i++) {
            createProduct(tag + "-" + i, 100 + i, 1);
        }
        given().queryParam("q", tag).queryParam("size", 2).queryParam("page", 0)
                .when().get("/api/products")
                .then().statusCode(200)
                .body("items", hasSize(2)).body("page", equalTo(0)).body("size", equalTo(2)).body("total", equalTo(5));
        given().queryParam("q", tag).queryParam("size", 2).queryParam("page", 2)
                .when().get("/api/products")
                .then().statusCode(200).body("items", hasSize(1)).body("total", equalTo(5));
    }

    @Test
    void searchIsCaseInsensitiveOnNameAndTreatsWildcardsLiterally() {
        String tag = uniqueSku("Srch");
        createProduct(tag.toUpperCase(), 100, 1);
        given().queryParam("q", tag.toLowerCase()).when().get("/api/products")
                .then().statusCode(200).body("total", equalTo(1));
        given().queryParam("q", "%").when().get("/api/products")
                .then().statusCode(200).body("total", equalTo(0));
    }

    @Test
    void listDefaultsToPage0Size20() {
        createProduct(uniqueSku("DEF"), 1, 1);
        given().when().get("/api/products")
                .then().statusCode(200).body("page", equalTo(0)).body("size", equalTo(20)).body("total", greaterThan(0));
    }

    @Test
    void pageSizeOver100Is400() {
        assertProblem(given().queryParam("size", 101).when().get("/api/products").then(), 400, "validation-error")
                .body("errors[0].field", equalTo("size"));
        given().queryParam("size", 100).when().get("/api/products").then().statusCode(200);
        assertProblem(given().queryParam("page", "-1").when().get("/api/products").then(), 400, "validation-error")
                .body("errors[0].field", equalTo("page"));
        assertProblem(given().queryParam("size", "many").when().get("/api/products").then(), 400, "validation-error");
    }

    @Test
    void putReplacesTheProduct() {
        long id = createProduct(uniqueSku("PUT"), 100, 1);
        String newSku = uniqueSku("PUT2");
        asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", newSku, "name", "Renamed", "priceCents", 999, "stock", 12))
                .when().put("/api/products/" + id)
                .then().statusCode(200).body("sku", equalTo(newSku)).body("name", equalTo("Renamed"))
                .body("priceCents", equalTo(999)).body("stock", equalTo(12));
        given().when().get("/api/products/" + id).then().statusCode(200).body("name", equalTo("Renamed"));
    }

    @Test
    void putOfUnknownIs404AndInvalidIs400AndDuplicateSkuIs409() {
        assertProblem(asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", uniqueSku("X"), "name", "x", "priceCents", 1, "stock", 1))
                .when().put("/api/products/987654321").then(), 404, "not-found");
        long id = createProduct(uniqueSku("PV"), 1, 1);
        assertProblem(asAdmin().contentType(ContentType.JSON).body(Map.of("sku", "", "name", "x", "priceCents", 1, "stock", 1))
                .when().put("/api/products/" + id).then(), 400, "validation-error");
        String taken = uniqueSku("TAKEN");
        createProduct(taken, 1, 1);
        assertProblem(asAdmin().contentType(ContentType.JSON).body(Map.of("sku", taken, "name", "x", "priceCents", 1, "stock", 1))
                .when().put("/api/products/" + id).then(), 409, "duplicate-sku");
    }

    @Test
    void deleteRemovesTheProduct() {
        long id = createProduct(uniqueSku("DEL"), 1, 1);
        asAdmin().when().delete("/api/products/" + id).then().statusCode(204);
        given().when().get("/api/products/" + id).then().statusCode(404);
        assertProblem(asAdmin().when().delete("/api/products/" + id).then(), 404, "not-found");
    }

    @Test
    void clientAskingForHtmlGetsA406ProblemNotAnHtmlPage() {
        // 500s (stack traces never shown) are ErrorDisclosureTest's; this is the content negotiation half.
        assertProblem(given().accept("text/html").when().get("/api/products/987654321").then(), 406, "not-acceptable")
                .body(not(containsString("<html")));
    }

    // ---- Limits (README, "The API"): at the limit the request passes, one over it is a 400 naming the field. ----

    private static String skuOfLength(int length) {
        String sku = uniqueSku("LIM");
        return sku + "x".repeat(length - sku.length());
    }

    private static Map<String, Object> product(String sku, String name, String description, long priceCents, long stock) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("sku", sku, "name", name, "priceCents", priceCents, "stock", stock));
        if (description != null) {
            body.put("description", description);
        }
        return body;
    }

    private static void assertCreated(Map<String, Object> body) {
        asAdmin().contentType(ContentType.JSON).body(body).when().post("/api/products").then().statusCode(201)
                .body("sku", equalTo(body.get("sku"))).body("name", equalTo(body.get("name")));
    }

    private static void assertRefused(Map<String, Object> body, String field) {
        assertProblem(asAdmin().contentType(ContentType.JSON).body(body).when().post("/api/products").then(), 400, "validation-error")
                .body("errors.field", equalTo(java.util.List.of(field)));
    }

    @Test
    void skuIsAtMost64Characters() {
        assertCreated(product(skuOfLength(64), "x", null, 1, 1));
        assertRefused(product(skuOfLength(65), "x", null, 1, 1), "sku");
    }

    @Test
    void nameIsAtMost200Characters() {
        assertCreated(product(uniqueSku("N"), "n".repeat(200), null, 1, 1));
        assertRefused(product(uniqueSku("N"), "n".repeat(201), null, 1, 1), "name");
    }

    @Test
    void descriptionIsAtMost2000Characters() {
        assertCreated(product(uniqueSku("D"), "x", "d".repeat(2000), 1, 1));
        assertRefused(product(uniqueSku("D"), "x", "d".repeat(2001), 1, 1), "description");
    }

    @Test
    void priceCentsIsFrom0To1000000000() {
        assertCreated(product(uniqueSku("P"), "x", null, 0, 1));
        assertCreated(product(uniqueSku("P"), "x", null, 1_000_000_000L, 1));
        assertRefused(product(uniqueSku("P"), "x", null, -1, 1), "priceCents");
        assertRefused(product(uniqueSku("P"), "x", null, 1_000_000_001L, 1), "priceCents");
    }

    @Test
    void stockIsFrom0To10000000() {
        assertCreated(product(uniqueSku("S"), "x", null, 1, 0));
        assertCreated(product(uniqueSku("S"), "x", null, 1, 10_000_000));
        assertRefused(product(uniqueSku("S"), "x", null, 1, -1), "stock");
        assertRefused(product(uniqueSku("S"), "x", null, 1, 10_000_001), "stock");
    }

    @Test
    void putHasTheSameLimits() {
        long id = createProduct(uniqueSku("PL"), 1, 1);
        asAdmin().contentType(ContentType.JSON).body(product(uniqueSku("PL"), "n".repeat(200), "d".repeat(2000), 1, 1))
                .when().put("/api/products/" + id).then().statusCode(200);
        assertProblem(asAdmin().contentType(ContentType.JSON).body(product(uniqueSku("PL"), "n".repeat(201), "d".repeat(2001), 1, 1))
                .when().put("/api/products/" + id).then(), 400, "validation-error")
                .body("errors.field", equalTo(java.util.List.of("description", "name")));
    }
}
