package dev.shopwatch.support;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;

import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import io.restassured.response.ValidatableResponse;
import java.util.Map;
import java.util.UUID;

/** Small helpers shared by the API tests. */
public final class Api {

    private Api() {
    }

    /** A request with the admin key of {@link TestKeys}: catalog writes. */
    public static RequestSpecification asAdmin() {
        return given().header("Authorization", "Bearer " + TestKeys.admin());
    }

    /** A request with the client key of {@link TestKeys}: orders. */
    public static RequestSpecification asClient() {
        return given().header("Authorization", "Bearer " + TestKeys.client());
    }

    public static String uniqueSku(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Creates a product and returns its id. */
    public static long createProduct(String sku, long priceCents, int stock) {
        return asAdmin().contentType(ContentType.JSON)
                .body(Map.of("sku", sku, "name", "Product " + sku, "priceCents", priceCents, "stock", stock))
                .when().post("/api/products")
                .then().statusCode(201)
                .extract().jsonPath().getLong("id");
    }

    public static int stockOf(long productId) {
        return given().when().get("/api/products/" + productId).then().statusCode(200).extract().jsonPath().getInt("stock");
    }

    /** Asserts the RFC 9457 shape: media type and the five members, with the status repeated in the body. */
    public static ValidatableResponse assertProblem(ValidatableResponse response, int status, String typeSlug) {
        return response.statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("type", equalTo("https://shopwatch.dev/problems/" + typeSlug))
                .body("title", notNullValue())
                .body("status", equalTo(status))
                .body("detail", notNullValue())
                .body("instance", notNullValue());
    }
}
