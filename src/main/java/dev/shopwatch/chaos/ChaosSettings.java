package dev.shopwatch.chaos;

import dev.shopwatch.problem.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Fault injection applied to {@code /api/*}: each request is delayed by {@code latencyMs} with probability
 * {@code latencyRate}, and fails with an injected 500 with probability {@code errorRate}.
 */
public record ChaosSettings(Long latencyMs, Double latencyRate, Double errorRate) {

    public static final ChaosSettings OFF = new ChaosSettings(0L, 0.0, 0.0);
    static final long MAX_LATENCY_MS = 60_000;

    /** Fills absent fields from the current settings, so a PUT can change just one knob. */
    ChaosSettings merge(ChaosSettings current) {
        return new ChaosSettings(latencyMs != null ? latencyMs : current.latencyMs,
                latencyRate != null ? latencyRate : current.latencyRate,
                errorRate != null ? errorRate : current.errorRate);
    }

    /** @return one error per invalid field, empty when valid */
    List<Problem.FieldError> violations() {
        List<Problem.FieldError> errors = new ArrayList<>();
        if (latencyMs != null && (latencyMs < 0 || latencyMs > MAX_LATENCY_MS)) {
            errors.add(new Problem.FieldError("latencyMs", "must be between 0 and " + MAX_LATENCY_MS));
        }
        if (latencyRate != null && !(latencyRate >= 0 && latencyRate <= 1)) {
            errors.add(new Problem.FieldError("latencyRate", "must be between 0 and 1"));
        }
        if (errorRate != null && !(errorRate >= 0 && errorRate <= 1)) {
            errors.add(new Problem.FieldError("errorRate", "must be between 0 and 1"));
        }
        return errors;
    }

    boolean active() {
        return (latencyMs > 0 && latencyRate > 0) || errorRate > 0;
    }
}
