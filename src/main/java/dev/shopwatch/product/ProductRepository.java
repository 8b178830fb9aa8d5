package dev.shopwatch.product;

import dev.shopwatch.platform.DataAccessException;
import dev.shopwatch.platform.SampledJdbcTracing;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Products in PostgreSQL through plain JDBC: every statement is visible as written, and as a JDBC span. */
@ApplicationScoped
public class ProductRepository {

    static final String COLUMNS = "id, sku, name, description, price_cents, stock, created_at, updated_at";
    /** The search filter, served by the trigram indexes of migration V2; two patterns, bound by {@link #bindPattern}. */
    static final String SEARCH_FILTER = " WHERE name ILIKE ? ESCAPE '\\' OR sku ILIKE ? ESCAPE '\\'";
    /**
     * The same filter for a term without three letters or digits in a row. pg_trgm takes no trigram from such a
     * term, so its index would be read in full and every row rechecked: slower than reading the table. The
     * statements run with generic plans (application.properties), which cannot look at the term, so a short term
     * gets a statement of its own whose expressions ({@code || ''}: the same text, the same collation) no index
     * matches: the table is read once, which finds the page and counts the matches.
     */
    static final String SCAN_FILTER = " WHERE (name || '') ILIKE ? ESCAPE '\\' OR (sku || '') ILIKE ? ESCAPE '\\'";
    /** The column of a page's rows that holds the total: every product, or every match of a search ({@link #pageSql}). */
    static final String TOTAL = "total_matches";
    /** The number of products, kept in one row by the triggers of migration V4 (what count(*) would say). */
    static final String PRODUCT_COUNT = "SELECT products FROM product_count";
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String STRING_TOO_LONG = "22001";

    private final DataSource dataSource;

    ProductRepository(@SampledJdbcTracing.Traced DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public Product create(ProductRequest r) {
        String sql = "INSERT INTO product (sku, name, description, price_cents, stock) VALUES (?, ?, ?, ?, ?) RETURNING " + COLUMNS;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, r);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return map(rs);
            }
        } catch (SQLException e) {
            throw translate("create product", e, r.sku());
        }
    }

    public Optional<Product> find(long id) {
        String sql = "SELECT " + COLUMNS + " FROM product WHERE id = ?";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new DataAccessException("find product", e);
        }
    }

    /**
     * Products ordered by id; {@code q} matches a case-insensitive substring of the name or the SKU (served by the
     * trigram indexes of migration V2). Every page is one statement whose rows also carry the total
     * ({@link #pageSql}); only a page past the end, which has no row to carry it, asks for the total again.
     */
    public Page<Product> list(int page, int size, String q) {
        String filter = "";
        String pattern = null;
        if (q != null && !q.isBlank()) {
            filter = filterFor(q);
            pattern = "%" + q.trim().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
        }
        long offset = (long) page * size;
        try (Connection c = dataSource.getConnection()) {
            List<Product> items = new ArrayList<>();
            long matches = -1;
            try (PreparedStatement ps = c.prepareStatement(pageSql(filter))) {
                int i = bindPattern(ps, pattern);
                ps.setInt(i++, size);
                ps.setLong(i, offset);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(map(rs));
                        matches = rs.getLong(TOTAL);
                    }
                }
            }
            if (matches >= 0 || offset == 0) {
                return new Page<>(items, page, size, Math.max(matches, 0));
            }
            try (PreparedStatement ps = c.prepareStatement(filter.isEmpty() ? PRODUCT_COUNT : "SELECT count(*) FROM product" + filter)) {
                bindPattern(ps, pattern);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new Page<>(items, page, size, rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new DataAccessException("list products", e);
        }
    }

    public Optional<Product> update(long id, ProductRequest r) {
        String sql = "UPDATE product SET sku = ?, name = ?, description = ?, price_cents = ?, stock = ?, updated_at = now()"
                + " WHERE id = ? RETURNING " + COLUMNS;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, r);
            ps.setLong(6, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw translate("update product", e, r.sku());
        }
    }

    public boolean delete(long id) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("DELETE FROM product WHERE id = ?")) {
            ps.setLong(1, id);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new DataAccessException("delete product", e);
        }
    }

    /**
     * One page in id order. A search's rows also carry {@value #TOTAL}, the number of all its matches, counted by a
     * window over the same pass that finds them ({@code count(*) OVER ()} is computed before LIMIT and OFFSET): a
     * second statement would run the filter over the table again, which cost as much PostgreSQL CPU as the page itself
     * (pg_stat_statements in loadtest/README.md, "PostgreSQL per request"). With the trigram filter the matches are
     * collected first (MATERIALIZED: through the trigram indexes) and then ordered; left to itself the planner walks
     * the primary key in id order and filters every row, expecting an early match that a selective term does not
     * give, which reads the whole table. Without a filter the primary key is walked and the walk stops when the page
     * is full; the total is the number of products kept by migration V4's triggers, read once per statement (an
     * uncorrelated subquery), not a count(*) of the whole table, which grew with the catalog.
     */
    static String pageSql(String filter) {
        if (filter.isEmpty()) {
            return "SELECT " + COLUMNS + ", (" + PRODUCT_COUNT + ") AS " + TOTAL + " FROM product ORDER BY id LIMIT ? OFFSET ?";
        }
        String counted = COLUMNS + ", count(*) OVER () AS " + TOTAL;
        if (!filter.equals(SEARCH_FILTER)) {
            return "SELECT " + counted + " FROM product" + filter + " ORDER BY id LIMIT ? OFFSET ?";
        }
        return "WITH matches AS MATERIALIZED (SELECT " + counted + " FROM product" + filter + ")"
                + " SELECT " + COLUMNS + ", " + TOTAL + " FROM matches ORDER BY id LIMIT ? OFFSET ?";
    }

    /** The filter of a non-blank search term: the indexed one when a trigram index can serve the term. */
    static String filterFor(String q) {
        return hasTrigram(q) ? SEARCH_FILTER : SCAN_FILTER;
    }

    /** Whether pg_trgm can take a trigram from the term: three letters or digits in a row (it splits at anything else). */
    static boolean hasTrigram(String term) {
        int run = 0;
        for (int i = 0; i < term.length(); i = term.offsetByCodePoints(i, 1)) {
            run = Character.isLetterOrDigit(term.codePointAt(i)) ? run + 1 : 0;
            if (run == 3) {
                return true;
            }
        }
        return false;
    }

    static Product map(ResultSet rs) throws SQLException {
        return new Product(rs.getLong("id"), rs.getString("sku"), rs.getString("name"), rs.getString("description"),
                rs.getLong("price_cents"), rs.getInt("stock"), rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class));
    }

    private static void bind(PreparedStatement ps, ProductRequest r) throws SQLException {
        ps.setString(1, r.sku());
        ps.setString(2, r.name());
        ps.setString(3, r.description());
        ps.setLong(4, r.priceCents());
        ps.setInt(5, r.stock());
    }

    private static int bindPattern(PreparedStatement ps, String pattern) throws SQLException {
        if (pattern == null) {
            return 1;
        }
        ps.setString(1, pattern);
        ps.setString(2, pattern);
        return 3;
    }

    private static RuntimeException translate(String operation, SQLException e, String sku) {
        if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
            return new ProblemException(ProblemType.DUPLICATE_SKU, "A product with SKU '" + sku + "' already exists.");
        }
        if (STRING_TOO_LONG.equals(e.getSQLState())) {
            // Validation (ProductRequest) keeps every text within its column, and a test holds the two equal. Should
            // they drift, a value too long for its column is still the client's mistake: a 400, never a 500.
            return new ProblemException(ProblemType.VALIDATION, "A text value is longer than the catalog stores.");
        }
        return new DataAccessException(operation, e);
    }
}
