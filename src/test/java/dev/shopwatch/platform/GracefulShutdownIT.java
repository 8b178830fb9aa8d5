package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.PackagedJar;
import dev.shopwatch.support.TestKeys;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM against the packaged jar (README, Design notes: "Graceful shutdown"): readiness turns DOWN at once, the
 * process keeps serving for {@code quarkus.shutdown.delay}, then drains: a request that chaos holds until after the
 * delay still completes with 200, and the process exits after that request but before delay + timeout. Runs the real
 * jar as a child process (Process.destroy() sends SIGTERM), on a real PostgreSQL. The bounds are correctness bounds
 * read from application.properties, not performance figures; the measured exit time is printed.
 */
class GracefulShutdownIT {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void sigtermDrainsInFlightRequestsAndExits() throws Exception {
        Properties config = new Properties();
        try (var in = Files.newInputStream(Path.of("src/main/resources/application.properties"))) {
            config.load(in);
        }
        Duration delay = duration(config, "quarkus.shutdown.delay");
        Duration timeout = duration(config, "quarkus.shutdown.timeout");
        // In flight from just before SIGTERM until 1.5 s after the delay: it must be drained, not cut.
        Duration inFlight = delay.plusMillis(1_500);
        assertThat(PackagedJar.JAR).as("packaged jar (mvn package)").exists();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            int api = freePort();
            int mgmt = freePort();
            ProcessBuilder pb = PackagedJar.builder(api, mgmt, pg);
            File log = File.createTempFile("shop-shutdown-", ".log");
            pb.redirectErrorStream(true).redirectOutput(log);
            Process service = pb.start();
            try {
                String base = "http://127.0.0.1:" + api;
                String management = "http://127.0.0.1:" + mgmt;
                waitUntil(() -> status(management + "/q/health/ready") == 200, Duration.ofMinutes(5), "service ready"); // ends when ready; the bound is for a loaded machine

                HttpResponse<String> created = send(HttpRequest.newBuilder(URI.create(base + "/api/products"))
                        .header("Content-Type", "application/json").header("Authorization", "Bearer " + TestKeys.admin())
                        .POST(HttpRequest.BodyPublishers.ofString("{\"sku\":\"SHUT-1\",\"name\":\"Slow\",\"priceCents\":1,\"stock\":1}")));
                assertThat(created.statusCode()).isEqualTo(201);
                String location = created.headers().firstValue("Location").orElseThrow();
                assertThat(send(HttpRequest.newBuilder(URI.create(management + "/chaos")).header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"latencyMs\":" + inFlight.toMillis() + ",\"latencyRate\":1.0}"))).statusCode())
                        .isEqualTo(200);

                CompletableFuture<HttpResponse<String>> slow = http.sendAsync(
                        HttpRequest.newBuilder(URI.create(location)).timeout(inFlight.plus(timeout)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                Thread.sleep(300); // the request is now in flight, waiting on the injected delay
                long sigterm = System.nanoTime();
                service.destroy(); // SIGTERM

                waitUntil(() -> status(management + "/q/health/ready") == 503, delay, "readiness DOWN after SIGTERM");
                HttpResponse<String> finished = slow.get(inFlight.plus(timeout).toMillis(), TimeUnit.MILLISECONDS);
                long answered = (System.nanoTime() - sigterm) / 1_000_000;
                assertThat(finished.statusCode()).as("in-flight request completes").isEqualTo(200);
                assertThat(finished.body()).contains("SHUT-1");
                // Answered (200, by the process itself) after the delay ended: the process neither exited at SIGTERM nor
                // cut the request when the delay was over.
                assertThat(answered).as("the request was still in flight when the delay ended (ms after SIGTERM)")
                        .isGreaterThan(delay.toMillis());
                Duration bound = delay.plus(timeout);
                assertThat(service.waitFor(bound.toMillis() + 10_000, TimeUnit.MILLISECONDS)).as("process exits").isTrue();
                long exited = (System.nanoTime() - sigterm) / 1_000_000;
                System.out.printf("graceful shutdown: delay %d ms, in-flight request answered %d ms and process exited %d ms after SIGTERM%n",
                        delay.toMillis(), answered, exited);
                assertThat(exited).as("exit (ms after SIGTERM) within shutdown delay + timeout").isLessThan(bound.toMillis());
            } finally {
                service.destroyForcibly();
            }
        }
    }

    /** "3S" and the like, as Quarkus writes durations in application.properties. */
    private static Duration duration(Properties config, String key) {
        String value = config.getProperty(key);
        assertThat(value).as(key).isNotNull();
        return Duration.parse("PT" + value.trim());
    }

    private int status(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for: " + what);
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
