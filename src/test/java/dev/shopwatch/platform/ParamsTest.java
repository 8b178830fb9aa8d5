package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shopwatch.problem.Problem;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import org.junit.jupiter.api.Test;

/**
 * Query-parameter parsing without the service (README, "The API": page and size out of range are a 400 naming the
 * parameter). Plain JUnit: it runs in milliseconds, which is what lets PIT (make mutation) try every mutant of
 * Params against it; ProductResourceTest checks the same answers over HTTP.
 */
class ParamsTest {

    private static int parse(String raw) {
        return Params.intParam("size", raw, 20, 1, 100);
    }

    private static ProblemException refused(String raw) {
        ProblemException e = catchThrowableOfType(ProblemException.class, () -> parse(raw));
        assertThat(e).as("'%s' is refused", raw).isNotNull();
        assertThat(e.problemType()).isEqualTo(ProblemType.VALIDATION);
        return e;
    }

    @Test
    void absentOrBlankTakesTheDefault() {
        assertThat(parse(null)).isEqualTo(20);
        assertThat(parse("")).isEqualTo(20);
        assertThat(parse("  ")).isEqualTo(20);
    }

    @Test
    void bothBoundsAreAcceptedAndSurroundingSpaceIgnored() {
        assertThat(parse("1")).isEqualTo(1);
        assertThat(parse("100")).isEqualTo(100);
        assertThat(parse(" 42 ")).isEqualTo(42);
    }

    private static void assertRefused(String message, String... raws) {
        assertThat(raws).isNotEmpty();
        for (String raw : raws) {
            ProblemException e = refused(raw);
            assertThat(e.getMessage()).isEqualTo("Query parameter 'size' " + message + ".");
            assertThat(e.errors()).containsExactly(new Problem.FieldError("size", message));
        }
    }

    @Test
    void oneBelowOrAboveTheRangeIsRefusedNamingTheParameterAndTheRange() {
        assertRefused("must be between 1 and 100", "0", "101", "-5");
    }

    @Test
    void notAnIntegerIsRefusedNamingTheParameter() {
        assertRefused("must be an integer", "ten", "1.5", "99999999999");
    }
}
