package dev.shopwatch.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The start-up chaos settings (SHOP_CHAOS_*): parsed, validated like a PUT, and refused with a message naming the variable. */
class InitialChaosSettingsTest {

    private static ChaosSettings initial(String latencyMs, String latencyRate, String errorRate) {
        return ChaosSettings.initial(Optional.ofNullable(latencyMs), Optional.ofNullable(latencyRate), Optional.ofNullable(errorRate));
    }

    @Test
    void unsetIsOff() {
        assertThat(initial(null, null, null)).isEqualTo(ChaosSettings.OFF);
        assertThat(initial(null, null, null).active()).isFalse();
        assertThat(initial(" ", "", null)).isEqualTo(ChaosSettings.OFF);
    }

    @Test
    void valuesAreTakenAsGiven() {
        assertThat(initial(null, null, "0.3")).isEqualTo(new ChaosSettings(0L, 0.0, 0.3));
        assertThat(initial("400", "0.25", null)).isEqualTo(new ChaosSettings(400L, 0.25, 0.0));
        assertThat(initial("400", "0.25", "1").active()).isTrue();
    }

    @Test
    void outOfRangeValuesNameTheVariableAndTheLimit() {
        assertThatThrownBy(() -> initial(null, null, "1.5")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SHOP_CHAOS_ERROR_RATE (shop.chaos.error-rate)=1.5: must be between 0 and 1");
        assertThatThrownBy(() -> initial("-5", "0.5", null))
                .hasMessageContaining("SHOP_CHAOS_LATENCY_MS (shop.chaos.latency-ms)=-5: must be between 0 and 60000");
        assertThatThrownBy(() -> initial("100", "2", null))
                .hasMessageContaining("SHOP_CHAOS_LATENCY_RATE (shop.chaos.latency-rate)=2: must be between 0 and 1");
        // Only the range is reported for an invalid value, not also the pairing of delay and share.
        assertThatThrownBy(() -> initial("-5", "0.5", null)).hasMessageNotContaining("go together");
    }

    @Test
    void nonNumbersAreRefusedAndEveryProblemIsReportedAtOnce() {
        assertThatThrownBy(() -> initial("fast", "0.5", "lots"))
                .hasMessageContaining("SHOP_CHAOS_LATENCY_MS (shop.chaos.latency-ms)=fast: not a whole number of milliseconds")
                .hasMessageContaining("SHOP_CHAOS_ERROR_RATE (shop.chaos.error-rate)=lots: not a number between 0 and 1");
        assertThatThrownBy(() -> initial(null, null, "NaN")).hasMessageContaining("SHOP_CHAOS_ERROR_RATE (shop.chaos.error-rate)=NaN");
    }

    @Test
    void aDelayNeedsBothItsLengthAndItsShare() {
        assertThatThrownBy(() -> initial("400", null, null)).hasMessageContaining("go together");
        assertThatThrownBy(() -> initial(null, "0.5", null)).hasMessageContaining("go together");
        assertThatThrownBy(() -> initial("0", "0.5", null)).hasMessageContaining("go together");
        assertThatThrownBy(() -> initial("400", "0", null)).hasMessageContaining("go together");
    }
}
