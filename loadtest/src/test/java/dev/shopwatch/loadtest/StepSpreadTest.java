package dev.shopwatch.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * make capacity prints how far apart the service's CPU per request is from step to step (SloLedger.spread), next
 * to the whole run's figure, which includes the JIT's warm-up and the seeding: (max - min) / min, the measure by
 * which make bench withholds rounds (loadtest/README.md, "Measured capacity").
 * JUnit 5: https://junit.org/junit5/docs/current/user-guide/
 */
class StepSpreadTest {

    @Test
    void spreadIsTheRangeOverTheSmallest() {
        assertEquals("0.80-1.20 ms, spread 50 %", SloLedger.spread(List.of(1.20, 0.80, 0.95)));
        assertEquals("1.00-1.00 ms, spread 0 %", SloLedger.spread(List.of(1.0)));
    }

    @Test
    void noStepNoSpread() {
        assertNull(SloLedger.spread(List.of()));
        assertEquals("0.00-1.00 ms, spread -", SloLedger.spread(List.of(0.0, 1.0)));
    }
}
