package dev.shopwatch.platform;

import java.sql.SQLException;

/**
 * A JDBC failure, unchecked. {@link #unavailable()} tells whether the database could not be reached
 * (answered with 503 and {@code Retry-After}) or the statement itself failed (answered with 500).
 */
public class DataAccessException extends RuntimeException {

    static final String TOO_MANY_CONNECTIONS = "53300";

    private final boolean unavailable;

    public DataAccessException(String operation, SQLException cause) {
        super(operation + " failed: " + cause.getMessage(), cause);
        this.unavailable = isUnavailable(cause);
    }

    public boolean unavailable() {
        return unavailable;
    }

    /**
     * SQLState class 08 is "connection exception"; 57P01..57P03 are an administrator or crash shutdown and
     * "cannot connect now" (server starting); 53300 is "too many connections" (the server's max_connections or the
     * role's connection limit is reached), the server-side twin of an exhausted pool: retrying later helps; Agroal reports a pool that could not hand out a connection
     * within the acquisition timeout without a SQLState. The PostgreSQL driver gives every connection failure a class
     * 08 state (refused, reset, end of stream, unknown host: DataAccessExceptionTest), so the network exception
     * beneath it needs no test of its own.
     */
    static boolean isUnavailable(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state != null && (state.startsWith("08") || state.startsWith("57P") || state.equals(TOO_MANY_CONNECTIONS))) {
                    return true;
                }
                String message = String.valueOf(sql.getMessage()).toLowerCase();
                if (state == null && message.contains("acquisition timeout")) {
                    return true;
                }
            }
        }
        return false;
    }
}
