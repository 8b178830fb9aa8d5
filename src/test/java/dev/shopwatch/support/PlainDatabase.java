package dev.shopwatch.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * A real PostgreSQL with the service's migrations applied, for plain JUnit tests of the repositories: no Quarkus
 * application, so such a test starts in about a second and PIT (make mutation) can rerun it for every mutant of the
 * repositories. One server per JVM, started on first use and stopped when the JVM exits.
 */
public final class PlainDatabase {

    private static DataSource dataSource;

    private PlainDatabase() {
    }

    public static synchronized DataSource dataSource() {
        if (dataSource == null) {
            try {
                EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        postgres.close();
                    } catch (IOException ignored) {
                        // the JVM is exiting; the server's folder is a temporary one
                    }
                }));
                DataSource ds = postgres.getPostgresDatabase();
                // The service's own migrations (src/main/resources/db/migration), as Quarkus applies them at start.
                Flyway.configure().dataSource(ds).load().migrate();
                dataSource = ds;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dataSource;
    }
}
