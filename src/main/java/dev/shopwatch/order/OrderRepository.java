package dev.shopwatch.order;

import dev.shopwatch.platform.DataAccessException;
import dev.shopwatch.platform.SampledJdbcTracing;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import javax.sql.DataSource;

/**
 * Orders in PostgreSQL. Placing an order is one transaction: every stock decrement is a conditional
 * {@code UPDATE ... WHERE stock >= ?}, which takes the row lock and re-checks the condition after any
 * concurrent writer commits, so racing orders can never oversell.
 */
@ApplicationScoped
public class OrderRepository {

    /** How a placement attempt ended. */
    public sealed interface Outcome {
        record Placed(Order order, List<Long> soldOut) implements Outcome {
        }

        record UnknownProducts(List<Long> productIds) implements Outcome {
        }

        record InsufficientStock(long productId, int requested) implements Outcome {
        }
    }

    private final DataSource dataSource;

    OrderRepository(@SampledJdbcTracing.Traced DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * @param quantities product id to quantity, sorted by id so that concurrent orders lock rows in the same
     *                   order and cannot deadlock
     */
    public Outcome place(SortedMap<Long, Integer> quantities) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Outcome outcome = placeInTransaction(c, quantities);
                if (outcome instanceof Outcome.Placed) {
                    c.commit();
                } else {
                    c.rollback();
                }
                return outcome;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                // Quietly: on a connection that just broke this would fail too, and replace the real cause (an
                // administrator's shutdown, 57P01) with "connection closed". The pool restores auto-commit anyway.
                autoCommitQuietly(c);
            }
        } catch (SQLException e) {
            throw new DataAccessException("place order", e);
        }
    }

    /**
     * The decrements come first: one that finds its row proves the product exists, so an order that can be placed
     * never asks which products exist. Only when a decrement finds no row (too little stock, or no such product) are
     * the order's products looked up, and any unknown one is named before the shortage, as when that check came
     * first. Checking first cost every order a statement that, with a generic plan, hashed the whole product table
     * (pg_stat_statements in loadtest/README.md, "PostgreSQL per request").
     */
    private Outcome placeInTransaction(Connection c, SortedMap<Long, Integer> quantities) throws SQLException {
        Map<Long, Long> prices = new HashMap<>();
        List<Long> soldOut = new ArrayList<>();
        String decrement = "UPDATE product SET stock = stock - ?, updated_at = now() WHERE id = ? AND stock >= ? RETURNING price_cents, stock";
        try (PreparedStatement ps = c.prepareStatement(decrement)) {
            for (Map.Entry<Long, Integer> e : quantities.entrySet()) {
                ps.setInt(1, e.getValue());
                ps.setLong(2, e.getKey());
                ps.setInt(3, e.getValue());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        List<Long> missing = missingProducts(c, quantities.keySet().toArray(Long[]::new));
                        return missing.isEmpty() ? new Outcome.InsufficientStock(e.getKey(), e.getValue())
                                : new Outcome.UnknownProducts(missing);
                    }
                    prices.put(e.getKey(), rs.getLong(1));
                    if (rs.getInt(2) == 0) {
                        soldOut.add(e.getKey());
                    }
                }
            }
        }
        long total = 0;
        for (Map.Entry<Long, Integer> e : quantities.entrySet()) {
            total = Math.addExact(total, Math.multiplyExact(prices.get(e.getKey()), e.getValue().longValue()));
        }
        long orderId;
        OffsetDateTime createdAt;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO customer_order (status, total_cents) VALUES (?, ?) RETURNING id, created_at")) {
            ps.setString(1, Order.CONFIRMED);
            ps.setLong(2, total);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                orderId = rs.getLong(1);
                createdAt = rs.getObject(2, OffsetDateTime.class);
            }
        }
        List<Order.Line> lines = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO order_line (order_id, line_no, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?, ?)")) {
            int lineNo = 0;
            for (Map.Entry<Long, Integer> e : quantities.entrySet()) {
                Order.Line line = new Order.Line(e.getKey(), e.getValue(), prices.get(e.getKey()));
                lines.add(line);
                ps.setLong(1, orderId);
                ps.setInt(2, ++lineNo);
                ps.setLong(3, line.productId());
                ps.setInt(4, line.quantity());
                ps.setLong(5, line.unitPriceCents());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return new Outcome.Placed(new Order(orderId, lines, total, Order.CONFIRMED, createdAt), soldOut);
    }

    /**
     * The ids, in the given (ascending) order, of which no product exists. The products that do exist are looked up
     * by primary key ({@code id = ANY}); an anti-join of the ids against the table was planned, generically, as a
     * hash of the whole table.
     */
    private static List<Long> missingProducts(Connection c, Long[] ids) throws SQLException {
        Array array = c.createArrayOf("bigint", ids);
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM product WHERE id = ANY (?)")) {
            ps.setArray(1, array);
            Set<Long> found = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getLong(1));
                }
            }
            List<Long> missing = new ArrayList<>();
            for (Long id : ids) {
                if (!found.contains(id)) {
                    missing.add(id);
                }
            }
            return missing;
        } finally {
            array.free();
        }
    }

    public Optional<Order> find(long id) {
        try (Connection c = dataSource.getConnection()) {
            long total;
            String status;
            OffsetDateTime createdAt;
            try (PreparedStatement ps = c.prepareStatement("SELECT total_cents, status, created_at FROM customer_order WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    total = rs.getLong(1);
                    status = rs.getString(2);
                    createdAt = rs.getObject(3, OffsetDateTime.class);
                }
            }
            List<Order.Line> lines = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT product_id, quantity, unit_price_cents FROM order_line WHERE order_id = ? ORDER BY line_no")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lines.add(new Order.Line(rs.getLong(1), rs.getInt(2), rs.getLong(3)));
                    }
                }
            }
            return Optional.of(new Order(id, lines, total, status, createdAt));
        } catch (SQLException e) {
            throw new DataAccessException("find order", e);
        }
    }

    private static void autoCommitQuietly(Connection c) {
        try {
            c.setAutoCommit(true);
        } catch (SQLException ignored) {
            // The connection is broken; the pool discards it.
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // The connection is broken; the pool discards it. The original failure is what matters.
        }
    }
}
