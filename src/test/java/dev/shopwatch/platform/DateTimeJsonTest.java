package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** DateTimeJson writes exactly what jackson-datatype-jsr310 wrote, and the service's ObjectMapper uses it. */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class DateTimeJsonTest {

    /** jackson-datatype-jsr310 as the service configures it (quarkus.jackson.write-dates-as-timestamps=false). */
    static final ObjectMapper JSR310 = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    static final ObjectMapper FAST = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();

    static {
        new DateTimeJson().customize(FAST);
    }

    @Inject
    ObjectMapper service;

    @Test
    void writesWhatJsr310Writes() throws Exception {
        List<OffsetDateTime> values = new ArrayList<>();
        ZoneOffset[] offsets = {ZoneOffset.UTC, ZoneOffset.ofHours(2), ZoneOffset.ofHoursMinutes(5, 30),
                ZoneOffset.ofHoursMinutes(-3, -30), ZoneOffset.ofHours(-12), ZoneOffset.ofHours(18),
                ZoneOffset.ofHoursMinutesSeconds(1, 2, 3), ZoneOffset.ofHoursMinutesSeconds(-1, -2, -3)};
        int[] nanos = {0, 1, 10, 100_000, 123_456_000, 120_000_000, 100_000_000, 999_999_999, 5_000};
        Random random = new Random(42);
        for (ZoneOffset offset : offsets) {
            for (int nano : nanos) {
                values.add(OffsetDateTime.of(LocalDateTime.of(2026, 12, 1, 6, 5, 0, nano), offset));
                values.add(OffsetDateTime.of(LocalDateTime.of(2026, 1, 9, 0, 0, 9, nano), offset));
            }
            for (int i = 0; i < 2000; i++) {
                Instant instant = Instant.ofEpochSecond(random.nextLong(-62_000_000_000L, 253_000_000_000L),
                        random.nextInt(1_000_000) * 1000L);
                values.add(instant.atOffset(offset));
            }
        }
        // The years DateTimeJson leaves to the formatter, and the edges it writes itself.
        values.add(OffsetDateTime.of(LocalDateTime.of(10_000, 1, 1, 0, 0), ZoneOffset.UTC));
        values.add(OffsetDateTime.of(LocalDateTime.of(-1, 12, 31, 23, 59, 59), ZoneOffset.UTC));
        values.add(OffsetDateTime.of(LocalDateTime.of(0, 1, 1, 0, 0), ZoneOffset.UTC));
        values.add(OffsetDateTime.of(LocalDateTime.of(9999, 12, 31, 23, 59, 59, 999_999_999), ZoneOffset.ofHours(-18)));
        for (OffsetDateTime v : values) {
            assertThat(FAST.writeValueAsString(v)).as(v.toString()).isEqualTo(JSR310.writeValueAsString(v));
        }
    }

    @Test
    void theServiceWritesDatesWithIt() throws Exception {
        assertThat(service.getSerializerProviderInstance().findValueSerializer(OffsetDateTime.class))
                .isInstanceOf(DateTimeJson.Serializer.class);
        OffsetDateTime v = OffsetDateTime.of(LocalDateTime.of(2026, 12, 1, 6, 5, 0, 120_000), ZoneOffset.UTC);
        assertThat(service.writeValueAsString(v)).isEqualTo("\"2026-12-01T06:05:00.00012Z\"");
    }
}
