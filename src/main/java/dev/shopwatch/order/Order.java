package dev.shopwatch.order;

import java.time.OffsetDateTime;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A placed order. Lines keep the unit price paid, so later price changes do not rewrite history. */
@Schema(requiredProperties = {"id", "lines", "totalCents", "status", "createdAt"})
public record Order(long id, List<Line> lines, long totalCents, String status, OffsetDateTime createdAt) {

    public static final String CONFIRMED = "CONFIRMED";

    /** Named in the document: clients generate a type from it (the request's line is OrderLineRequest). */
    @Schema(name = "OrderLine", requiredProperties = {"productId", "quantity", "unitPriceCents"})
    public record Line(long productId, int quantity, long unitPriceCents) {
    }
}
