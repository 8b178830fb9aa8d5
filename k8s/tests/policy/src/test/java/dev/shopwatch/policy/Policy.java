package dev.shopwatch.policy;

import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.shopwatch.policy.Manifests.list;
import static dev.shopwatch.policy.Manifests.map;
import static dev.shopwatch.policy.Manifests.str;

/**
 * One ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) compiled with CEL for Java: its variables and
 * validations, checked against the variables the API server declares for a policy
 * (https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/#validation-expression):
 * object, oldObject, request, params, namespaceObject and variables. The Kubernetes-only libraries (authorizer,
 * quantity, url, ip, the k8s regex and list helpers) are not declared: a policy using one of them fails to compile here.
 */
final class Policy {

    /** What the API server would answer for one validation: its message when the expression is false. */
    record Failure(int validation, String message) {
    }

    private record Compiled(String name, String expression, CelRuntime.Program program) {
    }

    // The standard macros (has, all, exists, exists_one, map, filter) are the only ones these policies use.
    // Options as the API server sets them (k8s.io/apiserver v0.32.13, pkg/cel/environment/base.go): list and map
    // literals must be homogeneous (HomogeneousAggregateLiterals; a VAP whose literal mixes types is refused at
    // creation), and int, uint and double compare with each other (CrossTypeNumericComparisons, since 1.28).
    private static final Cel CEL = CelFactory.standardCelBuilder()
            .setOptions(CelOptions.current().enableHomogeneousLiterals(true).enableHeterogeneousNumericComparisons(true).build())
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("request", SimpleType.DYN)
            .addVar("params", SimpleType.DYN)
            .addVar("namespaceObject", SimpleType.DYN)
            .addVar("variables", MapType.create(SimpleType.STRING, SimpleType.DYN))
            .build();

    final String name;
    final Map<String, Object> spec;
    private final List<Compiled> variables = new ArrayList<>();
    private final List<Compiled> validations = new ArrayList<>();
    private final List<String> messages = new ArrayList<>();

    Policy(Map<String, Object> vap) {
        this.name = str(vap, "metadata", "name");
        this.spec = map(vap, "spec");
        for (Object v : list(spec, "variables")) {
            variables.add(compile(str(v, "name"), str(v, "expression")));
        }
        for (Object v : list(spec, "validations")) {
            validations.add(compile("validation " + validations.size(), str(v, "expression")));
            messages.add(str(v, "message"));
        }
        if (validations.isEmpty()) {
            throw new IllegalStateException(name + " has no validations");
        }
    }

    private Compiled compile(String what, String expression) {
        try {
            CelAbstractSyntaxTree ast = CEL.compile(expression).getAst();
            return new Compiled(what, expression, CEL.createProgram(ast));
        } catch (CelValidationException | CelEvaluationException e) {
            throw new IllegalStateException(name + ", " + what + " does not compile: " + e.getMessage(), e);
        }
    }

    int validationCount() {
        return validations.size();
    }

    String message(int validation) {
        return messages.get(validation);
    }

    /** Whether the policy's matchConstraints select this object (CREATE): its group, version and resource. */
    boolean matches(Map<String, Object> obj) {
        String apiVersion = str(obj, "apiVersion");
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        // Plural resource names: every kind this repository's policies match forms it with a trailing "s".
        String resource = str(obj, "kind").toLowerCase() + "s";
        for (Object rule : list(spec, "matchConstraints", "resourceRules")) {
            if (list(rule, "apiGroups").contains(group) && list(rule, "apiVersions").contains(version)
                    && list(rule, "resources").contains(resource) && list(rule, "operations").contains("CREATE")) {
                return true;
            }
        }
        return false;
    }

    /** The validations that fail for a CREATE of `obj`, evaluated as the API server does: variables first, in order. */
    List<Failure> evaluate(Map<String, Object> obj) {
        Map<String, Object> vars = new LinkedHashMap<>();
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("object", obj);
        input.put("oldObject", Map.of());
        input.put("request", Map.of("operation", "CREATE", "namespace", str(obj, "metadata", "namespace")));
        input.put("params", Map.of());
        input.put("namespaceObject", Map.of("metadata", Map.of("name", str(obj, "metadata", "namespace"))));
        input.put("variables", vars);
        for (Compiled v : variables) {
            vars.put(v.name(), eval(v, input, obj));
        }
        List<Failure> failures = new ArrayList<>();
        for (int i = 0; i < validations.size(); i++) {
            Object result = eval(validations.get(i), input, obj);
            if (!(result instanceof Boolean)) {
                throw new IllegalStateException(name + ", validation " + i + " returned " + result + ", not a bool");
            }
            if (!(Boolean) result) {
                failures.add(new Failure(i, messages.get(i)));
            }
        }
        return failures;
    }

    private Object eval(Compiled c, Map<String, Object> input, Map<String, Object> obj) {
        try {
            return c.program().eval(input);
        } catch (CelEvaluationException e) {
            // failurePolicy Fail: an expression that errors rejects the object, so an error is a finding too.
            throw new IllegalStateException(name + ", " + c.name() + " errors on " + Manifests.name(obj) + ": " + e.getMessage(), e);
        }
    }
}
