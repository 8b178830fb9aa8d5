package dev.shopwatch.platform;

import static dev.shopwatch.support.Api.asClient;
import static dev.shopwatch.support.Api.assertProblem;
import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.stockOf;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.shopwatch.support.Db;
import dev.shopwatch.support.LogCapture;
import dev.shopwatch.support.PostgresResource;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.AgroalConnectionPoolConfiguration;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Each way the service tells "the database is unavailable" (README, Design notes: pool timeout, 57P0x, class 08)
 * produced for real under the running service; each answers 503 database-unavailable with Retry-After: 5. The server
 * going away (class 08) is DatabaseOutageTest's; a database error that is not about availability stays a 500
 * (ErrorDisclosureTest).
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class DatabaseFailureTest {

    @Inject
    AgroalDataSource dataSource;

    private static ValidatableResponse assertUnavailable(ValidatableResponse response) {
        return assertProblem(response, 503, "database-unavailable").header("Retry-After", equalTo("5"));
    }

    @Test
    void exhaustedPoolIs503AfterTheAcquisitionTimeout() throws Exception {
        long id = createProduct(uniqueSku("POOL"), 1, 1);
        AgroalConnectionPoolConfiguration pool = dataSource.getConfiguration().connectionPoolConfiguration();
        Duration configured = pool.acquisitionTimeout();
        assertThat(configured).as("quarkus.datasource.jdbc.acquisition-timeout").isEqualTo(Duration.ofSeconds(3));
        pool.setAcquisitionTimeout(Duration.ofMillis(500)); // the same code path, sooner
        List<Connection> held = new ArrayList<>();
        try (LogCapture capture = new LogCapture()) {
            for (int i = 0; i < pool.maxSize(); i++) {
                held.add(dataSource.getConnection());
            }
            assertUnavailable(given().when().get("/api/products/" + id).then());
            assertThat(capture.lines()).anySatisfy(l -> assertThat(l).contains("Database unavailable").contains("acquisition timeout"));
        } finally {
            for (Connection c : held) {
                c.close();
            }
            pool.setAcquisitionTimeout(configured);
        }
        given().when().get("/api/products/" + id).then().statusCode(200);
    }

    @Test
    void administratorShutdownOfTheConnectionDuringAReadIs503() throws Exception {
        long id = createProduct(uniqueSku("TERM"), 1, 1);
        try (Connection locker = Db.connect()) {
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("LOCK TABLE product IN ACCESS EXCLUSIVE MODE"); // the service's SELECT waits on it
            }
            CompletableFuture<ValidatableResponse> read = inBackground(() -> given().when().get("/api/products/" + id).then());
            terminateTheServiceBackendWaitingOnALock();
            assertUnavailable(read.get(20, TimeUnit.SECONDS));
            locker.rollback();
        }
        given().when().get("/api/products/" + id).then().statusCode(200);
    }

    @Test
    void administratorShutdownDuringAnOrderIs503AndTheLogKeepsTheCause() throws Exception {
        long id = createProduct(uniqueSku("TERMO"), 1, 3);
        try (Connection locker = Db.connect(); LogCapture capture = new LogCapture()) {
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("SELECT 1 FROM product WHERE id = " + id + " FOR UPDATE"); // the order's stock UPDATE waits on it
            }
            CompletableFuture<ValidatableResponse> order = inBackground(() -> asClient().contentType("application/json")
                    .body("{\"lines\":[{\"productId\":" + id + ",\"quantity\":1}]}").when().post("/api/orders").then());
            terminateTheServiceBackendWaitingOnALock();
            assertUnavailable(order.get(20, TimeUnit.SECONDS));
            locker.rollback();
            assertThat(capture.lines()).as("the log names the real cause, not the connection it left closed")
                    .anySatisfy(l -> assertThat(l).contains("Database unavailable").contains("terminating connection due to administrator command"));
        }
        assertThat(stockOf(id)).isEqualTo(3);
    }

    private static <T> CompletableFuture<T> inBackground(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call);
    }

    /** pg_terminate_backend, as an administrator (or a failover) would, of the shop connection stuck on a lock. */
    private static void terminateTheServiceBackendWaitingOnALock() throws Exception {
        try (Connection admin = Db.connect()) {
            Integer pid = Awaitility.await("a shop backend waiting on the lock").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(20)).until(() -> blockedShopBackend(admin), p -> p != null);
            try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_terminate_backend(" + pid + ")")) {
                assertThat(rs.next() && rs.getBoolean(1)).as("backend %s terminated", pid).isTrue();
            }
        }
    }

    private static Integer blockedShopBackend(Connection admin) throws Exception {
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'shop' AND wait_event_type = 'Lock'")) {
            return rs.next() ? rs.getInt(1) : null;
        }
    }
}
