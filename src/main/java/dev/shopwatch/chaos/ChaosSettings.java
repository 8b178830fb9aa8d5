package dev.shopwatch.chaos;

import dev.shopwatch.problem.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    /**
     * The settings in force at start-up, from the configuration keys {@code shop.chaos.latency-ms},
     * {@code shop.chaos.latency-rate} and {@code shop.chaos.error-rate} (environment: {@code SHOP_CHAOS_LATENCY_MS},
     * {@code SHOP_CHAOS_LATENCY_RATE}, {@code SHOP_CHAOS_ERROR_RATE}); absent keys are off. The same limits as a PUT,
     * and a delay needs both its length and its share: one without the other would silently inject nothing.
     *
     * @throws IllegalArgumentException naming every bad variable and why, so the service refuses to start
     */
    static ChaosSettings initial(Optional<String> latencyMs, Optional<String> latencyRate, Optional<String> errorRate) {
        List<String> errors = new ArrayList<>();
        Long ms = parse(latencyMs, "latency-ms", Long::valueOf, "a whole number of milliseconds", errors);
        Double lr = parse(latencyRate, "latency-rate", Double::valueOf, "a number between 0 and 1", errors);
        Double er = parse(errorRate, "error-rate", Double::valueOf, "a number between 0 and 1", errors);
        ChaosSettings given = new ChaosSettings(ms, lr, er);
        for (Problem.FieldError v : given.violations()) {
            String key = switch (v.field()) {
                case "latencyMs" -> "latency-ms";
                case "latencyRate" -> "latency-rate";
                default -> "error-rate";
            };
            String raw = switch (key) {
                case "latency-ms" -> latencyMs.orElse("");
                case "latency-rate" -> latencyRate.orElse("");
                default -> errorRate.orElse("");
            };
            errors.add(describe(key) + "=" + raw + ": " + v.message());
        }
        if (errors.isEmpty() && (ms != null && ms > 0) != (lr != null && lr > 0)) {
            errors.add(describe("latency-ms") + " and " + describe("latency-rate")
                    + " go together: the delay and the share of requests it applies to (both > 0, or neither)");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("Invalid start-up chaos settings: " + String.join("; ", errors));
        }
        return given.merge(OFF);
    }

    private static String describe(String key) {
        return "SHOP_CHAOS_" + key.toUpperCase().replace('-', '_') + " (shop.chaos." + key + ")";
    }

    private static <T> T parse(Optional<String> raw, String key, java.util.function.Function<String, T> parser, String expected,
            List<String> errors) {
        if (raw.isEmpty() || raw.get().isBlank()) {
            return null;
        }
        try {
            return parser.apply(raw.get().trim());
        } catch (NumberFormatException e) {
            errors.add(describe(key) + "=" + raw.get() + ": not " + expected);
            return null;
        }
    }

    boolean active() {
        return (latencyMs > 0 && latencyRate > 0) || errorRate > 0;
    }
}
