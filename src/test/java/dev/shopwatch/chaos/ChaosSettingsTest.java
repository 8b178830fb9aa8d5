package dev.shopwatch.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.problem.Problem;
import org.junit.jupiter.api.Test;

/**
 * The chaos settings' own rules (README, "Management port": latencyMs 0-60000, each rate 0-1, absent fields keep
 * their value; faults apply only when a knob is on), without the service. ChaosTest drives the same rules through
 * PUT /chaos; these plain tests let PIT try each boundary in milliseconds.
 */
class ChaosSettingsTest {

    private static ChaosSettings latency(long ms) {
        return new ChaosSettings(ms, null, null);
    }

    private static ChaosSettings rates(Double latencyRate, Double errorRate) {
        return new ChaosSettings(null, latencyRate, errorRate);
    }

    @Test
    void latencyFromZeroToSixtySecondsIsValid() {
        assertThat(latency(0).violations()).isEmpty();
        assertThat(latency(ChaosSettings.MAX_LATENCY_MS).violations()).isEmpty();
        assertThat(ChaosSettings.MAX_LATENCY_MS).isEqualTo(60_000);
    }

    @Test
    void latencyOutsideItsRangeNamesTheFieldAndTheRange() {
        for (long ms : new long[] {-1, ChaosSettings.MAX_LATENCY_MS + 1}) {
            assertThat(latency(ms).violations()).as("latencyMs %d", ms)
                    .containsExactly(new Problem.FieldError("latencyMs", "must be between 0 and 60000"));
        }
    }

    @Test
    void ratesFromZeroToOneAreValid() {
        assertThat(rates(0.0, 0.0).violations()).isEmpty();
        assertThat(rates(1.0, 1.0).violations()).isEmpty();
        assertThat(new ChaosSettings(null, null, null).violations()).isEmpty();
    }

    @Test
    void eachRateOutsideZeroToOneIsItsOwnError() {
        for (double bad : new double[] {-0.01, 1.01, Double.NaN}) {
            assertThat(rates(bad, null).violations()).as("latencyRate %s", bad)
                    .containsExactly(new Problem.FieldError("latencyRate", "must be between 0 and 1"));
            assertThat(rates(null, bad).violations()).as("errorRate %s", bad)
                    .containsExactly(new Problem.FieldError("errorRate", "must be between 0 and 1"));
        }
        assertThat(new ChaosSettings(-1L, 2.0, 2.0).violations()).extracting(Problem.FieldError::field)
                .containsExactly("latencyMs", "latencyRate", "errorRate");
    }

    @Test
    void mergeKeepsTheCurrentValueOfEveryAbsentField() {
        ChaosSettings current = new ChaosSettings(250L, 0.5, 0.25);
        assertThat(new ChaosSettings(null, null, null).merge(current)).isEqualTo(current);
        assertThat(new ChaosSettings(null, null, 0.75).merge(current)).isEqualTo(new ChaosSettings(250L, 0.5, 0.75));
        assertThat(new ChaosSettings(0L, null, null).merge(current)).isEqualTo(new ChaosSettings(0L, 0.5, 0.25));
        assertThat(new ChaosSettings(null, 1.0, null).merge(current)).isEqualTo(new ChaosSettings(250L, 1.0, 0.25));
    }

    @Test
    void activeOnlyWhenLatencyHasBothKnobsOnOrErrorsAreOn() {
        assertThat(ChaosSettings.OFF.active()).isFalse();
        assertThat(new ChaosSettings(300L, 0.0, 0.0).active()).as("latency without a rate").isFalse();
        assertThat(new ChaosSettings(0L, 1.0, 0.0).active()).as("a rate without latency").isFalse();
        assertThat(new ChaosSettings(1L, 0.01, 0.0).active()).isTrue();
        assertThat(new ChaosSettings(0L, 0.0, 0.01).active()).isTrue();
    }

    @Test
    void offIsAllZero() {
        assertThat(ChaosSettings.OFF).isEqualTo(new ChaosSettings(0L, 0.0, 0.0));
    }
}
