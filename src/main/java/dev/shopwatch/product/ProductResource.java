package dev.shopwatch.product;

import dev.shopwatch.platform.Params;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
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
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/products")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Products")
public class ProductResource {

    static final int MAX_PAGE_SIZE = 100;

    private final ProductRepository products;

    ProductResource(ProductRepository products) {
        this.products = products;
    }

    @POST
    @Operation(summary = "Create a product")
    @APIResponse(responseCode = "201", description = "Created; Location names the new product")
    @APIResponse(responseCode = "409", description = "A product with this SKU exists")
    public Response create(@NotNull(message = "request body is required") @Valid ProductRequest request, @Context UriInfo uri) {
        Product created = products.create(request);
        return Response.created(uri.getAbsolutePathBuilder().path(Long.toString(created.id())).build()).entity(created).build();
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get one product")
    public Product get(@PathParam("id") long id) {
        return products.find(id).orElseThrow(() -> notFound(id));
    }

    @GET
    @Operation(summary = "List products, optionally filtered by a case-insensitive substring of name or SKU")
    public Page<Product> list(@QueryParam("page") String page, @QueryParam("size") String size, @QueryParam("q") String q) {
        int p = Params.intParam("page", page, 0, 0, 1_000_000);
        int s = Params.intParam("size", size, 20, 1, MAX_PAGE_SIZE);
        if (q != null && q.length() > 200) {
            throw new ProblemException(ProblemType.VALIDATION, "Query parameter 'q' must be at most 200 characters.");
        }
        return products.list(p, s, q);
    }

    @PUT
    @Path("/{id}")
    @Operation(summary = "Replace a product")
    public Product update(@PathParam("id") long id, @NotNull(message = "request body is required") @Valid ProductRequest request) {
        return products.update(id, request).orElseThrow(() -> notFound(id));
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Delete a product; existing orders keep their lines")
    @APIResponse(responseCode = "204", description = "Deleted")
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
