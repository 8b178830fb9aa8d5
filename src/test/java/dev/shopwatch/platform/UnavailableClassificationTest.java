package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * Each branch of the "database unavailable" classification (README, Design notes: class 08, 57P0x, 53300, a pool
 * acquisition timeout without a SQLState) and what stays a 500, on hand-made SQLExceptions. DatabaseFailureTest and
 * DatabaseOutageTest produce the real failures under the running service; this plain test lets PIT try every
 * condition of DataAccessException in milliseconds.
 */
class UnavailableClassificationTest {

    private static boolean unavailable(SQLException e) {
        return new DataAccessException("op", e).unavailable();
    }

    @Test
    void connectionExceptionsAreUnavailable() {
        assertThat(unavailable(new SQLException("refused", "08001"))).isTrue();
        assertThat(unavailable(new SQLException("I/O error", "08006"))).isTrue();
    }

    @Test
    void shutdownAndCannotConnectNowAreUnavailable() {
        assertThat(unavailable(new SQLException("terminating connection due to administrator command", "57P01"))).isTrue();
        assertThat(unavailable(new SQLException("the database system is starting up", "57P03"))).isTrue();
    }

    @Test
    void tooManyConnectionsIsUnavailableButOtherResourceErrorsAreNot() {
        assertThat(unavailable(new SQLException("sorry, too many clients already", "53300"))).isTrue();
        assertThat(unavailable(new SQLException("could not extend file: No space left on device", "53100"))).isFalse();
        assertThat(unavailable(new SQLException("out of memory", "53200"))).isFalse();
    }

    @Test
    void poolAcquisitionTimeoutWithoutStateIsUnavailable() {
        assertThat(unavailable(new SQLException("Sorry, acquisition timeout!"))).isTrue();
        assertThat(unavailable(new SQLException("ACQUISITION TIMEOUT"))).as("case-insensitive").isTrue();
    }

    @Test
    void statementFailuresStayInternal() {
        assertThat(unavailable(new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(unavailable(new SQLException("boom", "XX000"))).isFalse();
        assertThat(unavailable(new SQLException("query canceled", "57014"))).as("class 57 but not 57P").isFalse();
        assertThat(unavailable(new SQLException("08001 in the text only", "42P01"))).as("the state counts, not the text").isFalse();
        assertThat(unavailable(new SQLException("acquisition timeout", "XX000"))).as("the timeout text only without a state").isFalse();
        assertThat(unavailable(new SQLException((String) null))).as("no state, no message").isFalse();
        assertThat(unavailable(new SQLException("something else"))).isFalse();
    }

    @Test
    void theCauseChainIsSearched() {
        SQLException outer = new SQLException("place order failed", "XX000", new RuntimeException("wrapped",
                new SQLException("connection reset", "08006")));
        assertThat(unavailable(outer)).isTrue();
        assertThat(unavailable(new SQLException("outer", "XX000", new SQLException("inner", "23505")))).isFalse();
    }

    @Test
    void messageNamesTheOperationAndTheCause() {
        DataAccessException e = new DataAccessException("find product", new SQLException("no route", "08001"));
        assertThat(e.getMessage()).isEqualTo("find product failed: no route");
        assertThat(e.getCause()).isInstanceOf(SQLException.class);
    }
}
