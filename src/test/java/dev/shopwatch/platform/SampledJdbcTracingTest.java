package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.PostgresResource;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The repositories' data source: OpenTelemetry's JDBC wrapper only while the current trace is sampled, the pool's
 * own connection otherwise (no instrumentation work for requests whose spans are never recorded). That sampled
 * requests still get their JDBC client spans under the right parent is TelemetryTest's.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class SampledJdbcTracingTest {

    @Inject
    @SampledJdbcTracing.Traced
    DataSource dataSource;

    private static Span span(TraceFlags flags) {
        return Span.wrap(SpanContext.create("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", flags, TraceState.getDefault()));
    }

    /** The connection's class, after proving it works: a query over it answers. */
    private String connectionClass() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            return c.getClass().getName();
        }
    }

    @Test
    void unsampledTracesGetThePoolsConnectionSampledOnesTheInstrumentedOne() throws Exception {
        try (Scope ignored = span(TraceFlags.getDefault()).makeCurrent()) {
            assertThat(connectionClass()).as("a trace the sampler dropped gets an uninstrumented connection")
                    .doesNotStartWith("io.opentelemetry.");
        }
        assertThat(connectionClass()).as("no trace at all (SDK disabled, background work): uninstrumented")
                .doesNotStartWith("io.opentelemetry.");
        try (Scope ignored = span(TraceFlags.getSampled()).makeCurrent()) {
            assertThat(connectionClass()).as("a sampled trace gets OpenTelemetry's JDBC wrapper (JDBC client spans)")
                    .startsWith("io.opentelemetry.instrumentation.jdbc.");
        }
    }
}
