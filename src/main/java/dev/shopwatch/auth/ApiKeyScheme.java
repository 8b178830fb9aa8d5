package dev.shopwatch.auth;

/**
 * The API-key bearer scheme of the OpenAPI document (Swagger UI's "Authorize" button). ProductResource declares it with
 * {@code @SecurityScheme} (SmallRye OpenAPI reads that annotation on resource classes, not on any class); the secured
 * operations name it with {@code @SecurityRequirement(name = ApiKeyScheme.NAME)}.
 */
public interface ApiKeyScheme {

    String NAME = "apiKey";
    String DESCRIPTION = "An API key (`shop_` and 43 base64url characters) as a bearer token. Catalog writes need "
            + "the admin role, placing orders the client role; reads need none. Locally: `make credential ROLE=admin|client`.";
}
