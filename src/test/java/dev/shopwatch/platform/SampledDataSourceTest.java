package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Plain JUnit (PIT runs it; SampledJdbcTracingTest proves the same against the real pool and wrapper): which data
 * source serves a connection for a sampled, an unsampled and no trace, and that everything else is the pool's.
 */
class SampledDataSourceTest {

    /** A data source that answers with its own objects and records the calls it gets. */
    static final class Stub {
        final String name;
        final List<String> calls = new ArrayList<>();
        final Connection connection;
        final PrintWriter writer = new PrintWriter(new StringWriter());
        final Logger logger;
        DataSource unwrapsTo;
        final DataSource dataSource;

        Stub(String name) {
            this.name = name;
            this.logger = Logger.getLogger("stub." + name);
            this.connection = (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                    (p, m, a) -> m.getName().equals("toString") ? name + "-connection" : null);
            this.dataSource = (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                    (p, m, a) -> {
                        calls.add(m.getName() + (a == null ? "" : List.of(a)));
                        return switch (m.getName()) {
                            case "getConnection" -> connection;
                            case "getLogWriter" -> writer;
                            case "getLoginTimeout" -> name.length();
                            case "getParentLogger" -> logger;
                            case "unwrap" -> unwrapsTo == null ? p : unwrapsTo;
                            case "isWrapperFor" -> true;
                            case "toString" -> name;
                            default -> null;
                        };
                    });
        }
    }

    private final Stub pool = new Stub("pool");
    private final Stub instrumented = new Stub("instrumented");
    private final DataSource sampled = new SampledJdbcTracing.SampledDataSource(pool.dataSource, instrumented.dataSource);

    private static Scope trace(TraceFlags flags) {
        return Span.wrap(SpanContext.create("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", flags, TraceState.getDefault()))
                .makeCurrent();
    }

    @Test
    void connectionsComeFromTheInstrumentedSourceOnlyWhileTheTraceIsSampled() throws Exception {
        assertThat(sampled.getConnection()).as("no trace").isSameAs(pool.connection);
        try (Scope ignored = trace(TraceFlags.getDefault())) {
            assertThat(sampled.getConnection()).as("a dropped trace").isSameAs(pool.connection);
            assertThat(sampled.getConnection("u", "p")).isSameAs(pool.connection);
        }
        try (Scope ignored = trace(TraceFlags.getSampled())) {
            assertThat(sampled.getConnection()).as("a sampled trace").isSameAs(instrumented.connection);
            assertThat(sampled.getConnection("u", "p")).isSameAs(instrumented.connection);
        }
        assertThat(pool.calls).containsExactly("getConnection", "getConnection", "getConnection[u, p]");
        assertThat(instrumented.calls).containsExactly("getConnection", "getConnection[u, p]");
    }

    @Test
    void everythingElseIsThePools() throws Exception {
        assertThat(sampled.getLogWriter()).isSameAs(pool.writer);
        PrintWriter out = new PrintWriter(new StringWriter());
        sampled.setLogWriter(out);
        sampled.setLoginTimeout(9);
        assertThat(sampled.getLoginTimeout()).isEqualTo(4);
        assertThat(sampled.getParentLogger()).isSameAs(pool.logger);
        assertThat(sampled.unwrap(DataSource.class)).isSameAs(pool.dataSource);
        assertThat(sampled.isWrapperFor(DataSource.class)).isTrue();
        assertThat(pool.calls).containsExactly("getLogWriter", "setLogWriter[" + out + "]", "setLoginTimeout[9]", "getLoginTimeout",
                "getParentLogger", "unwrap[interface javax.sql.DataSource]", "isWrapperFor[interface javax.sql.DataSource]");
        assertThat(instrumented.calls).isEmpty();
    }

    @Test
    void theProducerWrapsThePoolTheDefaultSourceUnwrapsTo() throws Exception {
        Stub quarkusDefault = new Stub("default");
        quarkusDefault.unwrapsTo = pool.dataSource;
        DataSource traced = new SampledJdbcTracing().traced(quarkusDefault.dataSource, OpenTelemetry.noop());
        assertThat(traced.getConnection()).isSameAs(pool.connection);
        assertThat(traced.unwrap(DataSource.class)).isSameAs(pool.dataSource);
        assertThat(quarkusDefault.calls).as("the default source is only unwrapped (the wrapper of sampled traces is built"
                + " around the pool: SampledJdbcTracingTest)").containsExactly("unwrap[interface javax.sql.DataSource]");
    }
}
