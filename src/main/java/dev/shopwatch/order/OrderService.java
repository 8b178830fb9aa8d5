package dev.shopwatch.order;

import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.EnumMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * Places orders and makes each attempt observable: one {@code order.place} span with the line count, total and
 * outcome; counters for placed and rejected orders (by reason) and stock-outs; the order value distribution;
 * and one INFO line per outcome, written inside the span so it carries the trace id.
 */
@ApplicationScoped
public class OrderService {

    static final AttributeKey<Long> LINE_COUNT = AttributeKey.longKey("order.line_count");
    static final AttributeKey<Long> ITEM_COUNT = AttributeKey.longKey("order.item_count");
    static final AttributeKey<Long> TOTAL_CENTS = AttributeKey.longKey("order.total_cents");
    static final AttributeKey<Long> ORDER_ID = AttributeKey.longKey("order.id");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("order.outcome");

    /** Why an order was refused; the value is the {@code reason} label of {@code shop_orders_rejected_total}. */
    public enum RejectReason {
        INSUFFICIENT_STOCK("insufficient_stock"),
        UNKNOWN_PRODUCT("unknown_product");

        final String label;

        RejectReason(String label) {
            this.label = label;
        }
    }

    private static final Logger LOG = Logger.getLogger(OrderService.class);

    private final OrderRepository orders;
    private final Tracer tracer;
    private final Counter placed;
    private final Map<RejectReason, Counter> rejected = new EnumMap<>(RejectReason.class);
    private final Counter stockouts;
    private final DistributionSummary orderValue;

    OrderService(OrderRepository orders, Tracer tracer, MeterRegistry registry) {
        this.orders = orders;
        this.tracer = tracer;
        this.placed = Counter.builder("shop.orders.placed").description("Orders placed").register(registry);
        // Every reason is registered up front, so each series exists (at 0) before the first rejection:
        // dashboards and rate() never see a missing series.
        for (RejectReason reason : RejectReason.values()) {
            rejected.put(reason, Counter.builder("shop.orders.rejected").description("Orders refused, by reason")
                    .tag("reason", reason.label).register(registry));
        }
        this.stockouts = Counter.builder("shop.stockouts").description("Times an order took a product's stock to zero")
                .register(registry);
        this.orderValue = DistributionSummary.builder("shop.order.value").baseUnit("cents")
                .description("Value of placed orders")
                .serviceLevelObjectives(500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000)
                .register(registry);
    }

    public Order place(OrderRequest request) {
        SortedMap<Long, Integer> quantities = new TreeMap<>();
        for (OrderRequest.Line line : request.lines()) {
            quantities.merge(line.productId(), line.quantity(), Math::addExact);
        }
        long items = quantities.values().stream().mapToLong(Integer::longValue).sum();
        Span span = tracer.spanBuilder("order.place")
                .setAttribute(LINE_COUNT, (long) request.lines().size())
                .setAttribute(ITEM_COUNT, items)
                .startSpan();
        try (Scope ignored = span.makeCurrent()) {
            OrderRepository.Outcome outcome = orders.place(quantities);
            if (outcome instanceof OrderRepository.Outcome.Placed p) {
                Order order = p.order();
                placed.increment();
                orderValue.record(order.totalCents());
                stockouts.increment(p.soldOut().size());
                span.setAttribute(OUTCOME, "placed").setAttribute(ORDER_ID, order.id()).setAttribute(TOTAL_CENTS, order.totalCents());
                LOG.infof("Order placed: id=%d lines=%d items=%d totalCents=%d", order.id(), order.lines().size(), items,
                        order.totalCents());
                for (Long productId : p.soldOut()) {
                    LOG.infof("Product sold out: productId=%d by order %d", productId, order.id());
                }
                return order;
            }
            if (outcome instanceof OrderRepository.Outcome.UnknownProducts u) {
                throw reject(span, RejectReason.UNKNOWN_PRODUCT, ProblemType.UNKNOWN_PRODUCT,
                        "Unknown product id(s): " + u.productIds() + ".");
            }
            OrderRepository.Outcome.InsufficientStock s = (OrderRepository.Outcome.InsufficientStock) outcome;
            throw reject(span, RejectReason.INSUFFICIENT_STOCK, ProblemType.INSUFFICIENT_STOCK,
                    "Product " + s.productId() + " has fewer than " + s.requested() + " item(s) in stock.");
        } catch (RuntimeException e) {
            if (!(e instanceof ProblemException)) {
                span.setAttribute(OUTCOME, "error");
                span.recordException(e);
                span.setStatus(StatusCode.ERROR, e.getClass().getSimpleName());
            }
            throw e;
        } finally {
            span.end();
        }
    }

    private ProblemException reject(Span span, RejectReason reason, ProblemType type, String detail) {
        rejected.get(reason).increment();
        // A refused order is an expected business outcome, not a span error.
        span.setAttribute(OUTCOME, reason.label);
        LOG.infof("Order rejected: reason=%s %s", reason.label, detail);
        return new ProblemException(type, detail);
    }
}
