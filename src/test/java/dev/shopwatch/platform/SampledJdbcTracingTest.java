package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import static dev.shopwatch.support.Api.createProduct;
import static dev.shopwatch.support.Api.uniqueSku;
import static io.restassured.RestAssured.given;

import dev.shopwatch.support.PostgresResource;
import dev.shopwatch.support.Traces;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
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
import java.util.List;
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

    @Inject
    InMemorySpanExporter spans;

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

    /**
     * A sampled by-id read is one server span with one JDBC client span (the SELECT) under it and
     * nothing else: no INTERNAL span around the pool's getConnection, which Quarkus's own wrapper adds.
     */
    @Test
    void sampledReadHasItsStatementSpanAndNoConnectionSpan() {
        long id = createProduct(uniqueSku("SPANS"), 100, 1);
        Traces trace = Traces.fresh();
        given().header("traceparent", trace.traceparent()).when().get("/api/products/" + id).then().statusCode(200);
        List<SpanData> all = trace.await(spans, found -> found.stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));
        SpanData server = Traces.only(all, s -> s.getKind() == SpanKind.SERVER, "GET /api/products/{id} server");
        SpanData select = Traces.only(all, s -> s.getKind() == SpanKind.CLIENT, "JDBC client span");
        assertThat(select.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(select.getName()).startsWith("SELECT");
        assertThat(select.getAttributes().get(AttributeKey.stringKey("db.system"))).isEqualTo("postgresql");
        assertThat(all).as("the trace's spans: the server span and the SELECT, no getConnection span")
                .extracting(SpanData::getName).hasSize(2).noneMatch(n -> n.contains("getConnection"));
    }

    /** The statement spans of sampled traces carry the SQL with its literals replaced by {@code ?} (no data in traces). */
    @Test
    void statementSpansCarrySanitisedSql() throws Exception {
        Traces trace = Traces.fresh();
        Span parent = Span.wrap(SpanContext.create(trace.traceId, trace.parentSpanId, TraceFlags.getSampled(), TraceState.getDefault()));
        try (Scope ignored = parent.makeCurrent(); Connection c = dataSource.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT 1 WHERE 'secret-literal' = 'secret-literal'")) {
            assertThat(rs.next()).isTrue();
        }
        List<SpanData> all = trace.await(spans, found -> !found.isEmpty());
        SpanData select = Traces.only(all, x -> x.getKind() == SpanKind.CLIENT, "JDBC client span");
        assertThat(select.getAttributes().get(AttributeKey.stringKey("db.statement"))).isEqualTo("SELECT ? WHERE ? = ?");
    }
}
