package dev.shopwatch.policy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.shopwatch.policy.Manifests.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admission policies of k8s/base/admission, taken from the built kind overlay, against every object of every
 * built overlay and test combination (all must pass the Deny policies; CEL's verdict must equal the one read from
 * the object in Java) and against failing fixtures (each rejected by the validation it targets, with its message).
 */
class AdmissionPolicyTest {

    private static final Map<String, Policy> POLICIES = new LinkedHashMap<>();
    private static final List<Binding> BINDINGS = new ArrayList<>();
    private static final Map<Path, List<Map<String, Object>>> BUILDS = new LinkedHashMap<>();
    /** The label the API server sets on every namespace to its name (immutable); the bindings select by it. */
    static final String NAME_LABEL = "kubernetes.io/metadata.name";
    /** Every namespace the builds create, with the labels the API server will see: its own plus NAME_LABEL. */
    private static final Map<String, Map<String, String>> NAMESPACES = new TreeMap<>();

    @BeforeAll
    static void load() throws Exception {
        for (Path dir : Manifests.builds()) {
            BUILDS.put(dir, Manifests.build(dir));
        }
        BUILDS.values().forEach(objs -> objs.stream().filter(o -> str(o, "kind").equals("Namespace")).forEach(o -> {
            Map<String, String> labels = NAMESPACES.computeIfAbsent(str(o, "metadata", "name"), n -> new TreeMap<>());
            Manifests.map(o, "metadata", "labels").forEach((k, v) -> labels.put(k, String.valueOf(v)));
            labels.put(NAME_LABEL, str(o, "metadata", "name"));
        }));
        for (Map<String, Object> obj : BUILDS.get(Manifests.ROOT.resolve("k8s/overlays/kind"))) {
            if (str(obj, "kind").equals("ValidatingAdmissionPolicy")) {
                POLICIES.put(str(obj, "metadata", "name"), new Policy(obj));
            } else if (str(obj, "kind").equals("ValidatingAdmissionPolicyBinding")) {
                BINDINGS.add(Binding.of(obj));
            }
        }
    }

    /**
     * The admission objects of a build without metadata.namespace and labels: kubectl's kustomize does not know these
     * kinds are cluster-scoped (kubernetes-sigs/kustomize#6051, fixed after the kustomize in kubectl 1.32) and stamps
     * the overlay's namespace and labels on them; kubectl and the API server ignore a cluster-scoped object's
     * namespace, and the labels change nothing the policies do.
     */
    private static List<Map<String, Object>> admissionObjects(List<Map<String, Object>> objs) {
        return objs.stream().filter(o -> str(o, "apiVersion").startsWith("admissionregistration.k8s.io/")).map(o -> {
            Map<String, Object> copy = new LinkedHashMap<>(o);
            Map<String, Object> meta = new LinkedHashMap<>(Manifests.map(o, "metadata"));
            meta.remove("namespace");
            meta.remove("labels");
            copy.put("metadata", meta);
            return copy;
        }).toList();
    }

    @Test
    void theKindAndObservabilityOverlaysApplyTheSamePoliciesAndBindings() {
        List<Map<String, Object>> kind = admissionObjects(BUILDS.get(Manifests.ROOT.resolve("k8s/overlays/kind")));
        assertTrue(kind.size() >= 4, "expected at least two policies with their bindings in k8s/overlays/kind, found " + kind.size());
        assertEquals(kind, admissionObjects(BUILDS.get(Manifests.ROOT.resolve("k8s/overlays/observability"))));
        for (Map<String, Object> o : kind) {
            assertTrue(str(o, "apiVersion").equals("admissionregistration.k8s.io/v1"), Manifests.name(o) + " is not v1 (GA)");
        }
    }

    @Test
    void everyPolicyIsBoundAndEveryBindingNamesAPolicy() {
        assertFalse(POLICIES.isEmpty());
        for (String policy : POLICIES.keySet()) {
            assertTrue(BINDINGS.stream().anyMatch(b -> b.policyName().equals(policy)), policy + " has no binding");
        }
        for (Binding b : BINDINGS) {
            assertTrue(POLICIES.containsKey(b.policyName()), b.name() + " binds the unknown policy " + b.policyName());
            assertEquals("Fail", str(POLICIES.get(b.policyName()).spec, "failurePolicy"), b.policyName());
        }
    }

    /** The namespaces the builds create that a binding's namespaceSelector selects. */
    private static Set<String> selected(Binding b) {
        Set<String> out = new TreeSet<>();
        NAMESPACES.forEach((ns, labels) -> {
            if (b.selects(labels)) {
                out.add(ns);
            }
        });
        return out;
    }

    /**
     * A binding that selects nothing proves nothing: each one's selector, evaluated on the labels of the namespaces
     * the builds create, selects at least one, and every namespace it names is one of them (a misspelt name selects
     * nothing and would pass every other test).
     */
    @Test
    void everyBindingSelectsNamespacesTheBuildsCreate() {
        assertTrue(NAMESPACES.size() >= 4, "expected the namespaces of kind, staging, production and observability, found " + NAMESPACES.keySet());
        for (Binding b : BINDINGS) {
            assertFalse(selected(b).isEmpty(), b.name() + " selects no namespace the builds create " + NAMESPACES.keySet());
            for (String ns : b.namedNamespaces()) {
                assertTrue(NAMESPACES.containsKey(ns), b.name() + " names namespace " + ns + ", which no build creates " + NAMESPACES.keySet());
            }
        }
    }

    /** The application namespaces: wherever a build runs the shop (Contract C: the policies apply there). */
    private static Set<String> shopNamespaces() {
        Set<String> out = new TreeSet<>();
        BUILDS.values().forEach(objs -> objs.stream()
                .filter(o -> Set.of("Deployment", "Rollout").contains(str(o, "kind")) && str(o, "metadata", "name").equals("shop"))
                .forEach(o -> out.add(str(o, "metadata", "namespace"))));
        return out;
    }

    /**
     * The security rules deny in exactly the namespaces where the builds put a workload they match: the three that run
     * the shop and the shared stack's observability (every one of its workloads complies, so it is held to them too).
     */
    @Test
    void theSecurityRulesDenyWhereverTheBuildsRunAWorkloadAndTheDigestRuleCoversProduction() throws Exception {
        Policy security = POLICIES.get("shop-workload-security");
        Set<String> workloads = new TreeSet<>();
        BUILDS.values().forEach(objs -> objs.stream().filter(security::matches).forEach(o -> workloads.add(str(o, "metadata", "namespace"))));
        assertTrue(workloads.containsAll(shopNamespaces()) && shopNamespaces().size() >= 3,
                "expected the shop in kind, staging and production, found " + shopNamespaces() + " among " + workloads);
        Set<String> denied = new TreeSet<>();
        BINDINGS.stream().filter(b -> b.policyName().equals(security.name) && b.denies()).forEach(b -> denied.addAll(selected(b)));
        assertEquals(workloads, denied, "shop-workload-security denies in " + denied + ", the builds run workloads it matches in " + workloads);

        String production = Files.readAllLines(Manifests.ROOT.resolve("k8s/overlays/production/kustomization.yaml")).stream()
                .filter(l -> l.startsWith("namespace:")).map(l -> l.substring("namespace:".length()).strip()).findFirst().orElseThrow();
        Set<String> digest = new TreeSet<>();
        BINDINGS.stream().filter(b -> b.policyName().equals("shop-images-by-digest")).forEach(b -> digest.addAll(selected(b)));
        assertTrue(digest.contains(production), "shop-images-by-digest is not bound in " + production + " (it selects " + digest + ")");
        assertEquals(Set.of(production), digest, "shop-images-by-digest must bind production only");
    }

    /** The bindings of `policy` whose selector selects the object's namespace (labels as the builds create it). */
    private static List<Binding> bindingsFor(String policy, Map<String, Object> obj) {
        String ns = str(obj, "metadata", "namespace");
        Map<String, String> labels = NAMESPACES.getOrDefault(ns, Map.of(NAME_LABEL, ns));
        return BINDINGS.stream().filter(b -> b.policyName().equals(policy) && b.selects(labels)).toList();
    }

    @Test
    void everyBuiltOverlayPassesThePoliciesThatDenyAndCelAgreesWithTheObjectEverywhere() {
        Map<String, Integer> checked = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        Set<String> warnings = new LinkedHashSet<>();
        BUILDS.forEach((dir, objs) -> {
            for (Map<String, Object> obj : objs) {
                for (Policy policy : POLICIES.values()) {
                    if (!policy.matches(obj)) {
                        continue;
                    }
                    List<Integer> cel = policy.evaluate(obj).stream().map(Policy.Failure::validation).toList();
                    List<Integer> expected = Oracle.failures(policy.name, obj);
                    String where = Manifests.ROOT.relativize(dir) + ": " + Manifests.name(obj) + ", " + policy.name;
                    if (!cel.equals(expected)) {
                        problems.add(where + ": CEL fails validations " + cel + ", the object breaks " + expected);
                    }
                    checked.merge(policy.name, 1, Integer::sum);
                    List<Binding> bound = bindingsFor(policy.name, obj);
                    for (int v : cel) {
                        if (bound.stream().anyMatch(Binding::denies)) {
                            problems.add(where + " would be denied: " + policy.message(v));
                        } else if (!bound.isEmpty()) {
                            warnings.add(Manifests.name(obj) + ": " + policy.message(v));
                        }
                    }
                }
            }
        });
        // Each policy must have met real objects, or the loop above proved nothing.
        for (String policy : POLICIES.keySet()) {
            assertTrue(checked.getOrDefault(policy, 0) >= 10, policy + " matched only " + checked.getOrDefault(policy, 0) + " objects");
        }
        assertEquals(List.of(), problems);
        System.out.println("admission policies: objects checked per policy " + checked);
        warnings.forEach(w -> System.out.println("admission policies: warning (Warn binding): " + w));
    }

    @ParameterizedTest(name = "{0} is rejected: {2}")
    @CsvSource(delimiter = '|', value = {
        "root-user.yaml           | shop-workload-security | every container must run as non-root",
        "root-by-default.yaml     | shop-workload-security | every container must run as non-root",
        "escalation-init.yaml     | shop-workload-security | allowPrivilegeEscalation: false",
        "escalation-cronjob.yaml  | shop-workload-security | allowPrivilegeEscalation: false",
        "no-limits.yaml           | shop-workload-security | CPU and memory requests and limits",
        "cluster-no-limits.yaml   | shop-workload-security | CPU and memory requests and limits",
        "tag-in-production.yaml   | shop-images-by-digest  | pinned by digest",
        "cluster-tag-in-production.yaml | shop-images-by-digest | pinned by digest",
    })
    void failingFixtureIsRejectedByTheValidationItTargets(String file, String policyName, String fragment) throws Exception {
        List<Map<String, Object>> docs = Manifests.parse(Files.readString(Manifests.ROOT.resolve("k8s/tests/policy/src/test/resources/fixtures/" + file)));
        assertEquals(1, docs.size(), file);
        Map<String, Object> obj = docs.get(0);
        Policy policy = POLICIES.get(policyName);
        assertTrue(policy.matches(obj), policyName + " does not match " + Manifests.name(obj));
        assertFalse(bindingsFor(policyName, obj).isEmpty(), "no binding of " + policyName + " selects " + Manifests.name(obj));
        List<Policy.Failure> failures = policy.evaluate(obj);
        assertEquals(1, failures.size(), file + " must break exactly one validation, CEL says " + failures);
        assertTrue(failures.get(0).message().contains(fragment), failures.get(0).message());
        assertEquals(List.of(failures.get(0).validation()), Oracle.failures(policyName, obj), file + ": CEL and the object disagree");
        // Every other policy lets the fixture through: each fixture breaks one rule, the rest of it is compliant.
        for (Policy other : POLICIES.values()) {
            if (other != policy && other.matches(obj) && !bindingsFor(other.name, obj).isEmpty()) {
                assertEquals(List.of(), other.evaluate(obj), file + " also breaks " + other.name);
            }
        }
    }

    @Test
    void theDigestRuleBindsProductionOnlyAndAcceptsADigest() throws Exception {
        Map<String, Object> tagged = Manifests.parse(Files.readString(
                Manifests.ROOT.resolve("k8s/tests/policy/src/test/resources/fixtures/tag-in-production.yaml"))).get(0);
        @SuppressWarnings("unchecked")
        Map<String, Object> staging = (Map<String, Object>) Manifests.parse(Files.readString(
                Manifests.ROOT.resolve("k8s/tests/policy/src/test/resources/fixtures/tag-in-production.yaml")).replace("namespace: shop-production", "namespace: shop-staging")).get(0);
        assertEquals("shop-staging", str(staging, "metadata", "namespace"));
        assertTrue(bindingsFor("shop-images-by-digest", staging).isEmpty(), "the digest rule binds shop-staging");
        Map<String, Object> pinned = Manifests.parse(Files.readString(
                Manifests.ROOT.resolve("k8s/tests/policy/src/test/resources/fixtures/tag-in-production.yaml"))
                .replace("image: busybox:1.38.0-musl", "image: busybox@sha256:" + "0123456789abcdef".repeat(4))).get(0);
        assertFalse(POLICIES.get("shop-images-by-digest").evaluate(tagged).isEmpty());
        assertEquals(List.of(), POLICIES.get("shop-images-by-digest").evaluate(pinned));
    }
}
