package dev.shopwatch.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gatling.javaapi.core.Assertion;
import io.gatling.shared.model.assertion.AssertionMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The gates every profile hands to Gatling are the ones loadtest/README.md ("Profiles and gates") promises: p95,
 * p99 and failed-% for each profile, and for stress only the "at least 50 % succeed" floor. Read as the messages
 * Gatling prints for them (`Global: ... : true|false`), so a deleted or loosened gate fails here without a run.
 * JUnit 5: https://junit.org/junit5/docs/current/user-guide/
 */
class GatesTest {

    private static final Pattern ROW = Pattern.compile("^\\| (smoke|load|stress|spike|soak) \\|.*\\| ([^|]+) \\|$", Pattern.MULTILINE);
    private static final Pattern SLO = Pattern.compile("(\\d+) ms / (?:≤ )?(\\d+) ms / (?:≤ )?([\\d.]+) %");
    private static final Pattern FLOOR = Pattern.compile("fewer than (\\d+) % of requests succeed");

    /** The gates column of the README's table, per profile. */
    private static Map<LoadProfile, String> readmeGates() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("## Profiles and gates");
        assertTrue(start >= 0, "loadtest/README.md has no section 'Profiles and gates'");
        int end = readme.indexOf("\n## ", start + 1);
        Matcher m = ROW.matcher(readme.substring(start, end < 0 ? readme.length() : end));
        Map<LoadProfile, String> gates = new HashMap<>();
        while (m.find()) {
            gates.put(LoadProfile.valueOf(m.group(1).toUpperCase(Locale.ROOT)), m.group(2).trim());
        }
        return gates;
    }

    private static List<String> messages(List<Assertion> assertions) {
        return assertions.stream().map(a -> AssertionMessage.message(a.asScala())).toList();
    }

    private static String fmt(String number) {
        return String.format(Locale.ROOT, "%.1f", Double.parseDouble(number));
    }

    @Test
    void everyProfileGatesWhatTheReadmeSays() throws IOException {
        Map<LoadProfile, String> readme = readmeGates();
        assertEquals(LoadProfile.values().length, readme.size(), "README rows " + readme.keySet());
        List<String> problems = new ArrayList<>();
        for (LoadProfile profile : LoadProfile.values()) {
            String column = readme.get(profile);
            Matcher slo = SLO.matcher(column);
            assertTrue(slo.find(), profile + ": no 'p95 ms / p99 ms / failed %' in README cell: " + column);
            List<String> expected = new ArrayList<>();
            if (profile == LoadProfile.STRESS) {
                Matcher floor = FLOOR.matcher(column);
                assertTrue(floor.find(), "stress: no success floor in README cell: " + column);
                expected.add("Global: percentage of successful events is greater than or equal to " + fmt(floor.group(1)));
            } else {
                expected.add("Global: 95th percentile of response time is less than or equal to " + fmt(slo.group(1)));
                expected.add("Global: 99th percentile of response time is less than or equal to " + fmt(slo.group(2)));
                expected.add("Global: percentage of failed events is less than or equal to " + fmt(slo.group(3)));
            }
            // The SLO record judges stress steps and prints the ledger's GATE lines: the README's figures too.
            LoadProfile.Slo want = new LoadProfile.Slo(Integer.parseInt(slo.group(1)), Integer.parseInt(slo.group(2)),
                    Double.parseDouble(slo.group(3)));
            if (!want.equals(profile.slo)) {
                problems.add(profile + ": SLO " + profile.slo + ", README says " + want);
            }
            List<String> actual = messages(ShopSimulation.gates(profile));
            for (String gate : expected) {
                if (!actual.contains(gate)) {
                    problems.add(profile + ": missing gate '" + gate + "'");
                }
            }
            for (String gate : actual) {
                if (!expected.contains(gate)) {
                    problems.add(profile + ": gate '" + gate + "' is not in the README");
                }
            }
        }
        assertEquals(List.of(), problems);
    }
}
