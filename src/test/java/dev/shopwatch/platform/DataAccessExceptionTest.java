package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shopwatch.support.PlainDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL driver's own exceptions for the ways a connection fails, classified as the service does. Each
 * carries a class 08 SQLState on top of its network exception (53300 when the server refuses one more connection),
 * which is why the classification reads the SQLState
 * (DatabaseFailureTest and DatabaseOutageTest produce the same failures under the running service).
 */
class DataAccessExceptionTest {

    private static SQLException connect(String url) {
        return catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(url, "shop", "shop"));
    }

    private static void assertUnavailable(SQLException real) {
        assertThat((Throwable) real).as("the driver failed").isNotNull();
        assertThat(real.getSQLState()).as("SQLState of %s", real).startsWith("08");
        assertThat(new DataAccessException("connect", real).unavailable()).as("classified unavailable: %s", real).isTrue();
    }

    @Test
    void refusedConnectionIsUnavailable() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        assertUnavailable(connect("jdbc:postgresql://127.0.0.1:" + closed + "/shop?connectTimeout=2"));
    }

    @Test
    void serverClosingTheConnectionIsUnavailable() throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            Thread closer = new Thread(() -> {
                try (Socket s = server.accept()) {
                    s.getInputStream().read(new byte[8]);
                } catch (IOException ignored) {
                    // the client is gone as well
                }
            });
            closer.start();
            assertUnavailable(connect("jdbc:postgresql://127.0.0.1:" + server.getLocalPort() + "/shop?connectTimeout=2&socketTimeout=2"));
            closer.join(5_000);
        }
    }

    @Test
    void tooManyConnectionsIsUnavailable() throws Exception {
        // A role at its connection limit gets the same refusal as a server at max_connections: SQLState 53300.
        String role = "limited_" + Long.toHexString(System.nanoTime());
        DataSource db = PlainDatabase.dataSource();
        try (Connection admin = db.getConnection(); Statement s = admin.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'x' CONNECTION LIMIT 0");
            String url = admin.getMetaData().getURL();
            SQLException refused = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(url, role, "x"));
            assertThat((Throwable) refused).as("the driver failed").isNotNull();
            assertThat(refused.getSQLState()).as("SQLState of %s", refused).isEqualTo("53300");
            assertThat(new DataAccessException("connect", refused).unavailable()).as("classified unavailable: %s", refused).isTrue();
        }
    }

    @Test
    void unknownHostIsUnavailable() {
        // .invalid never resolves (RFC 6761): what a missing Service name or a DNS outage looks like to the driver.
        assertUnavailable(connect("jdbc:postgresql://shop-db.invalid:5432/shop?connectTimeout=2"));
    }
}
