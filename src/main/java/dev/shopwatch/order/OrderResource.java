package dev.shopwatch.order;

import dev.shopwatch.auth.ApiKeyScheme;
import dev.shopwatch.auth.Roles;
import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Orders. As ProductResource: the annotations are the published contract, held by the contract test. */
@Path("/api/orders")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Orders")
@APIResponse(responseCode = "406", ref = "NotAcceptable")
@APIResponse(responseCode = "500", ref = "InternalError")
@APIResponse(responseCode = "503", ref = "DatabaseUnavailable")
public class OrderResource {

    private final OrderService service;
    private final OrderRepository orders;

    OrderResource(OrderService service, OrderRepository orders) {
        this.service = service;
        this.orders = orders;
    }

    @POST
    @RolesAllowed(Roles.CLIENT)
    @SecurityRequirement(name = ApiKeyScheme.NAME)
    @Operation(operationId = "placeOrder", summary = "Place an order; stock is taken in the same transaction")
    @APIResponse(responseCode = "201", description = "Placed; Location names the new order",
            headers = @Header(name = "Location", description = "URL of the new order", required = true,
                    schema = @Schema(type = SchemaType.STRING, format = "uri")),
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Order.class)))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "401", ref = "Unauthorized")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "409", ref = "InsufficientStock")
    @APIResponse(responseCode = "413", ref = "PayloadTooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "422", ref = "UnknownProduct")
    public Response place(@NotNull(message = "request body is required") @Valid OrderRequest request, @Context UriInfo uri) {
        Order order = service.place(request);
        return Response.created(uri.getAbsolutePathBuilder().path(Long.toString(order.id())).build()).entity(order).build();
    }

    @GET
    @Path("/{id}")
    @Operation(operationId = "getOrder", summary = "Get one order")
    @APIResponse(responseCode = "200", description = "The order")
    @APIResponse(responseCode = "404", ref = "NotFound")
    public Order get(@PathParam("id") long id) {
        return orders.find(id).orElseThrow(() -> new ProblemException(ProblemType.NOT_FOUND, "Order " + id + " does not exist."));
    }
}
