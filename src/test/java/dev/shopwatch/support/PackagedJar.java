package dev.shopwatch.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;

/** The packaged service (target/quarkus-app, `mvn package`) as a child process, on loopback, against a test PostgreSQL. */
public final class PackagedJar {

    public static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");

    private PackagedJar() {
    }

    /**
     * A process builder for {@code java -jar} with the API and management ports given (0: any free one), the database
     * of {@code pg} and tracing off; callers add their own environment and redirect the output.
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
        return pb;
    }
}
