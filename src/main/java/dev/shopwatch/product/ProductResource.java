package dev.shopwatch.product;

import dev.shopwatch.auth.ApiKeyScheme;
import dev.shopwatch.auth.Roles;
import dev.shopwatch.platform.Params;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.core.Context;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The catalog. The OpenAPI annotations are the published contract (/q/openapi): every status an operation answers is
 * listed, the problem responses by reference to src/main/resources/META-INF/openapi.yaml; the contract test
 * (support/OpenApiContract.java) fails when a response differs from them.
 */
@Path("/api/products")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Products")
@APIResponse(responseCode = "406", ref = "NotAcceptable")
@APIResponse(responseCode = "500", ref = "InternalError")
@APIResponse(responseCode = "503", ref = "DatabaseUnavailable")
@SecurityScheme(securitySchemeName = ApiKeyScheme.NAME, type = SecuritySchemeType.HTTP, scheme = "bearer", bearerFormat = "API key",
        description = ApiKeyScheme.DESCRIPTION)
public class ProductResource {

    static final int MAX_PAGE_SIZE = 100;

    private final ProductRepository products;

    ProductResource(ProductRepository products) {
        this.products = products;
    }

    @POST
    @RolesAllowed(Roles.ADMIN)
    @SecurityRequirement(name = ApiKeyScheme.NAME)
    @Operation(operationId = "createProduct", summary = "Create a product")
    @APIResponse(responseCode = "201", description = "Created; Location names the new product",
            headers = @Header(name = "Location", description = "URL of the new product", required = true,
                    schema = @Schema(type = SchemaType.STRING, format = "uri")),
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Product.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "409", ref = "DuplicateSku")
    @APIResponse(responseCode = "413", ref = "PayloadTooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    public Response create(@NotNull(message = "request body is required") @Valid ProductRequest request, @Context UriInfo uri) {
        Product created = products.create(request);
        return Response.created(uri.getAbsolutePathBuilder().path(Long.toString(created.id())).build()).entity(created).build();
    }

    @GET
    @Path("/{id}")
    @Operation(operationId = "getProduct", summary = "Get one product")
    @APIResponse(responseCode = "200", description = "The product")
    @APIResponse(responseCode = "404", ref = "NotFound")
    public Product get(@PathParam("id") long id) {
        return products.find(id).orElseThrow(() -> notFound(id));
    }

    @GET
    @Operation(operationId = "listProducts", summary = "List products, optionally filtered by a case-insensitive substring of name or SKU")
    @APIResponse(responseCode = "200", description = "One page of products in id order; total counts every match")
    @APIResponse(responseCode = "400", ref = "BadRequest")
    public Page<Product> list(
            @Parameter(description = "Page number, from 0", schema = @Schema(type = SchemaType.INTEGER, minimum = "0", maximum = "1000000", defaultValue = "0"))
            @QueryParam("page") String page,
            @Parameter(description = "Products per page", schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "100", defaultValue = "20"))
            @QueryParam("size") String size,
            @Parameter(description = "Case-insensitive substring of the name or the SKU", schema = @Schema(type = SchemaType.STRING, maxLength = 200))
            @QueryParam("q") String q) {
        int p = Params.intParam("page", page, 0, 0, 1_000_000);
        int s = Params.intParam("size", size, 20, 1, MAX_PAGE_SIZE);
        if (q != null && q.length() > 200) {
            throw new ProblemException(ProblemType.VALIDATION, "Query parameter 'q' must be at most 200 characters.");
        }
        return products.list(p, s, q);
    }

    @PUT
    @Path("/{id}")
    @RolesAllowed(Roles.ADMIN)
    @SecurityRequirement(name = ApiKeyScheme.NAME)
    @Operation(operationId = "replaceProduct", summary = "Replace a product")
    @APIResponse(responseCode = "200", description = "The product as stored")
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "409", ref = "DuplicateSku")
    @APIResponse(responseCode = "413", ref = "PayloadTooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    public Product update(@PathParam("id") long id, @NotNull(message = "request body is required") @Valid ProductRequest request) {
        return products.update(id, request).orElseThrow(() -> notFound(id));
    }

    @DELETE
    @Path("/{id}")
    @RolesAllowed(Roles.ADMIN)
    @SecurityRequirement(name = ApiKeyScheme.NAME)
    @Operation(operationId = "deleteProduct", summary = "Delete a product; existing orders keep their lines")
    @APIResponse(responseCode = "204", description = "Deleted")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "404", ref = "NotFound")
    public Response delete(@PathParam("id") long id) {
        if (!products.delete(id)) {
            throw notFound(id);
        }
        return Response.noContent().build();
    }

    private static ProblemException notFound(long id) {
        return new ProblemException(ProblemType.NOT_FOUND, "Product " + id + " does not exist.");
    }
}
