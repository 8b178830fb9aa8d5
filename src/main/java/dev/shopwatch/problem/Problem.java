package dev.shopwatch.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * An RFC 9457 problem detail. Every error the API returns has this shape and the
 * {@code application/problem+json} media type.
 *
 * @param errors only for validation problems: one entry per offending field
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Problem", description = "RFC 9457 problem details; type names the problem (README, \"The API\")",
        requiredProperties = {"title", "status", "detail", "instance"})
public record Problem(URI type, String title, int status, String detail, String instance, List<FieldError> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";

    /** One invalid field: its JSON path (for example {@code lines[0].quantity}) and what is wrong with it. */
    @Schema(name = "FieldError", requiredProperties = {"field", "message"})
    public record FieldError(String field, String message) {
    }
}
