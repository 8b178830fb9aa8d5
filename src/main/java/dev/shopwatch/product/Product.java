package dev.shopwatch.product;

import java.time.OffsetDateTime;

/** A catalog entry as the API returns it. Prices are integer cents: no floating point money. */
public record Product(long id, String sku, String name, String description, long priceCents, int stock,
        OffsetDateTime createdAt, OffsetDateTime updatedAt) {
}
