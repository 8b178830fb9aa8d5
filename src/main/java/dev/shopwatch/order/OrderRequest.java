package dev.shopwatch.order;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Body of {@code POST /api/orders}. */
public record OrderRequest(@NotNull @Size(min = 1, max = 50) List<@NotNull @Valid Line> lines) {

    @Schema(name = "OrderLineRequest")
    public record Line(@NotNull Long productId, @NotNull @Min(1) @Max(10_000) Integer quantity) {
    }
}
