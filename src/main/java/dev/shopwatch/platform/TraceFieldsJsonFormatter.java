package dev.shopwatch.platform;

import io.quarkus.logging.json.runtime.JsonFormatter;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.logging.Handler;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.formatters.StructuredFormatter;

/**
 * Quarkus's JSON log formatter nests the MDC, so the trace id would sit at {@code mdc.traceId}. Log pipelines
 * (Alloy/Loki, and people grepping) expect {@code traceId} and {@code spanId} at the top level next to
 * {@code level} and {@code message}. This formatter writes them there; the nested {@code mdc} object is dropped
 * through {@code quarkus.log.console.json.excluded-keys}. Everything else is configured by the usual
 * {@code quarkus.log.console.json.*} keys and copied from the formatter Quarkus built.
 */
public class TraceFieldsJsonFormatter extends JsonFormatter {

    static final String TRACE_ID = "traceId";
    static final String SPAN_ID = "spanId";

    @Override
    protected void after(StructuredFormatter.Generator generator, ExtLogRecord record) throws Exception {
        String traceId = record.getMdc(TRACE_ID);
        if (traceId != null && !traceId.isEmpty()) {
            generator.add(TRACE_ID, traceId);
            generator.add(SPAN_ID, record.getMdc(SPAN_ID));
        }
        super.after(generator, record);
    }

    /** Swaps the JSON formatter of every console handler for this one, as the application starts. */
    @ApplicationScoped
    static class Installer {
        void install(@Observes @Priority(1) StartupEvent event) {
            for (Handler h : LogContext.getLogContext().getLogger("").getHandlers()) {
                replace(h);
            }
        }

        private static void replace(Handler handler) {
            if (handler.getFormatter() instanceof JsonFormatter original && !(original instanceof TraceFieldsJsonFormatter)) {
                TraceFieldsJsonFormatter flat = new TraceFieldsJsonFormatter();
                flat.setExcludedKeys(original.getExcludedKeys());
                flat.setAdditionalFields(original.getAdditionalFields());
                flat.setExceptionOutputType(original.getExceptionOutputType());
                flat.setPrintDetails(original.isPrintDetails());
                flat.setRecordDelimiter(original.getRecordDelimiter());
                handler.setFormatter(flat);
            }
            if (handler instanceof ExtHandler ext) {
                for (Handler child : ext.getHandlers()) {
                    replace(child);
                }
            }
        }
    }
}
