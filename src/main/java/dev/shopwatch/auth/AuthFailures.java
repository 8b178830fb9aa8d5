package dev.shopwatch.auth;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * {@code shop_auth_failures_total{reason}}: refused requests to a secured operation, by why. The label takes only the
 * four values of {@link Reason}, never anything from the request, so no credential can reach a label and the series
 * count stays fixed.
 */
public final class AuthFailures {

    /** Why a request was refused; {@link #label} is the metric's {@code reason}. */
    public enum Reason {
        /** no {@code Authorization} header (401) */
        MISSING("missing"),
        /** not {@code Bearer <key>}, or the token is not shaped like a key (401) */
        MALFORMED("malformed"),
        /** a key-shaped token whose hash is in no line of the key file (401) */
        UNKNOWN_KEY("unknown_key"),
        /** a valid key without the role the operation needs (403) */
        FORBIDDEN("forbidden");

        public final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);

    public AuthFailures(MeterRegistry registry) {
        // Every reason is registered at start, so each series exists at 0 before the first failure (rate() and the
        // credential-stuffing alert see a series from the start).
        for (Reason r : Reason.values()) {
            counters.put(r, Counter.builder("shop.auth.failures").description("Requests refused by authentication or authorisation")
                    .tag("reason", r.label).register(registry));
        }
    }

    public void count(Reason reason) {
        counters.get(reason).increment();
    }
}
