package dev.shopwatch.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A real PostgreSQL with the service's migrations applied, for plain JUnit tests of the repositories: no Quarkus
 * application, so such a test starts in about a second and PIT (make mutation) can rerun it for every mutant of the
 * repositories.
 *
 * <p>One server per working tree, in {@value #DIR}. A JVM that finds it running (its port is line 4 of
 * {@code postmaster.pid}) reuses it; otherwise it starts one there and stops it when the JVM exits. PIT ends its
 * minion JVMs with {@code Runtime.halt}, which skips that stop: the next minion reuses the server instead of starting
 * another, and {@code make mutation} stops it at the end. A file lock keeps two JVMs from starting it at once.
 */
public final class PlainDatabase {

    static final String DIR = "target/plain-postgres";
    private static DataSource dataSource;

    private PlainDatabase() {
    }

    public static synchronized DataSource dataSource() {
        if (dataSource == null) {
            try {
                Path dir = Path.of(DIR).toAbsolutePath();
                Files.createDirectories(dir.getParent());
                try (FileChannel lockFile = FileChannel.open(Path.of(DIR + ".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
                    DataSource ds = running(dir);
                    if (ds == null) {
                        ds = start(dir);
                    }
                    // The service's own migrations (src/main/resources/db/migration), as Quarkus applies them at start.
                    Flyway.configure().dataSource(ds).load().migrate();
                    dataSource = ds;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dataSource;
    }

    /** The server already serving {@code dir}, or null. */
    private static DataSource running(Path dir) throws IOException {
        Path pid = dir.resolve("postmaster.pid");
        if (!Files.exists(pid)) {
            return null;
        }
        List<String> lines = Files.readAllLines(pid);
        if (lines.size() < 4) {
            return null;
        }
        DataSource ds = local(Integer.parseInt(lines.get(3).trim()));
        try (Connection c = ds.getConnection()) {
            return c.isValid(5) ? ds : null;
        } catch (SQLException notServing) {
            return null;
        }
    }

    private static DataSource start(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false)
                .setPort(port).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                postgres.close();
            } catch (IOException ignored) {
                // the JVM is exiting
            }
        }));
        return local(port);
    }

    private static DataSource local(int port) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {port});
        ds.setDatabaseName("postgres");
        ds.setUser("postgres");
        return ds;
    }
}
