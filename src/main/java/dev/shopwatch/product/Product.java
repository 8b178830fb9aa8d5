package dev.shopwatch.product;

import java.time.OffsetDateTime;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A catalog entry as the API returns it. Prices are integer cents: no floating point money. Every property is always
 * present; {@code description} is null when the product has none (the document says so: clients must not assume a
 * string).
 */
@Schema(requiredProperties = {"id", "sku", "name", "description", "priceCents", "stock", "createdAt", "updatedAt"})
public record Product(long id, String sku, String name,
        @Schema(nullable = true, description = "null when the product has no description") String description,
        long priceCents, int stock, OffsetDateTime createdAt, OffsetDateTime updatedAt) {
}
