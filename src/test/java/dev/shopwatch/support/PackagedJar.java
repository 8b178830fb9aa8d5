package dev.shopwatch.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The packaged service (target/quarkus-app, `mvn package`) as a child process, on loopback, against a test PostgreSQL. */
public final class PackagedJar {

    public static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");

    private PackagedJar() {
    }

    /**
     * A process builder for {@code java -jar} with the API and management ports given (0: any free one), the database
     * of {@code pg}, the key file of {@link TestKeys} and tracing off; callers add their own environment and redirect the output.
     */
    public static ProcessBuilder builder(int apiPort, int managementPort, EmbeddedPostgres pg) {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString());
        pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(apiPort));
        pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        pb.environment().put("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort));
        pb.environment().put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
        pb.environment().put("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres");
        pb.environment().put("QUARKUS_DATASOURCE_USERNAME", "postgres");
        pb.environment().put("QUARKUS_DATASOURCE_PASSWORD", "postgres");
        pb.environment().put("QUARKUS_OTEL_SDK_DISABLED", "true");
        pb.environment().put("SHOP_API_KEYS_FILE", TestKeys.writeKeyFile().toString());
        return pb;
    }

    /** Starts {@code pb}, requires the service to stop by itself with a non-zero exit, and returns what it printed. */
    public static String startExpectingRefusal(ProcessBuilder pb) throws Exception {
        File log = File.createTempFile("shop-refused-", ".log");
        pb.redirectErrorStream(true).redirectOutput(log);
        Process service = pb.start();
        try {
            // Up to 5 min: a start on a loaded 2-core machine can take minutes before it gets to refuse.
            assertThat(service.waitFor(300, TimeUnit.SECONDS)).as("the service stops by itself").isTrue();
            String output = Files.readString(log.toPath());
            assertThat(service.exitValue()).as("exit code; output:%n%s", output).isNotZero();
            return output;
        } finally {
            service.destroyForcibly();
        }
    }
}
