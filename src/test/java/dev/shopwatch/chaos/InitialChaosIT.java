package dev.shopwatch.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.PackagedJar;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar started with an invalid SHOP_CHAOS_ERROR_RATE in its environment refuses to start, and says which
 * variable is wrong and why (README, "Environment variables the service reads"). This is also the proof that the
 * environment variable reaches {@code shop.chaos.error-rate}: with the mapping broken the service would start.
 */
class InitialChaosIT {

    @Test
    void anInvalidStartUpSettingStopsTheServiceWithAMessageNamingTheVariable() throws Exception {
        assertThat(PackagedJar.JAR).as("packaged jar (mvn package)").exists();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            ProcessBuilder pb = PackagedJar.builder(0, 0, pg);
            pb.environment().put("SHOP_CHAOS_ERROR_RATE", "1.5");
            assertThat(PackagedJar.startExpectingRefusal(pb))
                    .contains("SHOP_CHAOS_ERROR_RATE (shop.chaos.error-rate)=1.5: must be between 0 and 1");
        }
    }
}
