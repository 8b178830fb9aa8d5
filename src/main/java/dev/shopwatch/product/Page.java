package dev.shopwatch.product;

import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One page of a listing: {@code total} counts every match, not just this page. Every property is always present. */
public record Page<T>(@Schema(required = true) List<T> items, @Schema(required = true) int page,
        @Schema(required = true) int size, @Schema(required = true) long total) {
}
