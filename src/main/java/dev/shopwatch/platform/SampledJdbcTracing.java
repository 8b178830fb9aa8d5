package dev.shopwatch.platform;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.instrumentation.jdbc.datasource.JdbcTelemetry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Qualifier;
import jakarta.inject.Singleton;
import java.io.PrintWriter;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * JDBC spans only for requests whose trace is sampled.
 *
 * <p>With Quarkus's JDBC telemetry ({@code quarkus.datasource.jdbc.telemetry=true}, now off) the data source Quarkus
 * injects is OpenTelemetry's JDBC wrapper: every borrowed connection and every statement goes through its instrumenters (database info, span
 * names, SQL sanitising, context), also for the requests the sampler dropped, whose spans are never recorded.
 * The profiles showed that work at 10 % sampling costing nearly what it costs at 100 % (loadtest/README.md,
 * "Benchmark"). The repositories take {@link Traced} instead: a data source that hands out the wrapper's connection
 * when the current span is sampled, and the pool's own connection otherwise (unsampled, or no trace at all, as
 * with the SDK disabled).
 *
 * <p>The wrapper of sampled requests is built here, not taken from Quarkus: Quarkus 3.34's
 * ({@code OpenTelemetryAgroalDataSource}) uses the wrapper's two-argument constructor, which also turns on its data
 * source instrumenter, an INTERNAL span around every {@code getConnection}. For this service that call only hands
 * out a pooled connection; the span cost about 4 % of the service's CPU per traced request and one exported span
 * of three (profile in loadtest/README.md, "Benchmark"). {@link JdbcTelemetry}'s builder leaves it off and keeps
 * the statement instrumenter with SQL sanitising on, so a sampled request gets exactly its JDBC client spans.
 */
public class SampledJdbcTracing {

    /** The data source the repositories use: JDBC spans when the current trace is sampled. */
    @Qualifier
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD, ElementType.TYPE})
    public @interface Traced {
    }

    /**
     * The pool is what the default data source wraps when Quarkus's JDBC telemetry is on (OpenTelemetry's wrapper
     * passes {@code unwrap} to the pool, and Agroal's pool answers with itself), or the default data source itself.
     */
    @Produces
    @Singleton
    @Traced
    DataSource traced(DataSource defaultDataSource, OpenTelemetry openTelemetry) throws SQLException {
        DataSource pool = defaultDataSource.unwrap(DataSource.class);
        return new SampledDataSource(pool, statementSpansOnly(openTelemetry, pool));
    }

    /** OpenTelemetry's JDBC wrapper with statement spans (SQL sanitised) and no span around getConnection. */
    static DataSource statementSpansOnly(OpenTelemetry openTelemetry, DataSource pool) {
        return JdbcTelemetry.builder(openTelemetry).setDataSourceInstrumenterEnabled(false).setStatementInstrumenterEnabled(true)
                .setStatementSanitizationEnabled(true).build().wrap(pool);
    }

    /** Connections from {@code instrumented} while the current span is sampled, else from {@code pool}. */
    static final class SampledDataSource implements DataSource {

        private final DataSource pool;
        private final DataSource instrumented;

        SampledDataSource(DataSource pool, DataSource instrumented) {
            this.pool = pool;
            this.instrumented = instrumented;
        }

        private DataSource current() {
            return Span.current().getSpanContext().isSampled() ? instrumented : pool;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return current().getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return current().getConnection(username, password);
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return pool.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            pool.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            pool.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return pool.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            return pool.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return pool.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return pool.isWrapperFor(iface);
        }
    }
}
