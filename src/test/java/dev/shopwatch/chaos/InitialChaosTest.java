package dev.shopwatch.chaos;

import static dev.shopwatch.support.Api.assertProblem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import dev.shopwatch.support.Management;
import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A service started with faults configured (README, "Environment variables the service reads": SHOP_CHAOS_*) injects
 * them from its first request on, reports them on GET /chaos, and DELETE /chaos still switches them off. One test
 * method: a profile restarts Quarkus, and its settings make every API call fail until the reset.
 */
@QuarkusTest
@TestProfile(InitialChaosTest.FaultyAtStart.class)
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class InitialChaosTest {

    public static class FaultyAtStart implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("shop.chaos.error-rate", "1.0", "shop.chaos.latency-ms", "250", "shop.chaos.latency-rate", "1.0");
        }
    }

    @Test
    void faultsFromTheConfigurationApplyFromTheFirstRequestUntilReset() {
        String chaos = Management.url("/chaos");
        given().when().get(chaos).then().statusCode(200)
                .body("latencyMs", equalTo(250)).body("latencyRate", equalTo(1.0f)).body("errorRate", equalTo(1.0f));
        long started = System.nanoTime();
        assertProblem(given().when().get("/api/products?size=1").then(), 500, "injected-fault");
        org.assertj.core.api.Assertions.assertThat((System.nanoTime() - started) / 1_000_000)
                .as("the configured delay was applied").isGreaterThanOrEqualTo(250);
        given().when().delete(chaos).then().statusCode(200).body("errorRate", equalTo(0.0f));
        given().when().get("/api/products?size=1").then().statusCode(200);
    }
}
