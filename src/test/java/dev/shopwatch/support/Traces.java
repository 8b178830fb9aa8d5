package dev.shopwatch.support;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/**
 * A request under test gets a trace of its own: the test sends a W3C {@code traceparent} with a fresh trace id,
 * the service continues that trace, and the test reads back only the spans of that trace. Spans of earlier
 * requests, which the batch processor may still be exporting, can never be mistaken for this request's.
 */
public final class Traces {

    public final String traceId;
    /** The span id of the (remote) caller: the service's server span is its child. */
    public final String parentSpanId;

    private Traces(String traceId, String parentSpanId) {
        this.traceId = traceId;
        this.parentSpanId = parentSpanId;
    }

    public static Traces fresh() {
        return new Traces(randomHex(16), randomHex(8));
    }

    /** The header value: version 00, sampled (01), so the parent-based sampler records the request. */
    public String traceparent() {
        return "00-" + traceId + "-" + parentSpanId + "-01";
    }

    /** Waits until the spans of this trace satisfy {@code complete}, then returns them. */
    public List<SpanData> await(InMemorySpanExporter spans, Predicate<List<SpanData>> complete) {
        return Awaitility.await("spans of trace " + traceId).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList(), complete);
    }

    /** The one span of this trace named {@code name}; fails when there is none or more than one. */
    public static SpanData only(List<SpanData> spans, Predicate<SpanData> which, String what) {
        List<SpanData> found = spans.stream().filter(which).toList();
        if (found.size() != 1) {
            throw new AssertionError("expected exactly one " + what + " span, found " + found.size() + ": " + found);
        }
        return found.get(0);
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        do {
            ThreadLocalRandom.current().nextBytes(b);
        } while (HexFormat.of().formatHex(b).chars().allMatch(c -> c == '0'));
        return HexFormat.of().formatHex(b);
    }
}
