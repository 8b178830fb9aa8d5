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
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The catalog search (?q=) is served by the trigram indexes of migration V2, not by reading the whole table:
 * PostgreSQL's own plan for the repository's statements must use both indexes. Sequential scans are switched off
 * for the EXPLAIN, so the plan shows whether an index able to answer a leading-wildcard ILIKE exists at all (the
 * primary key alone could only be walked in full with a filter), independent of the table's size. What keeps a
 * search's PostgreSQL CPU low besides (loadtest/README.md, "Benchmark"): the indexes have no pending list, the
 * service's connections use generic plans (no re-planning per search), and a term no trigram can serve is kept away
 * from the indexes; the answers are those of the plain ILIKE in every case.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class SearchIndexTest {

    @Inject
    DataSource dataSource;

    @Inject
    ProductRepository repository;

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

    @Test
    void theTrigramIndexesTakeRowsDirectlyWithoutAPendingList() throws Exception {
        for (String index : List.of("product_name_trgm_idx", "product_sku_trgm_idx")) {
            assertThat(queryOne("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = '" + index + "'"))
                    .as(index + " options").contains("fastupdate=off");
        }
    }

    @Test
    void theServiceConnectionsUseGenericPlans() throws Exception {
        assertThat(queryOne("SHOW plan_cache_mode")).isEqualTo("force_generic_plan");
    }

    @Test
    void aTermWithoutThreeLettersOrDigitsInARowIsKeptAwayFromTheTrigramIndexes() throws Exception {
        // Which terms have a trigram is ProductSearchFilterTest's; here, that such a term's statement reads no index.
        assertThat(ProductRepository.filterFor("ab")).isEqualTo(ProductRepository.SCAN_FILTER);
        assertThat(ProductRepository.filterFor("d0c6")).isEqualTo(ProductRepository.SEARCH_FILTER);
        String plan = explain(ProductRepository.pageSql(ProductRepository.SCAN_FILTER), true);
        assertThat(plan).doesNotContain("trgm");
    }

    @Test
    void everyTermGetsTheAnswerOfThePlainIlike() throws Exception {
        List<String> matching = List.of("ab", "c4ca4", "Index item", "tem", "-", "1", "TRGM-19");
        for (String term : matching) {
            List<Long> expected = ilike(term);
            assertThat(expected).as("rows matching '" + term + "'").isNotEmpty();
            Page<Product> page = repository.list(0, 100, term);
            assertThat(page.items().stream().map(Product::id).toList()).as("page for '" + term + "'")
                    .isEqualTo(expected.subList(0, Math.min(100, expected.size())));
            assertThat(page.total()).as("total for '" + term + "'").isEqualTo(expected.size());
        }
        for (String term : List.of("%", "_", "zz-no-such")) {
            assertThat(repository.list(0, 100, term).total()).as("total for '" + term + "'").isZero();
            assertThat(ilike(term)).isEmpty();
        }
    }

    /** The reference answer: every id whose name or SKU contains the term, case-insensitively, in id order. */
    private List<Long> ilike(String term) throws Exception {
        String literal = "'%' || replace(replace(replace(?, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'";
        List<Long> ids = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM product WHERE name ILIKE " + literal + " OR sku ILIKE " + literal + " ORDER BY id")) {
            ps.setString(1, term);
            ps.setString(2, term);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    private String queryOne(String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getString(1);
        }
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
