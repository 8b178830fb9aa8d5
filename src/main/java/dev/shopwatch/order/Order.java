package dev.shopwatch.order;

import java.time.OffsetDateTime;
import java.util.List;

/** A placed order. Lines keep the unit price paid, so later price changes do not rewrite history. */
public record Order(long id, List<Line> lines, long totalCents, String status, OffsetDateTime createdAt) {

    public static final String CONFIRMED = "CONFIRMED";

    public record Line(long productId, int quantity, long unitPriceCents) {
    }
}
