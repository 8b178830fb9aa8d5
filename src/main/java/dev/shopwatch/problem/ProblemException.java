package dev.shopwatch.problem;

import java.util.List;

/** Thrown by the domain code to answer with a specific problem; mapped by {@link ProblemMappers}. */
public class ProblemException extends RuntimeException {

    private final ProblemType problemType;
    private final List<Problem.FieldError> errors;

    public ProblemException(ProblemType problemType, String detail) {
        this(problemType, detail, null);
    }

    public ProblemException(ProblemType problemType, String detail, List<Problem.FieldError> errors) {
        super(detail, null, false, false);
        this.problemType = problemType;
        this.errors = errors;
    }

    public ProblemType problemType() {
        return problemType;
    }

    public List<Problem.FieldError> errors() {
        return errors;
    }
}
