package dev.shopwatch.product;

import java.util.List;

/** One page of a listing: {@code total} counts every match, not just this page. */
public record Page<T>(List<T> items, int page, int size, long total) {
}
