package dev.shopwatch.platform;

import dev.shopwatch.problem.Problem;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import java.util.List;

/** Query parameters parsed by hand so that a bad value is a 400 naming the parameter, not a JAX-RS 404. */
public final class Params {

    private Params() {
    }

    public static int intParam(String name, String raw, int defaultValue, int min, int max) {
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        int value;
        try {
            value = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw invalid(name, "must be an integer");
        }
        if (value < min || value > max) {
            throw invalid(name, "must be between " + min + " and " + max);
        }
        return value;
    }

    private static ProblemException invalid(String name, String message) {
        return new ProblemException(ProblemType.VALIDATION, "Query parameter '" + name + "' " + message + ".",
                List.of(new Problem.FieldError(name, message)));
    }
}
