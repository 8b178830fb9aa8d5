package dev.shopwatch.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shopwatch.support.TestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up refusals and reloading of the key file (plain JUnit: PIT's). */
class KeyFileTest {

    @TempDir
    Path dir;

    private final String a = TestKeys.generate();
    private final String b = TestKeys.generate();

    @Test
    void notSetOrBlankStopsTheStart() {
        assertThatThrownBy(() -> KeyFile.open(Optional.empty())).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("SHOP_API_KEYS_FILE is not set");
        assertThatThrownBy(() -> KeyFile.open(Optional.of("  "))).hasMessageStartingWith("SHOP_API_KEYS_FILE is not set");
    }

    @Test
    void unreadableStopsTheStart() {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> KeyFile.open(Optional.of(missing.toString())))
                .hasMessage("SHOP_API_KEYS_FILE=" + missing + ": cannot be read (NoSuchFileException)");
    }

    @Test
    void malformedStopsTheStartNamingTheLineButNotItsContent() throws Exception {
        Path file = dir.resolve("keys");
        String hash = TestKeys.sha256Hex(a);
        Files.writeString(file, "# keys\nops admin " + hash + "\nbad client " + hash.substring(2) + "\n");
        assertThatThrownBy(() -> KeyFile.open(Optional.of(file.toString())))
                .hasMessage("SHOP_API_KEYS_FILE=" + file + ": line 3: the hash must be 64 lowercase hexadecimal characters (SHA-256)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(hash.substring(2)).doesNotContain("\n"));
    }

    @Test
    void reloadTakesAChangedValidFileAndKeepsTheKeysOnAnInvalidOne() throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "one admin " + TestKeys.sha256Hex(a) + "\n");
        KeyFile keys = KeyFile.open(Optional.of(" " + file + " "));
        assertThat(keys.keys().find(a)).isPresent();
        assertThat(keys.reload()).as("unchanged").isEqualTo(new KeyFile.Reload(KeyFile.Outcome.UNCHANGED, null));

        Files.writeString(file, "one admin " + TestKeys.sha256Hex(a) + "\ntwo client " + TestKeys.sha256Hex(b) + "\n");
        assertThat(keys.reload()).as("a second key")
                .isEqualTo(new KeyFile.Reload(KeyFile.Outcome.RELOADED, "API keys reloaded from " + file + ": 2 credentials (one, two)"));
        assertThat(keys.keys().find(a)).isPresent();
        assertThat(keys.keys().find(b)).isPresent();

        Files.writeString(file, "two client " + TestKeys.sha256Hex(b) + "\n");
        assertThat(keys.reload().outcome()).as("the first key removed").isEqualTo(KeyFile.Outcome.RELOADED);
        assertThat(keys.keys().find(a)).isEmpty();

        Files.writeString(file, "two client nothex\n");
        assertThat(keys.reload()).as("invalid").isEqualTo(new KeyFile.Reload(KeyFile.Outcome.REFUSED, "SHOP_API_KEYS_FILE=" + file
                + " changed but is invalid, line 1: the hash must be 64 lowercase hexadecimal characters (SHA-256); the 1 keys read before stay valid"));
        assertThat(keys.keys().find(b)).as("kept").isPresent();
        assertThat(keys.reload().outcome()).as("the same invalid content again").isEqualTo(KeyFile.Outcome.UNCHANGED);

        Files.delete(file);
        assertThat(keys.reload()).as("gone").isEqualTo(new KeyFile.Reload(KeyFile.Outcome.REFUSED, "SHOP_API_KEYS_FILE=" + file
                + " cannot be read (NoSuchFileException); the 1 keys read before stay valid"));
        assertThat(keys.keys().find(b)).as("kept").isPresent();

        Files.writeString(file, "three admin " + TestKeys.sha256Hex(a) + "\n");
        assertThat(keys.reload().outcome()).as("back").isEqualTo(KeyFile.Outcome.RELOADED);
        assertThat(keys.keys().find(a)).isPresent();
        assertThat(keys.keys().find(b)).isEmpty();
    }
}
