package dev.shopwatch.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static dev.shopwatch.policy.Manifests.list;
import static dev.shopwatch.policy.Manifests.map;
import static dev.shopwatch.policy.Manifests.str;

/**
 * The expected verdict of each validation, read from the object in plain Java (not CEL), so a CEL expression that
 * drifts from the rule it states is caught on the real manifests and not only on the fixtures.
 */
final class Oracle {

    private static final Pattern DIGEST = Pattern.compile(".*@sha256:[0-9a-f]{64}");

    private Oracle() {
    }

    /** The indexes of the validations of `policy` that `obj` breaks, in the order the policy lists them. */
    static List<Integer> failures(String policy, Map<String, Object> obj) {
        List<Boolean> ok = switch (policy) {
            case "shop-workload-security" -> List.of(nonRoot(obj), noEscalation(obj), resources(obj));
            case "shop-images-by-digest" -> List.of(byDigest(obj));
            default -> throw new IllegalStateException("no expected verdicts for policy " + policy + ": add them here");
        };
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ok.size(); i++) {
            if (!ok.get(i)) {
                out.add(i);
            }
        }
        return out;
    }

    static Map<String, Object> podSpec(Map<String, Object> obj) {
        return "CronJob".equals(str(obj, "kind"))
                ? map(obj, "spec", "jobTemplate", "spec", "template", "spec")
                : map(obj, "spec", "template", "spec");
    }

    static List<Object> containers(Map<String, Object> obj) {
        List<Object> all = new ArrayList<>(list(podSpec(obj), "containers"));
        all.addAll(list(podSpec(obj), "initContainers"));
        return all;
    }

    private static boolean nonRoot(Map<String, Object> obj) {
        Map<String, Object> pod = map(podSpec(obj), "securityContext");
        for (Object c : containers(obj)) {
            Map<String, Object> sc = map(c, "securityContext");
            Object user = sc.containsKey("runAsUser") ? sc.get("runAsUser") : pod.get("runAsUser");
            Object nonRoot = sc.containsKey("runAsNonRoot") ? sc.get("runAsNonRoot") : pod.get("runAsNonRoot");
            long uid = user == null ? -1 : ((Number) user).longValue();
            if (uid == 0 || !(Boolean.TRUE.equals(nonRoot) || uid > 0)) {
                return false;
            }
        }
        return true;
    }

    private static boolean noEscalation(Map<String, Object> obj) {
        return containers(obj).stream().allMatch(c -> Boolean.FALSE.equals(map(c, "securityContext").get("allowPrivilegeEscalation")));
    }

    private static boolean resources(Map<String, Object> obj) {
        List<Map<String, Object>> blocks = "Cluster".equals(str(obj, "kind"))
                ? List.of(map(obj, "spec", "resources"))
                : containers(obj).stream().map(c -> map(c, "resources")).toList();
        return blocks.stream().allMatch(r -> List.of("requests", "limits").stream()
                .allMatch(k -> map(r, k).containsKey("cpu") && map(r, k).containsKey("memory")));
    }

    private static boolean byDigest(Map<String, Object> obj) {
        List<String> images = "Cluster".equals(str(obj, "kind"))
                ? (map(obj, "spec").containsKey("imageName") ? List.of(str(obj, "spec", "imageName")) : List.of())
                : containers(obj).stream().map(c -> str(c, "image")).toList();
        return images.stream().allMatch(i -> DIGEST.matcher(i).matches());
    }
}
