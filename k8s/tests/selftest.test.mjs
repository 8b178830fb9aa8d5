// Negative self-tests: the checks of k8s.test.mjs must reject the deliberately broken fixture
// (fixtures/broken: the kind overlay with one violation per check), each for the reason planted there.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { API_CLIENTS, expectedFlows, IP_BLOCK_POLICIES, KIND_ONLY_IMAGES, NAMESPACE_LABELS, OUTSIDE } from "./expectations.mjs";
import { allowedFlows, cidrContains, policyShapes } from "./lib/netpol.mjs";
import {
  autoscalingAndBudget,
  connectionBudget,
  javaOptsInEffect,
  matchesSelector,
  pinnedImages,
  restrictedPss,
  serviceAccounts,
  servicesSelectPods,
  shopMatchesService,
} from "./lib/policy.mjs";
import { appProperties, build, composeEnv, K8S, REPO } from "./lib/render.mjs";
import { loadCapacity } from "./lib/sizing.mjs";
import { validateStrict } from "./lib/schema.mjs";
import { httpRoutes, ROUTES } from "./lib/edge.mjs";

const broken = build(join(K8S, "tests/fixtures/broken"));
const props = appProperties();
const capacity = loadCapacity(REPO);
const envImages = [...composeEnv()].filter(([k]) => k.endsWith("_IMAGE")).map(([, v]) => v);
/** Asserts that some problem mentions `fragment`. */
const rejects = (problems, fragment) =>
  assert.ok(problems.some((p) => p.includes(fragment)), `expected a problem containing "${fragment}", got ${JSON.stringify(problems)}`);

describe("the broken fixture is rejected", () => {
  test("schema: the unknown field imagePullPolice", () => {
    rejects(broken.flatMap(validateStrict), "unknown field /spec/template/spec/containers/0/imagePullPolice");
  });

  test("schema: a wrong type", () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { port: 8080 } };
    rejects(validateStrict(cm), "/data/port");
  });

  test("schema: a kind without a known schema", () => {
    rejects(validateStrict({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }), "no schema known");
  });

  test("restricted PSS: allowPrivilegeEscalation true", () => {
    rejects(restrictedPss(broken), "Deployment/shop: container shop: allowPrivilegeEscalation is not false");
  });

  test("images: grafana:latest", () => {
    rejects(pinnedImages(broken, envImages, KIND_ONLY_IMAGES), "uses latest");
    rejects(pinnedImages(broken, envImages, KIND_ONLY_IMAGES), "compose/.env pins grafana/grafana");
  });

  test("services: a selector that matches no pods", () => {
    rejects(servicesSelectPods(broken), "Service/loki: selects no pods");
  });

  test("service contract: readiness on the API port, grace period too short", () => {
    const problems = shopMatchesService(broken, props);
    rejects(problems, "readinessProbe uses port http");
    rejects(problems, "terminationGracePeriodSeconds 20");
  });

  test("JVM flags: a heap share the image's entrypoint would override, or a JAVA_OPTS nothing reads", () => {
    const entrypoint = (flags) => `# comment\nENTRYPOINT ["java", \\\n    ${flags}\\\n    "-jar", "app.jar"]\n`;
    rejects(javaOptsInEffect(broken, entrypoint('"-XX:MaxRAMPercentage=50.0", ')), "overridden by the image's ENTRYPOINT (50.0)");
    assert.deepEqual(javaOptsInEffect(broken, entrypoint("")), [], "no flag in the ENTRYPOINT: JDK_JAVA_OPTIONS rules");
    const withJavaOpts = structuredClone(broken);
    const cm = withJavaOpts.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("shop-"));
    cm.data.JAVA_OPTS = "-Xmx100m";
    rejects(javaOptsInEffect(withJavaOpts, entrypoint('"-XX:MaxRAMPercentage=75.0", ')), "JAVA_OPTS is set, but the image's ENTRYPOINT never reads it");
  });

  test("PodDisruptionBudget: minAvailable equal to the HPA minimum", () => {
    rejects(autoscalingAndBudget(broken), "minAvailable 2 blocks every eviction");
  });

  test("connection budget: maxReplicas 12", () => {
    rejects(connectionBudget(broken, props, capacity.sizing), "connection budget: (12 max + 1 surge)");
  });

  test("HTTPRoute: the management port routed, without HSTS or rate limit", () => {
    const problems = httpRoutes(broken, props, ROUTES.platform);
    rejects(problems, "routes the management port (shop:9000)");
    rejects(problems, "a rule without HSTS");
    rejects(problems, "the API without a per-client rate limit");
  });

  test("RBAC: a Role reading secrets", () => {
    rejects(serviceAccounts(broken, API_CLIENTS), "Role/alloy: reads secrets");
  });

  test("NetworkPolicy shape: an empty peer", () => {
    rejects(policyShapes(broken, IP_BLOCK_POLICIES), "NetworkPolicy/shop-allow-all: a rule without peers allows everyone");
  });

  test("NetworkPolicy flows: the allow-all rule opens the management port to the internet", () => {
    const extra = [...allowedFlows(broken, OUTSIDE, NAMESPACE_LABELS)].filter((f) => !expectedFlows(broken).includes(f));
    assert.ok(extra.includes("internet -> shop:9000/TCP"), JSON.stringify(extra));
    assert.ok(extra.includes("traefik -> shop:9000/TCP"), JSON.stringify(extra));
  });
});

describe("evaluator building blocks", () => {
  test("cidrContains", () => {
    assert.ok(cidrContains("172.16.0.0/12", "172.18.0.2"));
    assert.ok(!cidrContains("172.16.0.0/12", "172.32.0.1"));
    assert.ok(cidrContains("10.96.0.1/32", "10.96.0.1"));
    assert.ok(!cidrContains("10.96.0.1/32", "10.96.0.2"));
  });

  test("matchesSelector: labels and expressions", () => {
    const labels = { a: "1", b: "2" };
    assert.ok(matchesSelector({ matchLabels: { a: "1" } }, labels));
    assert.ok(!matchesSelector({ matchLabels: { a: "2" } }, labels));
    assert.ok(matchesSelector({ matchExpressions: [{ key: "b", operator: "In", values: ["2", "3"] }] }, labels));
    assert.ok(!matchesSelector({ matchExpressions: [{ key: "c", operator: "Exists" }] }, labels));
    assert.ok(matchesSelector({}, labels), "an empty selector selects everything");
  });

  test("a policy with podSelector alone does not reach into other namespaces", () => {
    const flows = allowedFlows(build(join(K8S, "overlays/kind")), OUTSIDE, NAMESPACE_LABELS);
    assert.ok(flows.has("prometheus -> shop:9000/TCP"));
    assert.ok(!flows.has("prometheus-elsewhere -> shop:9000/TCP"));
  });
});
