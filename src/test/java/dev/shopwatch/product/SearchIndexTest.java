package dev.shopwatch.product;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The catalog search (?q=) is served by the trigram indexes of migration V2, not by reading the whole table:
 * PostgreSQL's own plan for the repository's statements must use both indexes. Sequential scans are switched off
 * for the EXPLAIN, so the plan shows whether an index able to answer a leading-wildcard ILIKE exists at all (the
 * primary key alone could only be walked in full with a filter), independent of the table's size.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class SearchIndexTest {

    @Inject
    DataSource dataSource;

    @BeforeEach
    void someRowsWithStatistics() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO product (sku, name, price_cents, stock)"
                    + " SELECT 'TRGM-' || g, 'Index item ' || md5(g::text), 100, 1 FROM generate_series(1, 2000) g"
                    + " ON CONFLICT (sku) DO NOTHING");
            s.execute("ANALYZE product");
        }
    }

    @Test
    void thePageOfASearchUsesTheTrigramIndexes() throws Exception {
        String plan = explain(ProductRepository.pageSql(ProductRepository.SEARCH_FILTER), true);
        assertThat(plan).contains("product_name_trgm_idx").contains("product_sku_trgm_idx");
    }

    @Test
    void theCountOfASearchUsesTheTrigramIndexes() throws Exception {
        String plan = explain("SELECT count(*) FROM product" + ProductRepository.SEARCH_FILTER, false);
        assertThat(plan).contains("product_name_trgm_idx").contains("product_sku_trgm_idx");
    }

    private String explain(String sql, boolean paged) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL enable_seqscan = off");
            }
            StringBuilder plan = new StringBuilder();
            try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
                ps.setString(1, "%c4ca4%");
                ps.setString(2, "%c4ca4%");
                if (paged) {
                    ps.setInt(3, 20);
                    ps.setLong(4, 0);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
            } finally {
                c.rollback();
            }
            assertThat(plan).as("EXPLAIN output").isNotEmpty();
            return plan.toString();
        }
    }
}
