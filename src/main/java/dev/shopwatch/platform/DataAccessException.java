package dev.shopwatch.platform;

import java.sql.SQLException;

/**
 * A JDBC failure, unchecked. {@link #unavailable()} tells whether the database could not be reached
 * (answered with 503 and {@code Retry-After}) or the statement itself failed (answered with 500).
 */
public class DataAccessException extends RuntimeException {

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
     * "cannot connect now" (server starting); Agroal reports a pool that could not hand out a connection
     * within the acquisition timeout without a SQLState.
     */
    static boolean isUnavailable(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
                    return true;
                }
                String message = String.valueOf(sql.getMessage()).toLowerCase();
                if (state == null && message.contains("acquisition timeout")) {
                    return true;
                }
            }
            if (t instanceof java.net.ConnectException || t instanceof java.io.EOFException
                    || t instanceof java.net.SocketException) {
                return true;
            }
        }
        return false;
    }
}
