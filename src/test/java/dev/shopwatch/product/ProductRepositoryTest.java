package dev.shopwatch.product;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shopwatch.platform.DataAccessException;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import dev.shopwatch.support.CountedStatements;
import dev.shopwatch.support.PlainDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The catalog's JDBC code on a real PostgreSQL with the service's migrations, without Quarkus (README, "The API":
 * paging with a total, case-insensitive search of name and SKU where % and _ are plain characters, 409 for a
 * duplicate SKU, a too-long text as 400). ProductResourceTest covers the same over HTTP; this test starts in a
 * second, so PIT (make mutation) reruns it for each mutant of ProductRepository. Each test makes its own rows,
 * marked with a fresh token that its searches select.
 */
class ProductRepositoryTest {

    private final ProductRepository products = new ProductRepository(PlainDatabase.dataSource());
    private final String token = "t" + UUID.randomUUID().toString().substring(0, 8);

    private Product create(String name) {
        return products.create(new ProductRequest(token + "-" + UUID.randomUUID().toString().substring(0, 6), name, "d", 250L, 3));
    }

    private static long countAll() throws Exception {
        try (Connection c = PlainDatabase.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM product")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void createFindUpdateDelete() {
        Product created = products.create(new ProductRequest(token, "Lamp", "A desk lamp", 1999L, 7));
        assertThat(created.id()).isPositive();
        assertThat(created).extracting(Product::sku, Product::name, Product::description, Product::priceCents, Product::stock)
                .containsExactly(token, "Lamp", "A desk lamp", 1999L, 7);
        assertThat(created.createdAt()).isNotNull();
        assertThat(products.find(created.id())).contains(created);

        Product updated = products.update(created.id(), new ProductRequest(token + "-2", "Lamp 2", null, 2999L, 0)).orElseThrow();
        assertThat(updated).extracting(Product::id, Product::sku, Product::name, Product::description, Product::priceCents, Product::stock)
                .containsExactly(created.id(), token + "-2", "Lamp 2", null, 2999L, 0);
        assertThat(updated.updatedAt()).isAfterOrEqualTo(created.updatedAt());
        assertThat(products.find(created.id())).contains(updated);

        assertThat(products.delete(created.id())).isTrue();
        assertThat(products.delete(created.id())).isFalse();
        assertThat(products.find(created.id())).isEmpty();
        assertThat(products.update(created.id(), new ProductRequest(token, "x", null, 1L, 1))).isEmpty();
    }

    @Test
    void duplicateSkuIsAConflictNamingIt() {
        products.create(new ProductRequest(token, "First", null, 1L, 1));
        Product other = create("Other");
        for (Runnable duplicate : List.<Runnable>of(() -> products.create(new ProductRequest(token, "Second", null, 1L, 1)),
                () -> products.update(other.id(), new ProductRequest(token, "Other", null, 1L, 1)))) {
            ProblemException e = catchThrowableOfType(ProblemException.class, duplicate::run);
            assertThat(e).isNotNull();
            assertThat(e.problemType()).isEqualTo(ProblemType.DUPLICATE_SKU);
            assertThat(e.getMessage()).isEqualTo("A product with SKU '" + token + "' already exists.");
        }
    }

    @Test
    void textLongerThanItsColumnIsAValidationProblemNotA500() {
        for (Runnable tooLong : List.<Runnable>of(() -> products.create(new ProductRequest(token, "n".repeat(201), null, 1L, 1)),
                () -> products.update(create("Short").id(), new ProductRequest(token, "Short", "d".repeat(2001), 1L, 1)))) {
            ProblemException e = catchThrowableOfType(ProblemException.class, tooLong::run);
            assertThat(e).isNotNull();
            assertThat(e.problemType()).isEqualTo(ProblemType.VALIDATION);
            assertThat(e.getMessage()).isEqualTo("A text value is longer than the catalog stores.");
        }
    }

    @Test
    void anyOtherDatabaseErrorIsAnInternalDataAccessFailure() {
        // A negative stock passes no validation here, so the table's CHECK refuses it (SQLState 23514).
        DataAccessException e = catchThrowableOfType(DataAccessException.class,
                () -> products.create(new ProductRequest(token, "Broken", null, 1L, -1)));
        assertThat(e).isNotNull();
        assertThat(e.unavailable()).isFalse();
        assertThat(e.getMessage()).startsWith("create product failed: ");
        DataAccessException onUpdate = catchThrowableOfType(DataAccessException.class,
                () -> products.update(create("Fine").id(), new ProductRequest(token, "Fine", null, -1L, 1)));
        assertThat(onUpdate).isNotNull();
        assertThat(onUpdate.getMessage()).startsWith("update product failed: ");
    }

    @Test
    void pagesOfASearchCarryTheTotalOfAllMatches() {
        List<Long> ids = List.of(create("a").id(), create("b").id(), create("c").id(), create("d").id(), create("e").id());
        Page<Product> first = products.list(0, 2, token);
        assertThat(first.items()).extracting(Product::id).containsExactly(ids.get(0), ids.get(1));
        assertThat(first).extracting(Page::page, Page::size, Page::total).containsExactly(0, 2, 5L);
        assertThat(products.list(1, 2, token).items()).extracting(Product::id).containsExactly(ids.get(2), ids.get(3));
        Page<Product> last = products.list(2, 2, token);
        assertThat(last.items()).extracting(Product::id).containsExactly(ids.get(4));
        assertThat(last.total()).isEqualTo(5);
        Page<Product> beyond = products.list(3, 2, token);
        assertThat(beyond.items()).isEmpty();
        assertThat(beyond.total()).as("an empty page after the last still counts the matches").isEqualTo(5);
        assertThat(products.list(0, 5, token).total()).as("a full first page").isEqualTo(5);
        assertThat(products.list(0, 10, token).total()).as("a partial first page").isEqualTo(5);
        assertThat(products.list(1, 4, token).total()).as("a partial later page").isEqualTo(5);
        assertThat(products.list(0, 3, "no-such-" + token).total()).isZero();
    }

    @Test
    void aSearchReadsItsPageAndItsTotalInOneStatement() {
        List<Long> ids = List.of(create("a").id(), create("b").id(), create("c").id(), create("d").id(), create("e").id());
        CountedStatements statements = new CountedStatements(PlainDatabase.dataSource());
        ProductRepository counted = new ProductRepository(statements.dataSource());
        // A full page, a later full page and the partial last page: each one statement, with the exact total.
        for (int page = 0; page < 3; page++) {
            Page<Product> p = counted.list(page, 2, token);
            assertThat(p.items()).extracting(Product::id).containsExactlyElementsOf(ids.subList(2 * page, Math.min(5, 2 * page + 2)));
            assertThat(p.total()).as("total of page %d", page).isEqualTo(5);
            assertThat(statements.take()).as("statements for page %d of a search", page).isEqualTo(1);
        }
        // A term too short for a trigram (its own filter, SCAN_FILTER): one statement too.
        assertThat(counted.list(0, 1, "-").total()).isGreaterThanOrEqualTo(5);
        assertThat(statements.take()).as("statements for a short term's page").isEqualTo(1);
    }

    @Test
    void aListWithoutASearchReadsItsPageAndTheNumberOfProductsInOneStatement() throws Exception {
        create("one");
        create("two");
        CountedStatements statements = new CountedStatements(PlainDatabase.dataSource());
        ProductRepository counted = new ProductRepository(statements.dataSource());
        long before = countAll();
        Page<Product> page = counted.list(0, 1, null);
        assertThat(statements.take()).as("statements for a full page without a search").isEqualTo(1);
        assertThat(page.items()).hasSize(1);
        // Another JVM (PIT's second minion) may add rows meanwhile: the total lies between two counts.
        assertThat(page.total()).isBetween(before, countAll());
        Page<Product> beyond = counted.list(Integer.MAX_VALUE / 2, 2, null);
        assertThat(beyond.items()).isEmpty();
        assertThat(beyond.total()).as("an empty page after the last still counts the products").isBetween(before, countAll());
    }

    @Test
    void theTotalOfAListWithoutASearchIsReadNotCounted() throws Exception {
        StringBuilder plan = new StringBuilder();
        try (Connection c = PlainDatabase.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("EXPLAIN " + ProductRepository.pageSql(""))) {
            ps.setInt(1, 20);
            ps.setLong(2, 0);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
        }
        // The kept number (migration V4), not an aggregate over the product table, which grows with the catalog.
        assertThat(plan.toString()).as("plan of a page without a search").contains("product_count").doesNotContain("Aggregate");
    }

    @Test
    void theNumberOfProductsFollowsInsertsDeletesAndTruncate() throws Exception {
        try (Connection c = PlainDatabase.dataSource().getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                // Inside one transaction, so no other writer moves either figure; rolled back at the end.
                s.execute("LOCK TABLE product IN SHARE ROW EXCLUSIVE MODE");
                assertThat(kept(s)).as("after the migration").isEqualTo(counted(s));
                s.execute("INSERT INTO product (sku, name, price_cents, stock) SELECT '" + token + "-' || g, 'n', 1, 1"
                        + " FROM generate_series(1, 3) g");
                assertThat(kept(s)).as("after inserting three in one statement").isEqualTo(counted(s));
                s.execute("DELETE FROM product WHERE sku IN ('" + token + "-1', '" + token + "-2')");
                assertThat(kept(s)).as("after deleting two in one statement").isEqualTo(counted(s));
                s.execute("DELETE FROM product WHERE sku = 'no-such-" + token + "'");
                assertThat(kept(s)).as("after deleting none").isEqualTo(counted(s));
                s.execute("TRUNCATE product");
                assertThat(kept(s)).as("after truncate").isZero();
            } finally {
                c.rollback();
            }
        }
    }

    private static long kept(Statement s) throws Exception {
        try (ResultSet rs = s.executeQuery(ProductRepository.PRODUCT_COUNT)) {
            assertThat(rs.next()).as("the row of product_count").isTrue();
            return rs.getLong(1);
        }
    }

    private static long counted(Statement s) throws Exception {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM product")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void searchIsCaseInsensitiveOverNameAndSkuAndTrimmed() {
        Product byName = products.create(new ProductRequest("SKU-" + UUID.randomUUID(), "Blue " + token.toUpperCase() + " mug", null, 1L, 1));
        Product bySku = products.create(new ProductRequest(token + "-sku", "Unrelated name", null, 1L, 1));
        assertThat(products.list(0, 10, "  " + token + "  ").items()).extracting(Product::id)
                .containsExactly(byName.id(), bySku.id());
    }

    @Test
    void percentUnderscoreAndBackslashAreLiteralInASearch() {
        Product percent = create(token + "%off");
        Product underscore = create(token + "_x");
        Product backslash = create(token + "\\y");
        create(token + "zoff");
        create(token + "zx");
        create(token + "zy");
        assertThat(products.list(0, 10, token + "%").items()).extracting(Product::id).containsExactly(percent.id());
        assertThat(products.list(0, 10, token + "_").items()).extracting(Product::id).containsExactly(underscore.id());
        assertThat(products.list(0, 10, token + "\\").items()).extracting(Product::id).containsExactly(backslash.id());
    }

    @Test
    void withoutASearchEveryProductIsListedInIdOrder() throws Exception {
        create("one");
        create("two");
        for (String q : new String[] {null, "", "   "}) {
            // Another JVM (PIT's second minion) may add rows meanwhile: the total lies between two counts.
            long before = countAll();
            Page<Product> page = products.list(0, 1, q);
            assertThat(page.items()).hasSize(1);
            assertThat(page.total()).as("q=%s", q).isBetween(before, countAll());
        }
        Page<Product> all = products.list(0, 100, null);
        assertThat(all.items()).extracting(Product::id).isSorted();
        assertThat(all.items()).hasSizeGreaterThanOrEqualTo(2);
    }
}
