package dev.shopwatch.product;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;

/**
 * Body of {@code POST} and {@code PUT /api/products}. It has no {@code id} and no stock counters the server owns:
 * unknown properties are refused (see {@code quarkus.jackson.fail-on-unknown-properties}).
 */
public record ProductRequest(
        @NotBlank @Size(max = 64) @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._-]*", message = "must be letters, digits, '.', '_' or '-'") String sku,
        @NotBlank @Size(max = 200) String name,
        @Size(max = 2000) String description,
        @NotNull @PositiveOrZero Long priceCents,
        @NotNull @PositiveOrZero Integer stock) {
}
