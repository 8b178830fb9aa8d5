package dev.shopwatch.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shopwatch.support.TestKeys;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The key file format of Contract A and the look-up of a presented key (plain JUnit: PIT's). */
class ApiKeysTest {

    private static final String A = TestKeys.generate();
    private static final String B = TestKeys.generate();

    private static ApiKeys keys(String... lines) {
        return ApiKeys.parse(List.of(lines));
    }

    @Test
    void findsTheEntryOfAKeyWhateverItsPosition() {
        ApiKeys keys = keys("# comment", "", "  ", "ops-admin admin " + TestKeys.sha256Hex(A),
                "  shop-client   client,admin\t" + TestKeys.sha256Hex(B) + "  ");
        assertThat(keys.size()).isEqualTo(2);
        assertThat(keys.entries()).extracting(ApiKeys.Entry::id).containsExactly("ops-admin", "shop-client");
        assertThat(keys.find(A)).hasValueSatisfying(e -> {
            assertThat(e.id()).isEqualTo("ops-admin");
            assertThat(e.roles()).isEqualTo(Set.of("admin"));
        });
        assertThat(keys.find(B)).hasValueSatisfying(e -> {
            assertThat(e.id()).isEqualTo("shop-client");
            assertThat(e.roles()).isEqualTo(Set.of("client", "admin"));
        });
        assertThat(keys.find(TestKeys.generate())).isEmpty();
        assertThat(keys.find(A + "x")).isEmpty();
    }

    @Test
    void everyStoredHashIsComparedInFullWhereverTheKeyMatches() {
        String c = TestKeys.generate();
        ApiKeys keys = keys("a admin " + TestKeys.sha256Hex(A), "b client " + TestKeys.sha256Hex(B), "c client " + TestKeys.sha256Hex(c));
        for (String presented : List.of(A, B, c, TestKeys.generate())) {
            List<String> compared = new ArrayList<>();
            Optional<ApiKeys.Entry> found = keys.find(presented, (p, stored) -> {
                assertThat(p).hasSize(32);
                assertThat(stored).hasSize(32);
                compared.add(HexFormat.of().formatHex(stored));
                return MessageDigest.isEqual(p, stored);
            });
            // No early exit: the time taken must not say which line (if any) matched.
            assertThat(compared).as("hashes compared for a key matching %s", found.map(ApiKeys.Entry::id).orElse("nothing"))
                    .containsExactly(TestKeys.sha256Hex(A), TestKeys.sha256Hex(B), TestKeys.sha256Hex(c));
        }
        assertThat(keys.find(c)).hasValueSatisfying(e -> assertThat(e.id()).isEqualTo("c"));
    }

    @Test
    void theFirstOfTwoLinesWithTheSameHashWins() {
        ApiKeys keys = keys("first client " + TestKeys.sha256Hex(A), "second admin " + TestKeys.sha256Hex(A));
        assertThat(keys.find(A)).hasValueSatisfying(e -> assertThat(e.id()).isEqualTo("first"));
    }

    @Test
    void keyShape() {
        assertThat(ApiKeys.hasKeyShape(A)).isTrue();
        assertThat(ApiKeys.hasKeyShape("shop_" + "a".repeat(42))).isFalse();
        assertThat(ApiKeys.hasKeyShape("shop_" + "a".repeat(44))).isFalse();
        assertThat(ApiKeys.hasKeyShape("shap_" + "a".repeat(43))).isFalse();
        assertThat(ApiKeys.hasKeyShape("shop_" + "a".repeat(42) + "=")).isFalse();
        assertThat(ApiKeys.hasKeyShape("shop_" + "-_Az09".repeat(7) + "Q")).isTrue();
    }

    @Test
    void sha256IsTheLowercaseHexOfContractA() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1
        assertThat(java.util.HexFormat.of().formatHex(ApiKeys.sha256("abc")))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    private static void refused(String expected, String... lines) {
        assertThatThrownBy(() -> ApiKeys.parse(List.of(lines))).isInstanceOf(ApiKeys.KeyFileException.class)
                .hasMessage(expected);
    }

    @Test
    void aMalformedLineIsRefusedByItsNumberWithoutItsContent() {
        String hash = TestKeys.sha256Hex(A);
        refused("line 2: expected 3 fields '<key-id> <roles> <sha256-hex>', found 2", "# keys", "ops admin");
        refused("line 1: expected 3 fields '<key-id> <roles> <sha256-hex>', found 4", "ops admin " + hash + " extra");
        refused("line 1: the key id must match [a-z0-9][a-z0-9-]*", "Ops admin " + hash);
        refused("line 1: the key id must match [a-z0-9][a-z0-9-]*", "-ops admin " + hash);
        refused("line 3: key id 'ops' is listed twice", "ops admin " + hash, "", "ops client " + TestKeys.sha256Hex(B));
        refused("line 1: roles must be a comma-separated list of admin, client", "ops root " + hash);
        refused("line 1: roles must be a comma-separated list of admin, client", "ops admin, " + hash);
        refused("line 1: roles must be a comma-separated list of admin, client", "ops admin,,client " + hash);
        refused("line 1: the hash must be 64 lowercase hexadecimal characters (SHA-256)", "ops admin " + hash.toUpperCase());
        refused("line 1: the hash must be 64 lowercase hexadecimal characters (SHA-256)", "ops admin " + hash.substring(1));
        refused("line 1: the hash must be 64 lowercase hexadecimal characters (SHA-256)", "ops admin " + A);
        refused("no credential line (the file is empty or only comments)", "# nothing", "");
        refused("no credential line (the file is empty or only comments)");
    }

    @Test
    void errorsNameTheLineNumber() {
        try {
            ApiKeys.parse(List.of("", "x admin zz"));
        } catch (ApiKeys.KeyFileException e) {
            assertThat(e.line()).isEqualTo(2);
            return;
        }
        throw new AssertionError("not refused");
    }
}
