package dev.shopwatch.policy;

import java.util.List;
import java.util.Map;

import static dev.shopwatch.policy.Manifests.list;
import static dev.shopwatch.policy.Manifests.map;
import static dev.shopwatch.policy.Manifests.str;

/**
 * A ValidatingAdmissionPolicyBinding as this repository writes them: matchResources holds a namespaceSelector and
 * nothing else (an objectSelector or resource rules would narrow what it matches in ways these tests do not model,
 * so they are refused rather than silently ignored). The selector is evaluated as a label selector on a namespace's
 * labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements).
 */
record Binding(String name, String policyName, Map<String, Object> namespaceSelector, List<String> actions) {

    static Binding of(Map<String, Object> vapb) {
        String name = str(vapb, "metadata", "name");
        Map<String, Object> resources = map(vapb, "spec", "matchResources");
        if (resources.keySet().stream().anyMatch(k -> !k.equals("namespaceSelector"))) {
            throw new IllegalStateException(name + ": matchResources may hold only a namespaceSelector, found " + resources.keySet());
        }
        Map<String, Object> selector = map(resources, "namespaceSelector");
        if (selector.isEmpty()) {
            // An empty or missing selector matches every namespace: never what an application binding means.
            throw new IllegalStateException(name + ": matchResources.namespaceSelector is missing or empty (it would match every namespace)");
        }
        List<String> actions = list(vapb, "spec", "validationActions").stream().map(String::valueOf).toList();
        return new Binding(name, str(vapb, "spec", "policyName"), selector, actions);
    }

    /** Whether the namespaceSelector selects a namespace with these labels (matchLabels and matchExpressions ANDed). */
    boolean selects(Map<String, String> labels) {
        for (Map.Entry<String, Object> e : map(namespaceSelector, "matchLabels").entrySet()) {
            if (!String.valueOf(e.getValue()).equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (Object expr : list(namespaceSelector, "matchExpressions")) {
            String key = str(expr, "key");
            List<String> values = list(expr, "values").stream().map(String::valueOf).toList();
            boolean ok = switch (str(expr, "operator")) {
                case "In" -> labels.containsKey(key) && values.contains(labels.get(key));
                case "NotIn" -> !labels.containsKey(key) || !values.contains(labels.get(key));
                case "Exists" -> labels.containsKey(key);
                case "DoesNotExist" -> !labels.containsKey(key);
                default -> throw new IllegalStateException(name + ": unknown selector operator " + str(expr, "operator"));
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The namespace names an `In` expression on kubernetes.io/metadata.name lists (empty when there is none). */
    List<String> namedNamespaces() {
        return list(namespaceSelector, "matchExpressions").stream()
                .filter(e -> str(e, "key").equals(AdmissionPolicyTest.NAME_LABEL) && str(e, "operator").equals("In"))
                .flatMap(e -> list(e, "values").stream().map(String::valueOf)).toList();
    }

    boolean denies() {
        return actions.contains("Deny");
    }
}
