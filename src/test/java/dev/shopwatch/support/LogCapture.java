package dev.shopwatch.support;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.Logger;

/**
 * Captures log lines exactly as the console prints them: it formats each record with the console handler's own
 * formatter, so tests see the real JSON lines.
 */
public final class LogCapture extends Handler implements AutoCloseable {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Formatter formatter;
    private final Logger root = LogContext.getLogContext().getLogger("");

    public LogCapture() {
        this.formatter = consoleFormatter(root.getHandlers());
        if (formatter == null) {
            throw new IllegalStateException("no console formatter found");
        }
        root.addHandler(this);
    }

    private static Formatter consoleFormatter(Handler[] handlers) {
        for (Handler h : handlers) {
            if (h.getFormatter() != null && h.getClass().getSimpleName().contains("Console")) {
                return h.getFormatter();
            }
            if (h instanceof ExtHandler ext) {
                Formatter f = consoleFormatter(ext.getHandlers());
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    public List<String> lines() {
        return lines;
    }

    @Override
    public void publish(LogRecord record) {
        lines.add(formatter.format(record).strip());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        root.removeHandler(this);
    }
}
