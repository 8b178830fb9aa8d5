package dev.shopwatch.product;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which statement a search term gets (loadtest/README.md, "Benchmark", search): the trigram-indexed filter when
 * pg_trgm can take a trigram from the term, otherwise the scan filter no index matches; and the page statement of
 * each. Plain JUnit, so PIT (make mutation) runs it for every mutant of ProductRepository: the two filters return
 * the same rows (SearchIndexTest), so only a test of the choice itself tells them apart.
 */
class ProductSearchFilterTest {

    @Test
    void threeLettersOrDigitsInARowMakeATrigram() {
        assertThat(ProductRepository.hasTrigram("abc")).isTrue();
        assertThat(ProductRepository.hasTrigram("d0c6")).isTrue();
        assertThat(ProductRepository.hasTrigram("x-abc")).isTrue();
        assertThat(ProductRepository.hasTrigram("äöü")).isTrue();
        assertThat(ProductRepository.hasTrigram("ab")).isFalse();
        assertThat(ProductRepository.hasTrigram("ab-c")).isFalse();
        assertThat(ProductRepository.hasTrigram("a-b-c")).isFalse();
        assertThat(ProductRepository.hasTrigram("ab %")).isFalse();
        assertThat(ProductRepository.hasTrigram("%_\\")).isFalse();
        assertThat(ProductRepository.hasTrigram("")).isFalse();
    }

    @Test
    void aTermGetsTheIndexedFilterOnlyWithATrigram() {
        assertThat(ProductRepository.filterFor("d0c6")).isEqualTo(ProductRepository.SEARCH_FILTER);
        assertThat(ProductRepository.filterFor("ab")).isEqualTo(ProductRepository.SCAN_FILTER);
        assertThat(ProductRepository.SCAN_FILTER).isNotEqualTo(ProductRepository.SEARCH_FILTER).contains("|| ''");
    }

    @Test
    void onlyTheIndexedFilterCollectsItsMatchesFirst() {
        assertThat(ProductRepository.pageSql(ProductRepository.SEARCH_FILTER))
                .startsWith("WITH matches AS MATERIALIZED").contains(ProductRepository.SEARCH_FILTER);
        assertThat(ProductRepository.pageSql(ProductRepository.SCAN_FILTER))
                .doesNotContain("MATERIALIZED").contains(ProductRepository.SCAN_FILTER + " ORDER BY id LIMIT");
        assertThat(ProductRepository.pageSql("")).isEqualTo("SELECT " + ProductRepository.COLUMNS + ", ("
                + ProductRepository.PRODUCT_COUNT + ") AS " + ProductRepository.TOTAL + " FROM product ORDER BY id LIMIT ? OFFSET ?");
    }
}
