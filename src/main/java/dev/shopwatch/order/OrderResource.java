package dev.shopwatch.order;

import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
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
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/orders")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Orders")
public class OrderResource {

    private final OrderService service;
    private final OrderRepository orders;

    OrderResource(OrderService service, OrderRepository orders) {
        this.service = service;
        this.orders = orders;
    }

    @POST
    @Operation(summary = "Place an order; stock is taken in the same transaction")
    @APIResponse(responseCode = "201", description = "Placed")
    @APIResponse(responseCode = "409", description = "Not enough stock; nothing changed")
    @APIResponse(responseCode = "422", description = "A line names a product that does not exist")
    public Response place(@NotNull(message = "request body is required") @Valid OrderRequest request, @Context UriInfo uri) {
        Order order = service.place(request);
        return Response.created(uri.getAbsolutePathBuilder().path(Long.toString(order.id())).build()).entity(order).build();
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get one order")
    public Order get(@PathParam("id") long id) {
        return orders.find(id).orElseThrow(() -> new ProblemException(ProblemType.NOT_FOUND, "Order " + id + " does not exist."));
    }
}
