package dev.shopwatch.order;

import static dev.shopwatch.support.Api.asClient;
import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.stockOf;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class OrderResourceTest {

    static Map<String, Object> order(Object... productIdQuantityPairs) {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (int i = 0; i < productIdQuantityPairs.length; i += 2) {
            lines.add(Map.of("productId", productIdQuantityPairs[i], "quantity", productIdQuantityPairs[i + 1]));
        }
        return Map.of("lines", lines);
    }

    @Test
    void placingAnOrderReturns201AndTakesStock() {
        long a = createProduct(uniqueSku("OA"), 250, 10);
        long b = createProduct(uniqueSku("OB"), 1_000, 3);
        var created = asClient().contentType(ContentType.JSON).body(order(a, 2, b, 3))
                .when().post("/api/orders")
                .then().statusCode(201)
                .body("id", notNullValue())
                .body("lines", hasSize(2))
                .body("lines.productId", hasItems((int) a, (int) b))
                .body("totalCents", equalTo(2 * 250 + 3 * 1_000))
                .body("status", equalTo("CONFIRMED"))
                .body("createdAt", notNullValue())
                .extract();
        assertThat(created.header("Location")).endsWith("/api/orders/" + created.jsonPath().getLong("id"));
        assertThat(stockOf(a)).isEqualTo(8);
        assertThat(stockOf(b)).isZero();
        given().when().get("/api/orders/" + created.jsonPath().getLong("id"))
                .then().statusCode(200).body("totalCents", equalTo(3_500)).body("lines", hasSize(2));
    }

    @Test
    void repeatedLinesForOneProductAreAddedUp() {
        long a = createProduct(uniqueSku("REP"), 100, 5);
        asClient().contentType(ContentType.JSON).body(order(a, 2, a, 3))
                .when().post("/api/orders").then().statusCode(201).body("totalCents", equalTo(500));
        assertThat(stockOf(a)).isZero();
    }

    @Test
    void insufficientStockIs409AndChangesNothing() {
        long plenty = createProduct(uniqueSku("PL"), 100, 50);
        long scarce = createProduct(uniqueSku("SC"), 100, 1);
        assertProblem(asClient().contentType(ContentType.JSON).body(order(plenty, 5, scarce, 2))
                .when().post("/api/orders").then(), 409, "insufficient-stock");
        assertThat(stockOf(plenty)).as("the first line's stock was given back").isEqualTo(50);
        assertThat(stockOf(scarce)).isEqualTo(1);
    }

    @Test
    void unknownProductIs422AndChangesNothing() {
        long known = createProduct(uniqueSku("KN"), 100, 5);
        assertProblem(asClient().contentType(ContentType.JSON).body(order(known, 1, 987654321L, 1))
                .when().post("/api/orders").then(), 422, "unknown-product");
        assertThat(stockOf(known)).isEqualTo(5);
    }

    @Test
    void invalidOrdersAre400NamingTheField() {
        long a = createProduct(uniqueSku("INV"), 100, 5);
        assertProblem(asClient().contentType(ContentType.JSON).body(order(a, 0))
                .when().post("/api/orders").then(), 400, "validation-error")
                .body("errors[0].field", equalTo("lines[0].quantity"));
        assertProblem(asClient().contentType(ContentType.JSON).body(Map.of("lines", List.of()))
                .when().post("/api/orders").then(), 400, "validation-error")
                .body("errors[0].field", equalTo("lines"));
        assertProblem(asClient().contentType(ContentType.JSON).body("{\"lines\":[{\"productId\":1}]}")
                .when().post("/api/orders").then(), 400, "validation-error")
                .body("errors[0].field", equalTo("lines[0].quantity"));
        assertProblem(asClient().contentType(ContentType.JSON).body("{\"lines\":[{\"productId\":1,\"quantity\":1,\"priceCents\":0}]}")
                .when().post("/api/orders").then(), 400, "unknown-property");
        assertThat(stockOf(a)).isEqualTo(5);
    }

    // ---- Limits (README, "The API"): 1-50 lines, quantity 1-10 000; one over is a 400 naming the field. ----

    private static Map<String, Object> linesOf(long productId, int count, int quantity) {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            lines.add(Map.of("productId", productId, "quantity", quantity));
        }
        return Map.of("lines", lines);
    }

    @Test
    void anOrderHasAtMost50Lines() {
        long a = createProduct(uniqueSku("L50"), 1, 200);
        asClient().contentType(ContentType.JSON).body(linesOf(a, 50, 1)).when().post("/api/orders")
                .then().statusCode(201).body("totalCents", equalTo(50));
        assertProblem(asClient().contentType(ContentType.JSON).body(linesOf(a, 51, 1)).when().post("/api/orders").then(),
                400, "validation-error")
                .body("errors.field", equalTo(List.of("lines")));
        assertThat(stockOf(a)).isEqualTo(150);
    }

    @Test
    void aQuantityIsFrom1To10000() {
        long a = createProduct(uniqueSku("Q"), 1, 30_002);
        asClient().contentType(ContentType.JSON).body(order(a, 10_000)).when().post("/api/orders").then().statusCode(201);
        asClient().contentType(ContentType.JSON).body(order(a, 1)).when().post("/api/orders").then().statusCode(201);
        assertProblem(asClient().contentType(ContentType.JSON).body(order(a, 1, a, 10_001)).when().post("/api/orders").then(),
                400, "validation-error")
                .body("errors.field", equalTo(List.of("lines[1].quantity")));
        assertProblem(asClient().contentType(ContentType.JSON).body(order(a, 0)).when().post("/api/orders").then(),
                400, "validation-error")
                .body("errors.field", equalTo(List.of("lines[0].quantity")));
        assertThat(stockOf(a)).isEqualTo(20_001);
    }

    @Test
    void unknownOrderIs404() {
        assertProblem(given().when().get("/api/orders/987654321").then(), 404, "not-found");
    }

    @Test
    void racingOrdersNeverOversell() throws Exception {
        long hot = createProduct(uniqueSku("HOT"), 100, 10);
        int racers = 20;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                Callable<Integer> racer = () -> {
                    start.await();
                    return asClient().contentType(ContentType.JSON).body(order(hot, 1))
                            .when().post("/api/orders").then().extract().statusCode();
                };
                results.add(pool.submit(racer));
            }
            start.countDown();
            int created = 0;
            int conflicts = 0;
            for (Future<Integer> f : results) {
                int status = f.get();
                if (status == 201) {
                    created++;
                } else if (status == 409) {
                    conflicts++;
                }
            }
            assertThat(created).as("orders placed").isEqualTo(10);
            assertThat(conflicts).as("orders refused for stock").isEqualTo(10);
            assertThat(stockOf(hot)).isZero();
        } finally {
            pool.shutdownNow();
        }
    }
}
