package dev.shopwatch.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.shopwatch.platform.DataAccessException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.Comparator;
import java.util.List;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns every failure into an RFC 9457 problem. Clients never see a stack trace or an HTML page: unexpected
 * failures are logged here (with the trace id, from the MDC) and answered with a generic 500.
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);
    /** Seconds a client should wait before retrying while the database is unreachable. */
    static final String RETRY_AFTER_SECONDS = "5";

    @ServerExceptionMapper
    public Response problem(ProblemException e, UriInfo uri) {
        return respond(e.problemType(), e.getMessage(), uri, e.errors());
    }

    @ServerExceptionMapper
    public Response validation(ConstraintViolationException e, UriInfo uri) {
        List<Problem.FieldError> errors = e.getConstraintViolations().stream()
                .map(v -> new Problem.FieldError(fieldOf(v), v.getMessage()))
                .sorted(Comparator.comparing(Problem.FieldError::field).thenComparing(Problem.FieldError::message))
                .toList();
        String fields = String.join(", ", errors.stream().map(Problem.FieldError::field).distinct().toList());
        return respond(ProblemType.VALIDATION, "Invalid value(s) for: " + fields + ".", uri, errors);
    }

    @ServerExceptionMapper
    public Response unknownProperty(UnrecognizedPropertyException e, UriInfo uri) {
        String field = path(e);
        return respond(ProblemType.UNKNOWN_PROPERTY, "Property '" + field + "' is not part of this API.", uri,
                List.of(new Problem.FieldError(field, "unknown property")));
    }

    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e, UriInfo uri) {
        String field = path(e);
        if (field.isEmpty()) {
            return respond(ProblemType.MALFORMED_JSON, "The request body does not have the expected structure.", uri, null);
        }
        String expected = e.getTargetType() == null ? "another type" : e.getTargetType().getSimpleName();
        return respond(ProblemType.VALIDATION, "Property '" + field + "' has the wrong type (expected " + expected + ").", uri,
                List.of(new Problem.FieldError(field, "wrong type, expected " + expected)));
    }

    @ServerExceptionMapper
    public Response malformedJson(JsonProcessingException e, UriInfo uri) {
        if (e instanceof JsonMappingException m && !path(m).isEmpty()) {
            return respond(ProblemType.VALIDATION, "Property '" + path(m) + "' is invalid.", uri,
                    List.of(new Problem.FieldError(path(m), "invalid value")));
        }
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        return respond(ProblemType.MALFORMED_JSON, "The request body is not valid JSON" + where + ".", uri, null);
    }

    @ServerExceptionMapper
    public Response dataAccess(DataAccessException e, UriInfo uri) {
        if (e.unavailable()) {
            LOG.warnf("Database unavailable: %s", e.getMessage());
            return Response.fromResponse(respond(ProblemType.DATABASE_UNAVAILABLE,
                    "The database cannot be reached; retry later.", uri, null))
                    .header("Retry-After", RETRY_AFTER_SECONDS).build();
        }
        LOG.error("Database operation failed", e);
        return respond(ProblemType.INTERNAL, "An unexpected error occurred.", uri, null);
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, UriInfo uri) {
        // Quarkus wraps a body Jackson could not parse in a 400 WebApplicationException: unwrap it so the
        // client learns what was wrong with its JSON.
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            if (cause instanceof UnrecognizedPropertyException u) {
                return unknownProperty(u, uri);
            }
            if (cause instanceof MismatchedInputException m) {
                return mismatchedInput(m, uri);
            }
            if (cause instanceof JsonProcessingException j) {
                return malformedJson(j, uri);
            }
        }
        int status = e.getResponse().getStatus();
        ProblemType type = switch (status) {
            case 400 -> ProblemType.BAD_REQUEST;
            case 404 -> ProblemType.NOT_FOUND;
            case 405 -> ProblemType.METHOD_NOT_ALLOWED;
            case 406 -> ProblemType.NOT_ACCEPTABLE;
            case 413 -> ProblemType.PAYLOAD_TOO_LARGE;
            case 415 -> ProblemType.UNSUPPORTED_MEDIA_TYPE;
            default -> null;
        };
        if (type == null) {
            if (status >= 500) {
                LOG.error("Request failed", e);
            }
            return Response.status(status).type(Problem.MEDIA_TYPE)
                    .entity(new Problem(null, e.getResponse().getStatusInfo().getReasonPhrase(), status,
                            "The request could not be processed.", instance(uri), null)).build();
        }
        String detail = switch (type) {
            case NOT_FOUND -> "No resource at " + instance(uri) + ".";
            case UNSUPPORTED_MEDIA_TYPE -> "Send the request body as application/json.";
            case NOT_ACCEPTABLE -> "This resource produces application/json.";
            case METHOD_NOT_ALLOWED -> "This resource does not support the method.";
            default -> "The request could not be processed.";
        };
        return respond(type, detail, uri, null);
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e, UriInfo uri) {
        LOG.error("Unexpected failure", e);
        return respond(ProblemType.INTERNAL, "An unexpected error occurred.", uri, null);
    }

    public static Response respond(ProblemType type, String detail, UriInfo uri, List<Problem.FieldError> errors) {
        return Response.status(type.status()).type(Problem.MEDIA_TYPE)
                .entity(new Problem(type.type(), type.title(), type.status(), detail, instance(uri), errors)).build();
    }

    private static String instance(UriInfo uri) {
        return uri == null ? null : uri.getRequestUri().getRawPath();
    }

    /** "lines[0].quantity" from a Jackson reference path. */
    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /**
     * "lines[0].quantity" from a Bean Validation path such as "place.request.lines[0].quantity": the method and
     * parameter nodes are dropped, so the field reads as it does in the JSON body.
     */
    static String fieldOf(ConstraintViolation<?> v) {
        StringBuilder sb = new StringBuilder();
        for (Path.Node node : v.getPropertyPath()) {
            switch (node.getKind()) {
                case METHOD, PARAMETER, CONSTRUCTOR, RETURN_VALUE, CROSS_PARAMETER -> {
                    continue;
                }
                default -> {
                }
            }
            // An element of a list carries its index on the node that follows the list: lines[0].quantity
            if (node.isInIterable() && node.getIndex() != null) {
                sb.append('[').append(node.getIndex()).append(']');
            }
            if (node.getName() != null && !node.getName().startsWith("<")) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(node.getName());
            }
        }
        if (sb.isEmpty()) {
            return "body";
        }
        return sb.toString();
    }
}
