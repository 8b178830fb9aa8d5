package dev.shopwatch.support;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;
import io.restassured.RestAssured;
import io.restassured.filter.Filter;
import io.restassured.filter.FilterContext;
import io.restassured.response.Response;
import io.restassured.specification.FilterableRequestSpecification;
import io.restassured.specification.FilterableResponseSpecification;
import java.net.URI;
import java.util.List;

/**
 * Checks every response to an {@code /api/} request of the API tests against the published OpenAPI document
 * ({@link OpenApiContract}): a response the document does not describe fails the test that received it. Installed as a
 * global RestAssured filter before each {@code @QuarkusTest} method by Quarkus's test callback
 * (META-INF/services/io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback), so no test has to ask for it.
 */
public final class ContractFilter implements Filter, QuarkusTestBeforeEachCallback {

    @Override
    public void beforeEach(QuarkusTestMethodContext context) {
        if (RestAssured.filters().stream().noneMatch(ContractFilter.class::isInstance)) {
            RestAssured.filters(new ContractFilter());
        }
    }

    @Override
    public Response filter(FilterableRequestSpecification request, FilterableResponseSpecification responseSpec, FilterContext ctx) {
        Response response = ctx.next(request, responseSpec);
        URI uri = URI.create(request.getURI());
        if (uri.getRawPath() == null || !uri.getRawPath().startsWith("/api/")) {
            return response;
        }
        OpenApiContract contract = OpenApiContract.of(uri.getScheme() + "://" + uri.getRawAuthority()).orElse(null);
        if (contract == null) {
            return response;
        }
        List<String> problems = contract.check(request.getMethod(), uri.getRawPath(), response.statusCode(),
                response.contentType().isEmpty() ? null : response.contentType(), response.asByteArray(), response::header);
        if (!problems.isEmpty()) {
            throw new AssertionError("The response does not match the published OpenAPI document (/q/openapi):\n  "
                    + String.join("\n  ", problems) + "\nBody: " + response.asString());
        }
        return response;
    }
}
