package dev.shopwatch.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.PackagedJar;
import dev.shopwatch.support.TestKeys;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar refuses to start without a usable key file, with one line naming the variable and, for a malformed
 * file, the line number, never the line (Contract A, README "Authentication"). Also the proof that SHOP_API_KEYS_FILE
 * reaches {@code shop.api-keys-file}.
 */
class ApiKeysStartIT {

    private static String startAndFail(EmbeddedPostgres pg, String keysFile) throws Exception {
        ProcessBuilder pb = PackagedJar.builder(0, 0, pg);
        if (keysFile == null) {
            pb.environment().remove("SHOP_API_KEYS_FILE");
        } else {
            pb.environment().put("SHOP_API_KEYS_FILE", keysFile);
        }
        return PackagedJar.startExpectingRefusal(pb);
    }

    @Test
    void aMalformedOrMissingKeyFileStopsTheStart() throws Exception {
        assertThat(PackagedJar.JAR).as("packaged jar (mvn package)").exists();
        String hash = TestKeys.sha256Hex(TestKeys.generate());
        Path file = Files.createTempFile("shop-api-keys-", ".txt");
        Files.writeString(file, "# rotated keys\nops-admin admin " + hash + "\nops-client client " + hash.substring(1) + "X\n");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            String malformed = startAndFail(pg, file.toString());
            assertThat(malformed).contains("SHOP_API_KEYS_FILE=" + file + ": line 3: the hash must be 64 lowercase hexadecimal characters")
                    .doesNotContain(hash.substring(1));
            assertThat(startAndFail(pg, null)).contains("SHOP_API_KEYS_FILE is not set");
        } finally {
            Files.delete(file);
        }
    }
}
