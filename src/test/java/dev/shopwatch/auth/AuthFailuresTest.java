package dev.shopwatch.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code shop_auth_failures_total}: four series from the start, each counting its own reason (plain JUnit: PIT's). */
class AuthFailuresTest {

    @Test
    void everyReasonExistsAtZeroAndCountsAlone() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthFailures failures = new AuthFailures(registry);
        List<String> labels = registry.find("shop.auth.failures").counters().stream().map(c -> c.getId().getTag("reason")).sorted().toList();
        assertThat(labels).containsExactly("forbidden", "malformed", "missing", "unknown_key");
        failures.count(AuthFailures.Reason.UNKNOWN_KEY);
        failures.count(AuthFailures.Reason.UNKNOWN_KEY);
        failures.count(AuthFailures.Reason.FORBIDDEN);
        assertThat(count(registry, "unknown_key")).isEqualTo(2);
        assertThat(count(registry, "forbidden")).isEqualTo(1);
        assertThat(count(registry, "missing")).isZero();
        assertThat(count(registry, "malformed")).isZero();
    }

    private static double count(SimpleMeterRegistry registry, String reason) {
        Counter c = registry.find("shop.auth.failures").tag("reason", reason).counter();
        assertThat(c).as(reason).isNotNull();
        return c.count();
    }
}
