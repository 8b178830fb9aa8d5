package dev.shopwatch.problem;

import java.net.URI;

/**
 * The problem types this API returns. Each has a stable type URI (documented in the README),
 * a title and an HTTP status, so clients can switch on {@code type} rather than parse text.
 */
public enum ProblemType {
    VALIDATION("validation-error", "Request is invalid", 400),
    MALFORMED_JSON("malformed-json", "Request body is not valid JSON", 400),
    UNKNOWN_PROPERTY("unknown-property", "Request body has a property this API does not accept", 400),
    BAD_REQUEST("bad-request", "Bad request", 400),
    UNAUTHORIZED("unauthorized", "Authentication required", 401),
    FORBIDDEN("forbidden", "Not allowed", 403),
    NOT_FOUND("not-found", "Resource not found", 404),
    METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed", 405),
    NOT_ACCEPTABLE("not-acceptable", "Not acceptable", 406),
    DUPLICATE_SKU("duplicate-sku", "A product with this SKU already exists", 409),
    INSUFFICIENT_STOCK("insufficient-stock", "Not enough stock", 409),
    PAYLOAD_TOO_LARGE("payload-too-large", "Request body too large", 413),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type", 415),
    UNKNOWN_PRODUCT("unknown-product", "Order refers to a product that does not exist", 422),
    INTERNAL("internal-error", "Internal server error", 500),
    INJECTED_FAULT("injected-fault", "Fault injected by chaos controls", 500),
    DATABASE_UNAVAILABLE("database-unavailable", "Database unavailable", 503);

    private static final String BASE = "https://shopwatch.dev/problems/";

    private final URI type;
    private final String title;
    private final int status;

    ProblemType(String slug, String title, int status) {
        this.type = URI.create(BASE + slug);
        this.title = title;
        this.status = status;
    }

    public URI type() {
        return type;
    }

    public String title() {
        return title;
    }

    public int status() {
        return status;
    }
}
