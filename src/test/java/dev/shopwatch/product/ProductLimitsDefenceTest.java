package dev.shopwatch.product;

import static dev.shopwatch.support.Api.uniqueSku;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.shopwatch.problem.ProblemException;
import dev.shopwatch.problem.ProblemType;
import dev.shopwatch.support.Db;
import dev.shopwatch.support.PostgresResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.validation.Validator;
import jakarta.validation.constraints.Size;
import jakarta.validation.metadata.ConstraintDescriptor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Text limits are enforced twice: by request validation (a 400 naming the field, ProductResourceTest) and by the
 * column sizes. The two must be equal — a narrower column would turn a valid request into a database error — and
 * should validation ever lose a limit, the database's refusal is still a 400, never a 500.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresResource.class, restrictToAnnotatedClass = false)
class ProductLimitsDefenceTest {

    @Inject
    Validator validator;

    @Inject
    ProductRepository products;

    @Test
    void everyTextColumnIsExactlyAsLongAsValidationAllows() throws Exception {
        Map<String, String> columns = Map.of("sku", "sku", "name", "name", "description", "description");
        try (Connection c = Db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'product' AND column_name = ?")) {
            for (Map.Entry<String, String> field : columns.entrySet()) {
                ps.setString(1, field.getValue());
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("column product.%s", field.getValue()).isTrue();
                    assertThat(rs.getInt(1)).as("product.%s length vs @Size(max) of ProductRequest.%s", field.getValue(), field.getKey())
                            .isEqualTo(sizeMax(field.getKey()));
                }
            }
        }
    }

    @Test
    void aValueTooLongForItsColumnIsRefusedAs400NotA500() {
        // Straight to the repository, past request validation: what the API would do without its @Size limits.
        var tooLong = new ProductRequest(uniqueSku("DEF"), "n".repeat(sizeMax("name") + 1), null, 1L, 1);
        ProblemException refused = catchThrowableOfType(ProblemException.class, () -> products.create(tooLong));
        assertThat(refused).as("a client error, not a DataAccessException (500)").isNotNull();
        assertThat(refused.problemType()).isEqualTo(ProblemType.VALIDATION);
        assertThat(refused.problemType().status()).isEqualTo(400);
    }

    private int sizeMax(String property) {
        var descriptor = validator.getConstraintsForClass(ProductRequest.class).getConstraintsForProperty(property);
        assertThat(descriptor).as("constraints on ProductRequest.%s", property).isNotNull();
        return descriptor.getConstraintDescriptors().stream().map(ConstraintDescriptor::getAnnotation)
                .filter(Size.class::isInstance).map(a -> ((Size) a).max()).findFirst()
                .orElseThrow(() -> new AssertionError("ProductRequest." + property + " has no @Size limit"));
    }
}
