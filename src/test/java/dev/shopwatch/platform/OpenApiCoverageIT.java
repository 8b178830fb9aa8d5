package dev.shopwatch.platform;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shopwatch.support.OpenApiContract;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * After the @QuarkusTest suite (surefire), in failsafe's phase of {@code mvn verify}: the published document as the
 * contract filter read it, and what the suite saw. Every status every documented operation lists was answered at least
 * once, unless src/test/resources/openapi-exempt.tsv names it with a reason. A plain JUnit class: it starts no
 * application; it needs the whole suite before it (a narrowed run with -Dtest=... leaves statuses unseen).
 */
class OpenApiCoverageIT {

    private static JsonNode document;
    private static final Map<String, JsonNode> OPERATIONS = new LinkedHashMap<>();

    @BeforeAll
    static void read() throws IOException {
        assertThat(OpenApiContract.SUITE_DOCUMENT).as("the document the API tests read (run mvn verify: the @QuarkusTest suite writes it)").exists();
        document = new ObjectMapper().readTree(OpenApiContract.SUITE_DOCUMENT.toFile());
        OPERATIONS.putAll(OpenApiContract.operations(document));
        assertThat(OPERATIONS).as("operations in the document").isNotEmpty();
    }

    @Test
    void everyDocumentedStatusWasAnsweredOrIsExemptWithAReason() throws IOException {
        Set<String> seen = new HashSet<>(Files.readAllLines(OpenApiContract.SUITE_SEEN, StandardCharsets.UTF_8));
        assertThat(seen).as("responses the contract filter checked (" + OpenApiContract.SUITE_SEEN + ")").isNotEmpty();
        Map<String, String> exempt = exemptions();
        Set<String> documented = new TreeSet<>();
        OPERATIONS.forEach((route, op) -> op.get("responses").fieldNames()
                .forEachRemaining(status -> documented.add(op.path("operationId").asText(route) + "\t" + status)));
        assertThat(documented).isNotEmpty();
        List<String> missing = documented.stream().filter(s -> !seen.contains(s) && !exempt.containsKey(s)).toList();
        assertThat(missing).as("documented operation/status pairs no test received (test them, or list them in openapi-exempt.tsv with the reason)").isEmpty();
        List<String> stale = exempt.keySet().stream().filter(s -> seen.contains(s) || !documented.contains(s)).toList();
        assertThat(stale).as("exemptions that are seen or no longer documented: remove them from openapi-exempt.tsv").isEmpty();
    }

    /** operationId TAB status TAB reason, one a line; # comments. */
    static Map<String, String> exemptions() throws IOException {
        Map<String, String> exempt = new LinkedHashMap<>();
        try (InputStream in = OpenApiCoverageIT.class.getResourceAsStream("/openapi-exempt.tsv")) {
            assertThat(in).as("src/test/resources/openapi-exempt.tsv").isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = line.split("\t");
                assertThat(fields).as("exemption line needs operationId, status and a reason: " + line).hasSize(3);
                assertThat(fields[2]).as("reason of " + line).isNotBlank();
                exempt.put(fields[0] + "\t" + fields[1], fields[2]);
            }
        }
        return exempt;
    }
}
