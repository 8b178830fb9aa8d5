package dev.shopwatch.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What each request draws from the settings, and how settings change (README, "Management port"). Rates of 0 and
 * 1 make the draw deterministic; 0.5 over many draws must give both outcomes. Plain JUnit, for PIT.
 */
class ChaosDrawTest {

    private static final int DRAWS = 2_000;
    private final Chaos chaos = new Chaos();

    @Test
    void latencyIsDrawnOnlyWhenBothKnobsAreOn() {
        for (int i = 0; i < DRAWS; i++) {
            assertThat(chaos.drawLatency(new ChaosSettings(300L, 1.0, 0.0))).isEqualTo(300);
            assertThat(chaos.drawLatency(new ChaosSettings(300L, 0.0, 0.0))).isZero();
            assertThat(chaos.drawLatency(new ChaosSettings(0L, 1.0, 0.0))).isZero();
        }
    }

    @Test
    void errorsAreDrawnAtTheirRate() {
        for (int i = 0; i < DRAWS; i++) {
            assertThat(chaos.drawError(new ChaosSettings(0L, 0.0, 1.0))).isTrue();
            assertThat(chaos.drawError(ChaosSettings.OFF)).isFalse();
        }
    }

    @Test
    void halfRatesGiveBothOutcomes() {
        ChaosSettings half = new ChaosSettings(300L, 0.5, 0.5);
        int delayed = 0;
        int failed = 0;
        for (int i = 0; i < DRAWS; i++) {
            delayed += chaos.drawLatency(half) > 0 ? 1 : 0;
            failed += chaos.drawError(half) ? 1 : 0;
        }
        // 2000 fair draws: below 800 or above 1200 has a probability under 1e-18.
        assertThat(delayed).isBetween(800, 1200);
        assertThat(failed).isBetween(800, 1200);
    }

    @Test
    void updateMergesIntoTheCurrentSettingsAndResetTurnsEverythingOff() {
        assertThat(chaos.current()).isEqualTo(ChaosSettings.OFF);
        assertThat(chaos.update(new ChaosSettings(250L, 0.5, null))).isEqualTo(new ChaosSettings(250L, 0.5, 0.0));
        assertThat(chaos.update(new ChaosSettings(null, null, 0.25))).isEqualTo(new ChaosSettings(250L, 0.5, 0.25));
        assertThat(chaos.current()).isEqualTo(new ChaosSettings(250L, 0.5, 0.25));
        assertThat(chaos.reset()).isEqualTo(ChaosSettings.OFF);
        assertThat(chaos.current()).isEqualTo(ChaosSettings.OFF);
    }
}
