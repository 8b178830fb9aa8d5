package dev.shopwatch.problem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.shopwatch.order.OrderRequest;
import dev.shopwatch.platform.DataAccessException;
import dev.shopwatch.product.ProductRequest;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Valid;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.hibernate.validator.messageinterpolation.ParameterMessageInterpolator;
import org.junit.jupiter.api.Test;

/**
 * The problem documents ProblemMappers builds (README, "The API": type, status, a detail naming the field, the
 * field paths as they read in the JSON body, 503 with Retry-After, nothing from inside on a 500), fed with the real
 * Jackson and Hibernate Validator exceptions but without the HTTP stack. The @QuarkusTest suites check the same
 * answers end to end; these run in milliseconds, so PIT (make mutation) can try every mutant of the mappers.
 */
class ProblemMappersTest {

    private static final String PATH = "/api/orders";
    private static final UriInfo URI_INFO = (UriInfo) Proxy.newProxyInstance(UriInfo.class.getClassLoader(),
            new Class<?>[] {UriInfo.class}, (proxy, method, args) -> {
                if (method.getName().equals("getRequestUri")) {
                    return URI.create("http://localhost:8080" + PATH + "?debug=1");
                }
                throw new UnsupportedOperationException(method.getName());
            });

    private final ProblemMappers mappers = new ProblemMappers();
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static Problem problem(Response r, int status, ProblemType type) {
        assertThat(r.getStatus()).isEqualTo(status);
        assertThat(r.getMediaType().toString()).isEqualTo(Problem.MEDIA_TYPE);
        Problem p = (Problem) r.getEntity();
        assertThat(p.type()).isEqualTo(type.type());
        assertThat(p.title()).isEqualTo(type.title());
        assertThat(p.status()).isEqualTo(status);
        assertThat(p.instance()).as("the request path, without the query").isEqualTo(PATH);
        return p;
    }

    /** A 400 of {@code type} with {@code detail} and one field error. */
    private static void assertOneField(Response r, ProblemType type, String detail, String field, String message) {
        Problem p = problem(r, 400, type);
        assertThat(p.detail()).isEqualTo(detail);
        assertThat(p.errors()).containsExactly(new Problem.FieldError(field, message));
    }

    private <T extends Throwable> T parseError(Class<T> kind, String body) {
        T e = catchThrowableOfType(kind, () -> json.readValue(body, OrderRequest.class));
        assertThat(e).as("%s from %s", kind.getSimpleName(), body).isNotNull();
        return e;
    }

    /** The order {@code body} fails to parse with {@code kind}; {@code mapper} answers it with one field error. */
    private <T extends Throwable> void assertBodyError(Class<T> kind, String body, Function<T, Response> mapper,
            ProblemType type, String detail, String field, String message) {
        assertOneField(mapper.apply(parseError(kind, body)), type, detail, field, message);
    }

    // ---- ProblemException, data access, unexpected failures ----

    @Test
    void problemExceptionKeepsItsTypeDetailAndErrors() {
        List<Problem.FieldError> errors = List.of(new Problem.FieldError("size", "must be an integer"));
        Problem p = problem(mappers.problem(new ProblemException(ProblemType.VALIDATION, "Bad size.", errors), URI_INFO), 400,
                ProblemType.VALIDATION);
        assertThat(p.detail()).isEqualTo("Bad size.");
        assertThat(p.errors()).isEqualTo(errors);
        Problem notFound = problem(mappers.problem(new ProblemException(ProblemType.NOT_FOUND, "Product 7 does not exist."), URI_INFO),
                404, ProblemType.NOT_FOUND);
        assertThat(notFound.errors()).isNull();
    }

    @Test
    void unreachableDatabaseIs503WithRetryAfter() {
        Response r = mappers.dataAccess(new DataAccessException("find product", new SQLException("refused", "08001")), URI_INFO);
        Problem p = problem(r, 503, ProblemType.DATABASE_UNAVAILABLE);
        assertThat(p.detail()).isEqualTo("The database cannot be reached; retry later.");
        assertThat(r.getHeaderString("Retry-After")).isEqualTo("5");
    }

    @Test
    void failedStatementIsAGeneric500WithoutRetryAfterOrItsMessage() {
        Response r = mappers.dataAccess(new DataAccessException("create product",
                new SQLException("relation \"product\" does not exist", "42P01")), URI_INFO);
        Problem p = problem(r, 500, ProblemType.INTERNAL);
        assertThat(p.detail()).isEqualTo("An unexpected error occurred.");
        assertThat(r.getHeaderString("Retry-After")).isNull();
    }

    @Test
    void unexpectedFailureIsAGeneric500() {
        Problem p = problem(mappers.unexpected(new IllegalStateException("secret internals"), URI_INFO), 500, ProblemType.INTERNAL);
        assertThat(p.detail()).isEqualTo("An unexpected error occurred.");
        assertThat(p.errors()).isNull();
    }

    @Test
    void noUriInfoMeansNoInstance() {
        Response r = ProblemMappers.respond(ProblemType.NOT_FOUND, "gone", null, null);
        assertThat(((Problem) r.getEntity()).instance()).isNull();
    }

    // ---- Jackson: unknown properties, wrong types, malformed JSON ----

    @Test
    void unknownPropertyNamesItsPathInTheBody() {
        Function<UnrecognizedPropertyException, Response> unknown = e -> mappers.unknownProperty(e, URI_INFO);
        assertBodyError(UnrecognizedPropertyException.class,
                "{\"lines\":[{\"productId\":1,\"quantity\":1},{\"productId\":2,\"quantity\":1,\"price\":5}]}", unknown,
                ProblemType.UNKNOWN_PROPERTY, "Property 'lines[1].price' is not part of this API.", "lines[1].price", "unknown property");
        assertBodyError(UnrecognizedPropertyException.class, "{\"id\":3,\"lines\":[]}", unknown,
                ProblemType.UNKNOWN_PROPERTY, "Property 'id' is not part of this API.", "id", "unknown property");
    }

    @Test
    void wrongTypeNamesTheFieldAndTheExpectedType() {
        assertBodyError(MismatchedInputException.class,
                "{\"lines\":[{\"productId\":1,\"quantity\":1},{\"productId\":\"two\",\"quantity\":1}]}",
                e -> mappers.mismatchedInput(e, URI_INFO), ProblemType.VALIDATION,
                "Property 'lines[1].productId' has the wrong type (expected Long).", "lines[1].productId", "wrong type, expected Long");
    }

    @Test
    void wrongTypeWithoutATargetTypeSaysAnotherType() {
        MismatchedInputException e = MismatchedInputException.from(null, (Class<?>) null, "no target");
        e.prependPath(new JsonMappingException.Reference(null, "stock"));
        Problem p = problem(mappers.mismatchedInput(e, URI_INFO), 400, ProblemType.VALIDATION);
        assertThat(p.errors()).containsExactly(new Problem.FieldError("stock", "wrong type, expected another type"));
    }

    @Test
    void wrongStructureAtTheTopIsMalformed() {
        MismatchedInputException e = parseError(MismatchedInputException.class, "[1, 2]");
        Problem p = problem(mappers.mismatchedInput(e, URI_INFO), 400, ProblemType.MALFORMED_JSON);
        assertThat(p.detail()).isEqualTo("The request body does not have the expected structure.");
        assertThat(p.errors()).isNull();
    }

    @Test
    void syntaxErrorGivesItsLineAndColumn() {
        JsonProcessingException e = catchThrowableOfType(JsonProcessingException.class, () -> json.readTree("{\n  \"lines\": ]"));
        assertThat(e).isNotNull().isNotInstanceOf(JsonMappingException.class);
        assertThat(e.getLocation().getLineNr()).isEqualTo(2);
        Problem p = problem(mappers.malformedJson(e, URI_INFO), 400, ProblemType.MALFORMED_JSON);
        assertThat(p.detail()).isEqualTo("The request body is not valid JSON at line 2, column " + e.getLocation().getColumnNr() + ".");
        assertThat(e.getLocation().getColumnNr()).isPositive();
        assertThat(p.errors()).isNull();
    }

    @Test
    void syntaxErrorWithoutALocationSaysJustThat() {
        Problem p = problem(mappers.malformedJson(new JsonParseException(null, "bad"), URI_INFO), 400, ProblemType.MALFORMED_JSON);
        assertThat(p.detail()).isEqualTo("The request body is not valid JSON.");
    }

    @Test
    void mappingErrorOnAFieldIsAValidationErrorNamingIt() {
        JsonMappingException e = JsonMappingException.from((com.fasterxml.jackson.core.JsonParser) null, "cannot construct");
        e.prependPath(new JsonMappingException.Reference(null, "quantity"));
        e.prependPath(new JsonMappingException.Reference(null, 0));
        e.prependPath(new JsonMappingException.Reference(null, "lines"));
        assertOneField(mappers.malformedJson(e, URI_INFO), ProblemType.VALIDATION, "Property 'lines[0].quantity' is invalid.",
                "lines[0].quantity", "invalid value");
    }

    @Test
    void mappingErrorWithoutAPathIsMalformed() {
        JsonMappingException e = JsonMappingException.from((com.fasterxml.jackson.core.JsonParser) null, "no path");
        assertThat(problem(mappers.malformedJson(e, URI_INFO), 400, ProblemType.MALFORMED_JSON).detail())
                .isEqualTo("The request body is not valid JSON.");
    }

    // ---- Bean Validation: field paths as they read in the body ----

    /** Stand for the resource methods: their parameters are validated as JAX-RS validates the real ones. */
    static class Resources {
        @SuppressWarnings("unused")
        void place(@NotNull(message = "request body is required") @Valid OrderRequest request) {
        }

        @SuppressWarnings("unused")
        void create(@Valid ProductRequest request) {
        }
    }

    /** Built once: a validator factory takes seconds to start on a busy machine. */
    private static final Validator VALIDATOR = Validation.byDefaultProvider().configure()
            .messageInterpolator(new ParameterMessageInterpolator()).buildValidatorFactory().getValidator();

    private Problem validationProblem(String method, Object request) throws NoSuchMethodException {
        Class<?> type = method.equals("place") ? OrderRequest.class : ProductRequest.class;
        Set<ConstraintViolation<Resources>> v = VALIDATOR.forExecutables().validateParameters(new Resources(),
                Resources.class.getDeclaredMethod(method, type), new Object[] {request});
        assertThat(v).as("the request is invalid").isNotEmpty();
        return problem(mappers.validation(new ConstraintViolationException(v), URI_INFO), 400, ProblemType.VALIDATION);
    }

    private Problem validationProblem(OrderRequest request) throws NoSuchMethodException {
        return validationProblem("place", request);
    }

    @Test
    void fieldPathsDropTheMethodAndParameterAndKeepListIndexes() throws Exception {
        OrderRequest request = new OrderRequest(List.of(new OrderRequest.Line(1L, 1), new OrderRequest.Line(2L, 0),
                new OrderRequest.Line(null, 10_001)));
        Problem p = validationProblem(request);
        assertThat(p.errors()).extracting(Problem.FieldError::field)
                .containsExactly("lines[1].quantity", "lines[2].productId", "lines[2].quantity");
        assertThat(p.detail()).isEqualTo("Invalid value(s) for: lines[1].quantity, lines[2].productId, lines[2].quantity.");
    }

    @Test
    void aNullListElementIsNamedByItsIndex() throws Exception {
        List<OrderRequest.Line> lines = new ArrayList<>(Arrays.asList(new OrderRequest.Line(1L, 1), null));
        assertThat(validationProblem(new OrderRequest(lines)).errors())
                .containsExactly(new Problem.FieldError("lines[1]", "must not be null"));
    }

    @Test
    void aMissingBodyIsNamedBody() throws Exception {
        assertThat(validationProblem(null).errors()).containsExactly(new Problem.FieldError("body", "request body is required"));
    }

    @Test
    void errorsAreSortedByFieldThenMessageAndTheDetailNamesEachFieldOnce() throws Exception {
        Problem p = validationProblem("create", new ProductRequest(" ", null, null, 1L, 1));
        assertThat(p.errors()).containsExactly(new Problem.FieldError("name", "must not be blank"),
                new Problem.FieldError("sku", "must be letters, digits, '.', '_' or '-'"),
                new Problem.FieldError("sku", "must not be blank"));
        assertThat(p.detail()).isEqualTo("Invalid value(s) for: name, sku.");
    }

    // ---- Errors Quarkus raises before the resource runs ----

    @Test
    void jacksonErrorsWrappedByQuarkusAreUnwrapped() {
        UnrecognizedPropertyException unknown = parseError(UnrecognizedPropertyException.class, "{\"lines\":[],\"x\":1}");
        MismatchedInputException mismatched = parseError(MismatchedInputException.class, "{\"lines\":[{\"productId\":\"a\"}]}");
        JsonProcessingException syntax = catchThrowableOfType(JsonProcessingException.class, () -> json.readTree("{"));
        assertThat(problem(mappers.webApplication(new WebApplicationException(new RuntimeException(unknown), 400), URI_INFO), 400,
                ProblemType.UNKNOWN_PROPERTY).errors()).extracting(Problem.FieldError::field).containsExactly("x");
        assertOneField(mappers.webApplication(new WebApplicationException(mismatched, 400), URI_INFO), ProblemType.VALIDATION,
                "Property 'lines[0].productId' has the wrong type (expected Long).", "lines[0].productId", "wrong type, expected Long");
        assertThat(problem(mappers.webApplication(new WebApplicationException(syntax, 400), URI_INFO), 400,
                ProblemType.MALFORMED_JSON).detail()).startsWith("The request body is not valid JSON at line 1");
    }

    @Test
    void eachKnownStatusHasItsTypeAndDetail() {
        Object[][] cases = {
                {400, ProblemType.BAD_REQUEST, "The request could not be processed."},
                {404, ProblemType.NOT_FOUND, "No resource at " + PATH + "."},
                {405, ProblemType.METHOD_NOT_ALLOWED, "This resource does not support the method."},
                {406, ProblemType.NOT_ACCEPTABLE, "This resource produces application/json."},
                {413, ProblemType.PAYLOAD_TOO_LARGE, "The request could not be processed."},
                {415, ProblemType.UNSUPPORTED_MEDIA_TYPE, "Send the request body as application/json."}};
        for (Object[] c : cases) {
            int status = (Integer) c[0];
            Problem p = problem(mappers.webApplication(new WebApplicationException(status), URI_INFO), status, (ProblemType) c[1]);
            assertThat(p.detail()).as("detail of %d", status).isEqualTo(c[2]);
        }
    }

    /** The records ProblemMappers logs while {@code action} runs. */
    private static List<LogRecord> logged(Runnable action) {
        Logger logger = Logger.getLogger(ProblemMappers.class.getName());
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        try {
            action.run();
        } finally {
            logger.removeHandler(handler);
        }
        return records;
    }

    @Test
    void unmappedServerErrorsAreLoggedAndClientErrorsAreNot() {
        for (int status : new int[] {500, 503}) {
            WebApplicationException e = new WebApplicationException(status);
            List<LogRecord> records = logged(() -> mappers.webApplication(e, URI_INFO));
            assertThat(records).as("status %d", status).hasSize(1);
            assertThat(records.get(0).getLevel().intValue()).isGreaterThanOrEqualTo(Level.SEVERE.intValue());
            assertThat(records.get(0).getThrown()).isSameAs(e);
        }
        assertThat(logged(() -> mappers.webApplication(new WebApplicationException(409), URI_INFO))).isEmpty();
    }

    @Test
    void otherStatusesKeepTheirStatusAndReasonWithoutAType() {
        for (int status : new int[] {409, 503}) {
            Response r = mappers.webApplication(new WebApplicationException(status), URI_INFO);
            assertThat(r.getStatus()).isEqualTo(status);
            assertThat(r.getMediaType().toString()).isEqualTo(Problem.MEDIA_TYPE);
            Problem p = (Problem) r.getEntity();
            assertThat(p.type()).isNull();
            assertThat(p.status()).isEqualTo(status);
            assertThat(p.title()).isEqualTo(Response.Status.fromStatusCode(status).getReasonPhrase());
            assertThat(p.detail()).isEqualTo("The request could not be processed.");
            assertThat(p.instance()).isEqualTo(PATH);
        }
    }
}
