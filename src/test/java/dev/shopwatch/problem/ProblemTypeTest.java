package dev.shopwatch.problem;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The problem types clients switch on are the ones the README documents ("The API": the table of status and
 * type under https://shopwatch.dev/problems/), read from README.md itself rather than restated here.
 */
class ProblemTypeTest {

    private static final String BASE = "https://shopwatch.dev/problems/";
    private static final Pattern SLUG = Pattern.compile("`([a-z-]+)`");

    /** slug to status, from the README table whose header names the type column. */
    static Map<String, Integer> documented() throws Exception {
        Path readme = Path.of("README.md");
        assertThat(readme).as("README.md in the working directory (the repository root)").exists();
        List<String> lines = Files.readAllLines(readme);
        int header = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("| Status | `type`")) {
                header = i;
            }
        }
        assertThat(header).as("the README's problem-type table").isNotNegative();
        Map<String, Integer> types = new LinkedHashMap<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String[] cells = lines.get(i).split("\\|");
            int[] statuses = Arrays.stream(cells[1].split("/")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            Matcher slugs = SLUG.matcher(cells[2]);
            for (int n = 0; slugs.find(); n++) {
                // "405 / 406 / 415" pairs each status with the slug in the same position; one status covers them all.
                types.put(slugs.group(1), statuses.length == 1 ? statuses[0] : statuses[n]);
            }
        }
        assertThat(types).as("types documented in the README").isNotEmpty();
        return types;
    }

    @Test
    void everyTypeIsDocumentedWithItsStatusAndEveryDocumentedTypeExists() throws Exception {
        Map<String, Integer> documented = documented();
        Map<String, Integer> implemented = new LinkedHashMap<>();
        for (ProblemType t : ProblemType.values()) {
            assertThat(t.type().toString()).as("%s", t).startsWith(BASE);
            implemented.put(t.type().toString().substring(BASE.length()), t.status());
        }
        assertThat(implemented).isEqualTo(documented);
    }

    @Test
    void typesAreAbsoluteUrisAndTitlesAreDistinctSentences() {
        for (ProblemType t : ProblemType.values()) {
            assertThat(t.type()).isEqualTo(URI.create(t.type().toString()));
            assertThat(t.type().isAbsolute()).isTrue();
            assertThat(t.title()).as("title of %s", t).isNotBlank().doesNotEndWith(".");
        }
        assertThat(Arrays.stream(ProblemType.values()).map(ProblemType::title).distinct().count()).isEqualTo(ProblemType.values().length);
    }
}
