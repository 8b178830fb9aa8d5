package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import org.junit.jupiter.api.Test;

/**
 * The HTTP latency histogram's buckets (README, "Telemetry the service emits": 10 ms … 5 s, with the SLO's 250 ms
 * among them) on http.server.requests only. TelemetryTest reads them from the real /q/metrics; this plain test lets
 * PIT try the filter's mutants in milliseconds.
 */
class HttpBucketsTest {

    private static final double MS = 1_000_000;
    private final MeterFilter filter = new MetricsConfig().httpServerBuckets();

    private static Meter.Id id(String name) {
        return new Meter.Id(name, Tags.empty(), null, null, Meter.Type.TIMER);
    }

    @Test
    void httpServerRequestsGetsEveryBucketInNanoseconds() {
        DistributionStatisticConfig config = filter.configure(id("http.server.requests"), DistributionStatisticConfig.DEFAULT);
        assertThat(config.getServiceLevelObjectiveBoundaries()).containsExactly(10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS,
                500 * MS, 1000 * MS, 2500 * MS, 5000 * MS);
    }

    @Test
    void otherMetersAreLeftAlone() {
        DistributionStatisticConfig config = filter.configure(id("http.client.requests"), DistributionStatisticConfig.DEFAULT);
        assertThat(config).isSameAs(DistributionStatisticConfig.DEFAULT);
    }
}
