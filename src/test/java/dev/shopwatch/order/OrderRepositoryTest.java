package dev.shopwatch.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shopwatch.support.CountedStatements;
import dev.shopwatch.support.PlainDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Placing and reading orders on a real PostgreSQL with the service's migrations, without Quarkus (README, "The
 * API": one transaction, stock taken or nothing changed, unit prices kept, unknown products named). The racing
 * orders and the HTTP answers are OrderResourceTest's; this test starts in a second, so PIT (make mutation) reruns
 * it for each mutant of OrderRepository.
 */
class OrderRepositoryTest {

    private final DataSource db = PlainDatabase.dataSource();
    private final OrderRepository orders = new OrderRepository(db);

    private long product(long priceCents, int stock) throws Exception {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO product (sku, name, price_cents, stock) VALUES (?, 'p', ?, ?) RETURNING id")) {
            ps.setString(1, "ORD-" + UUID.randomUUID());
            ps.setLong(2, priceCents);
            ps.setInt(3, stock);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private int stock(long id) throws Exception {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT stock FROM product WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static SortedMap<Long, Integer> quantities(long... productAndQuantity) {
        SortedMap<Long, Integer> q = new TreeMap<>();
        for (int i = 0; i < productAndQuantity.length; i += 2) {
            q.put(productAndQuantity[i], (int) productAndQuantity[i + 1]);
        }
        return q;
    }

    private static OrderRepository.Outcome.Placed placed(OrderRepository.Outcome outcome) {
        assertThat(outcome).isInstanceOf(OrderRepository.Outcome.Placed.class);
        return (OrderRepository.Outcome.Placed) outcome;
    }

    @Test
    void placedOrderTakesStockKeepsPricesAndNamesWhatSoldOut() throws Exception {
        long lamp = product(1999, 5);
        long mug = product(450, 2);
        OrderRepository.Outcome.Placed p = placed(orders.place(quantities(lamp, 2, mug, 2)));
        Order order = p.order();
        assertThat(order.id()).isPositive();
        assertThat(order.status()).isEqualTo(Order.CONFIRMED);
        assertThat(order.createdAt()).isNotNull();
        assertThat(order.lines()).containsExactly(new Order.Line(lamp, 2, 1999), new Order.Line(mug, 2, 450));
        assertThat(order.totalCents()).isEqualTo(2 * 1999 + 2 * 450);
        assertThat(p.soldOut()).containsExactly(mug);
        assertThat(stock(lamp)).isEqualTo(3);
        assertThat(stock(mug)).isZero();
        assertThat(orders.find(order.id())).contains(order);
    }

    @Test
    void unknownProductsAreNamedInIdOrderAndNothingChanges() throws Exception {
        long known = product(100, 4);
        OrderRepository.Outcome outcome = orders.place(quantities(known, 1, -2, 1, -1, 1));
        assertThat(outcome).isEqualTo(new OrderRepository.Outcome.UnknownProducts(List.of(-2L, -1L)));
        assertThat(stock(known)).isEqualTo(4);
    }

    @Test
    void anUnknownProductIsNamedEvenWhenAnEarlierLineLacksStock() throws Exception {
        long scarce = product(100, 1);
        OrderRepository.Outcome outcome = orders.place(quantities(scarce, 2, Long.MAX_VALUE, 1));
        assertThat(outcome).isEqualTo(new OrderRepository.Outcome.UnknownProducts(List.of(Long.MAX_VALUE)));
        assertThat(stock(scarce)).isEqualTo(1);
    }

    @Test
    void anOrderThatCanBePlacedAsksNothingButItsWrites() throws Exception {
        long lamp = product(100, 5);
        long mug = product(200, 5);
        CountedStatements statements = new CountedStatements(db);
        OrderRepository counted = new OrderRepository(statements.dataSource());
        placed(counted.place(quantities(lamp, 1, mug, 2)));
        // The decrement (one statement, run per line), the order and its lines (one batch): no look-up of which
        // products exist.
        assertThat(statements.take()).as("statements to place an order").isEqualTo(3);
        assertThat(counted.place(quantities(lamp, 9))).isEqualTo(new OrderRepository.Outcome.InsufficientStock(lamp, 9));
        assertThat(statements.take()).as("statements to refuse one for stock: the decrement, then the look-up").isEqualTo(2);
    }

    @Test
    void insufficientStockRollsBackEveryEarlierLine() throws Exception {
        long first = product(100, 4);
        long second = product(100, 1);
        OrderRepository.Outcome outcome = orders.place(quantities(first, 3, second, 2));
        assertThat(outcome).isEqualTo(new OrderRepository.Outcome.InsufficientStock(second, 2));
        assertThat(stock(first)).as("the first line's decrement is rolled back").isEqualTo(4);
        assertThat(stock(second)).isEqualTo(1);
        // The connection went back to the pool in auto-commit: the next placement commits normally.
        placed(orders.place(quantities(first, 4)));
        assertThat(stock(first)).isZero();
    }

    @Test
    void aTotalOverflowingALongFailsAndRollsBack() throws Exception {
        long first = product(10, 5);
        long huge = product(Long.MAX_VALUE / 2, 5);
        ArithmeticException e = catchThrowableOfType(ArithmeticException.class, () -> orders.place(quantities(first, 1, huge, 3)));
        assertThat(e).isNotNull();
        assertThat(stock(first)).isEqualTo(5);
        assertThat(stock(huge)).isEqualTo(5);
    }

    @Test
    void exactlyTheRemainingStockCanBeOrdered() throws Exception {
        long id = product(700, 3);
        OrderRepository.Outcome.Placed p = placed(orders.place(quantities(id, 3)));
        assertThat(p.soldOut()).containsExactly(id);
        assertThat(p.order().totalCents()).isEqualTo(2100);
        assertThat(orders.place(quantities(id, 1))).isEqualTo(new OrderRepository.Outcome.InsufficientStock(id, 1));
    }

    @Test
    void unknownOrderIsEmpty() {
        assertThat(orders.find(-1)).isEmpty();
    }
}
