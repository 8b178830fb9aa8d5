package dev.shopwatch.product;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Body of {@code POST} and {@code PUT /api/products}. It has no {@code id} and no stock counters the server owns:
 * unknown properties are refused (see {@code quarkus.jackson.fail-on-unknown-properties}).
 */
public record ProductRequest(
        @NotBlank @Size(max = 64) @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._-]*", message = "must be letters, digits, '.', '_' or '-'") String sku,
        @NotBlank @Size(max = 200) String name,
        @Schema(nullable = true, description = "optional: absent or null stores none") @Size(max = 2000) String description,
        // Upper bounds keep every order total (price x quantity x lines) far inside a long.
        @NotNull @PositiveOrZero @Max(MAX_PRICE_CENTS) Long priceCents,
        @NotNull @PositiveOrZero @Max(MAX_STOCK) Integer stock) {

    public static final long MAX_PRICE_CENTS = 1_000_000_000L;
    public static final int MAX_STOCK = 10_000_000;
}
