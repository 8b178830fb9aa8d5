package dev.shopwatch.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/** A connection of the test's own to the service's database, outside the service's pool (to set up faults). */
public final class Db {

    private Db() {
    }

    public static Connection connect() throws SQLException {
        Config config = ConfigProvider.getConfig();
        return DriverManager.getConnection(config.getValue("quarkus.datasource.jdbc.url", String.class),
                config.getValue("quarkus.datasource.username", String.class),
                config.getValue("quarkus.datasource.password", String.class));
    }

    public static void execute(String sql) throws SQLException {
        try (Connection c = connect(); var statement = c.createStatement()) {
            statement.execute(sql);
        }
    }
}
