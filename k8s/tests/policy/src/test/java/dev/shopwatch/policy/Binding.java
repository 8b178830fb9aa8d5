package dev.shopwatch.policy;

import java.util.List;
import java.util.Map;

import static dev.shopwatch.policy.Manifests.list;
import static dev.shopwatch.policy.Manifests.map;
import static dev.shopwatch.policy.Manifests.str;

/**
 * A ValidatingAdmissionPolicyBinding as this repository writes them: a namespaceSelector with one
 * kubernetes.io/metadata.name In [...] expression (any other selector is refused, so nothing is silently unmatched).
 */
record Binding(String name, String policyName, List<String> namespaces, List<String> actions) {

    static Binding of(Map<String, Object> vapb) {
        String name = str(vapb, "metadata", "name");
        Map<String, Object> resources = map(vapb, "spec", "matchResources");
        List<Object> exprs = list(resources, "namespaceSelector", "matchExpressions");
        if (resources.keySet().stream().anyMatch(k -> !k.equals("namespaceSelector"))
                || !map(resources, "namespaceSelector", "matchLabels").isEmpty() || exprs.size() != 1
                || !str(exprs.get(0), "key").equals("kubernetes.io/metadata.name")
                || !str(exprs.get(0), "operator").equals("In")) {
            throw new IllegalStateException(name + ": expected matchResources.namespaceSelector with exactly one "
                    + "kubernetes.io/metadata.name In [...] expression");
        }
        List<String> namespaces = list(exprs.get(0), "values").stream().map(String::valueOf).toList();
        List<String> actions = list(vapb, "spec", "validationActions").stream().map(String::valueOf).toList();
        return new Binding(name, str(vapb, "spec", "policyName"), namespaces, actions);
    }

    boolean denies() {
        return actions.contains("Deny");
    }
}
