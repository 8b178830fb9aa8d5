package dev.shopwatch.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shopwatch.platform.DataAccessException;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import jakarta.enterprise.inject.Vetoed;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What one order attempt records (README, "Telemetry the service emits": the order.place span and its attributes,
 * shop_orders_placed_total, shop_orders_rejected_total by reason, shop_stockouts_total, shop_order_value), with
 * the repository's outcome given by hand: no database, no Quarkus. TelemetryTest checks the same through the running
 * service; this plain test lets PIT try every mutant of OrderService in milliseconds.
 */
class OrderServiceTest {

    /** Answers each placement with a fixed outcome and keeps the quantities it was asked for. Not a CDI bean. */
    @Vetoed
    static class FixedOutcome extends OrderRepository {
        final List<SortedMap<Long, Integer>> asked = new ArrayList<>();
        private final Function<SortedMap<Long, Integer>, Outcome> answer;

        FixedOutcome(Function<SortedMap<Long, Integer>, Outcome> answer) {
            super(null);
            this.answer = answer;
        }

        @Override
        public Outcome place(SortedMap<Long, Integer> quantities) {
            asked.add(quantities);
            return answer.apply(quantities);
        }
    }

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final SdkTracerProvider tracing = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @AfterEach
    void close() {
        tracing.close();
    }

    private OrderService service(FixedOutcome repository) {
        return new OrderService(repository, tracing.get("test"), meters);
    }

    private static OrderRequest request(long... productAndQuantity) {
        List<OrderRequest.Line> lines = new ArrayList<>();
        for (int i = 0; i < productAndQuantity.length; i += 2) {
            lines.add(new OrderRequest.Line(productAndQuantity[i], (int) productAndQuantity[i + 1]));
        }
        return new OrderRequest(lines);
    }

    private SpanData onlySpan() {
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertThat(finished).extracting(SpanData::getName).containsExactly("order.place");
        return finished.get(0);
    }

    private double counter(String name, String... tags) {
        return meters.get(name).tags(tags).counter().count();
    }

    @Test
    void placedOrderIsCountedMeasuredAndOnItsSpan() {
        Order order = new Order(41, List.of(new Order.Line(3, 2, 150), new Order.Line(9, 1, 700)), 1000, Order.CONFIRMED,
                OffsetDateTime.now());
        FixedOutcome repository = new FixedOutcome(q -> new OrderRepository.Outcome.Placed(order, List.of(3L, 9L)));
        // Two lines for product 9: the repository gets one quantity per product, sorted by id (lock order).
        assertThat(service(repository).place(request(9, 1, 3, 2, 9, 4))).isSameAs(order);
        assertThat(repository.asked).hasSize(1);
        assertThat(repository.asked.get(0)).containsExactly(java.util.Map.entry(3L, 2), java.util.Map.entry(9L, 5));

        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(OrderService.LINE_COUNT)).isEqualTo(3L);
        assertThat(span.getAttributes().get(OrderService.ITEM_COUNT)).isEqualTo(7L);
        assertThat(span.getAttributes().get(OrderService.OUTCOME)).isEqualTo("placed");
        assertThat(span.getAttributes().get(OrderService.ORDER_ID)).isEqualTo(41L);
        assertThat(span.getAttributes().get(OrderService.TOTAL_CENTS)).isEqualTo(1000L);
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        assertThat(counter("shop.orders.placed")).isEqualTo(1);
        assertThat(counter("shop.stockouts")).as("both products sold out").isEqualTo(2);
        assertThat(meters.get("shop.order.value").summary().count()).isEqualTo(1);
        assertThat(meters.get("shop.order.value").summary().totalAmount()).isEqualTo(1000);
        assertThat(counter("shop.orders.rejected", "reason", "insufficient_stock")).isZero();
        assertThat(counter("shop.orders.rejected", "reason", "unknown_product")).isZero();
    }

    @Test
    void everyRejectionReasonExistsAtZeroBeforeTheFirstRejection() {
        service(new FixedOutcome(q -> null));
        assertThat(meters.get("shop.orders.rejected").counters()).hasSize(OrderService.RejectReason.values().length);
        assertThat(counter("shop.orders.rejected", "reason", "insufficient_stock")).isZero();
        assertThat(counter("shop.orders.rejected", "reason", "unknown_product")).isZero();
        assertThat(counter("shop.orders.placed")).isZero();
        assertThat(counter("shop.stockouts")).isZero();
    }

    @Test
    void unknownProductsAre422CountedByReasonAndNotASpanError() {
        OrderService service = service(new FixedOutcome(q -> new OrderRepository.Outcome.UnknownProducts(List.of(5L, 7L))));
        ProblemException e = catchThrowableOfType(ProblemException.class, () -> service.place(request(5, 1, 7, 1)));
        assertThat(e).isNotNull();
        assertThat(e.problemType()).isEqualTo(ProblemType.UNKNOWN_PRODUCT);
        assertThat(e.getMessage()).isEqualTo("Unknown product id(s): [5, 7].");
        assertThat(counter("shop.orders.rejected", "reason", "unknown_product")).isEqualTo(1);
        assertThat(counter("shop.orders.rejected", "reason", "insufficient_stock")).isZero();
        assertThat(counter("shop.orders.placed")).isZero();
        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(OrderService.OUTCOME)).isEqualTo("unknown_product");
        assertThat(span.getAttributes().get(OrderService.TOTAL_CENTS)).isNull();
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
        assertThat(span.getEvents()).isEmpty();
    }

    @Test
    void insufficientStockIs409CountedByReasonAndNotASpanError() {
        OrderService service = service(new FixedOutcome(q -> new OrderRepository.Outcome.InsufficientStock(3L, 4)));
        ProblemException e = catchThrowableOfType(ProblemException.class, () -> service.place(request(3, 4)));
        assertThat(e).isNotNull();
        assertThat(e.problemType()).isEqualTo(ProblemType.INSUFFICIENT_STOCK);
        assertThat(e.getMessage()).isEqualTo("Product 3 has fewer than 4 item(s) in stock.");
        assertThat(counter("shop.orders.rejected", "reason", "insufficient_stock")).isEqualTo(1);
        assertThat(counter("shop.orders.rejected", "reason", "unknown_product")).isZero();
        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(OrderService.OUTCOME)).isEqualTo("insufficient_stock");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void databaseFailureMarksTheSpanAsAnErrorWithTheException() {
        DataAccessException failure = new DataAccessException("place order", new SQLException("reset", "08006"));
        OrderService service = service(new FixedOutcome(q -> {
            throw failure;
        }));
        assertThat(catchThrowableOfType(DataAccessException.class, () -> service.place(request(1, 1)))).isSameAs(failure);
        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(OrderService.OUTCOME)).isEqualTo("error");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getStatus().getDescription()).isEqualTo("DataAccessException");
        assertThat(span.getEvents()).extracting(e -> e.getName()).containsExactly("exception");
        assertThat(counter("shop.orders.placed")).isZero();
    }
}
