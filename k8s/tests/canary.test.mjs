// The canary release (k8s/components/canary): the Rollout and its AnalysisTemplates in every build that has them,
// the analysis queries derived from the SLO recording rules, the thresholds from the fast-burn page, the timeline in
// the README recomputed from the manifests, the pinned Argo Rollouts release and its facts.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { makeVariable, rolloutsDir, rolloutsFacts } from "./lib/crd.mjs";
import {
  analysisQueryFromRule,
  canaryProblems,
  HASH_LABEL,
  canaryTimeline,
  fastBurnThreshold,
  replicaSplit,
  rolloutOf,
  sliRules,
  sloRules,
  timelineMarkdown,
} from "./lib/canary.mjs";
import { build, buildDirs, K8S, rel, REPO } from "./lib/render.mjs";
import { validateStrict } from "./lib/schema.mjs";

const rules = sloRules();
const canaryBuilds = buildDirs().filter((d) => rolloutOf(build(d)));
/** The build whose timeline the README shows: production once it lists the component, else the test combination. */
const timelineBuild = canaryBuilds.find((d) => rel(d) === "k8s/overlays/production") ?? join(K8S, "tests/kind-canary");

test("the pinned Argo Rollouts release (k8s/k8s.mk ARGO_ROLLOUTS_VERSION) has its schemas and facts under k8s/tests/third-party", () => {
  const version = makeVariable("ARGO_ROLLOUTS_VERSION");
  assert.match(version, /^\d+\.\d+\.\d+$/);
  for (const f of ["rollout.v1alpha1.json", "analysistemplate.v1alpha1.json", "release-facts.json"]) assert.ok(existsSync(join(rolloutsDir(), f)), `${rel(rolloutsDir())}/${f}`);
  const facts = rolloutsFacts();
  assert.equal(facts.source, `https://github.com/argoproj/argo-rollouts at tag v${version}`);
  assert.equal(facts.installManifest.url, `https://github.com/argoproj/argo-rollouts/releases/download/v${version}/install.yaml`);
  // The kind node runs Kubernetes 1.32 (kind/cluster.yaml): the release's e2e tests must cover it.
  const node = /kindest\/node:v(\d+\.\d+)\./.exec(readFileSync(join(K8S, "kind/cluster.yaml"), "utf8"))[1];
  assert.ok(facts.kubernetesTested.versions.includes(node), `Argo Rollouts v${version} is not tested on Kubernetes ${node}`);
  assert.match(readFileSync(join(K8S, "tests/third-party/README.md"), "utf8"), new RegExp(`argo-rollouts-v${version.replaceAll(".", "\\.")}`));
});

/** The Prometheus configurations on Kubernetes: the kind overlay's, and the environments' shared stack's. */
const K8S_PROMETHEUS = ["observability/prometheus/prometheus-k8s.yml", "observability/environments/prometheus.yml"];

test("Prometheus keeps the pod label rollouts-pod-template-hash as the label the queries select, and scrapes the controller", () => {
  const facts = rolloutsFacts();
  const meta = `__meta_kubernetes_pod_label_${facts.podTemplateHashLabel.name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
  for (const file of K8S_PROMETHEUS) {
    const config = parse(readFileSync(join(REPO, file), "utf8"));
    // The jobs that scrape the shop's pods: pod discovery, job name from the prometheus.io/job annotation.
    const shopJobs = config.scrape_configs.filter((j) => (j.relabel_configs ?? []).some((r) => r.source_labels?.includes("__meta_kubernetes_pod_annotation_prometheus_io_job")));
    assert.ok(shopJobs.length > 0, `${file}: no job scrapes pods by their prometheus.io/job annotation`);
    for (const job of shopJobs) {
      const r = (job.relabel_configs ?? []).find((x) => x.source_labels?.length === 1 && x.source_labels[0] === meta);
      assert.equal(r?.target_label, HASH_LABEL, `${file} job ${job.job_name}: ${meta} is not kept as ${HASH_LABEL}`);
      assert.ok((r.action ?? "replace") === "replace" && (r.replacement ?? "$1") === "$1", `${file} job ${job.job_name}: the relabel must copy the value`);
    }
  }
  // The controller runs with the environments only: their stack scrapes it.
  const config = parse(readFileSync(join(REPO, K8S_PROMETHEUS[1]), "utf8"));
  const job = config.scrape_configs.find((j) => j.job_name === "argo-rollouts");
  const port = facts.controller.ports.find((x) => x.name === "metrics").port;
  assert.deepEqual(job?.dns_sd_configs, [{ names: [`${facts.controller.metricsService}.${facts.installManifest.namespace}.svc.cluster.local`], type: "A", port }]);
});

test("some build runs the shop as a Rollout, and the README's timeline comes from one of them", () => {
  assert.ok(canaryBuilds.length > 0, "no build has the Rollout shop: is k8s/components/canary listed anywhere?");
  assert.ok(canaryBuilds.includes(timelineBuild), `${rel(timelineBuild)} has no Rollout`);
});

for (const dir of canaryBuilds) {
  describe(`build ${rel(dir)} (canary)`, () => {
    const objects = build(dir);
    test("the Rollout and AnalysisTemplates validate against Argo Rollouts' CRD schemas, unknown fields rejected", () => {
      const custom = objects.filter((o) => o.apiVersion === "argoproj.io/v1alpha1");
      assert.deepEqual(custom.map((o) => o.kind).sort(), ["AnalysisTemplate", "AnalysisTemplate", "Rollout"]);
      assert.deepEqual(custom.flatMap(validateStrict), []);
    });
    test("Rollout, autoscaler, disruption budget, steps and analysis agree; queries are the SLO rules on the canary's pods", () => {
      assert.deepEqual(canaryProblems(objects, rules), []);
    });
  });
}

describe("the analysis queries are the SLO recording rules", () => {
  test("both SLIs of the SLO rules exist and each pages at factor x budget", () => {
    const slis = sliRules(rules).map((r) => r.record).sort();
    assert.deepEqual(slis, ["service:slo_availability_errors:ratio_rate5m", "service:slo_latency_slow:ratio_rate5m"]);
    assert.equal(fastBurnThreshold(rules, slis[0]).threshold, 14.4 * 0.001);
    assert.equal(fastBurnThreshold(rules, slis[1]).threshold, 14.4 * 0.01);
  });

  test("the derivation adds the canary matchers to every selector and changes the window, nothing else", () => {
    const rule = 'sum by (service) (rate(x_count{service="shop", status=~"5.."}[5m])) / sum(rate(x_count{}[5m]))';
    assert.equal(
      analysisQueryFromRule(rule, "1m"),
      'sum by (service) (rate(x_count{service="shop", status=~"5..", namespace="{{args.namespace}}", rollouts_pod_template_hash="{{args.canary-hash}}"}[1m])) / sum(rate(x_count{namespace="{{args.namespace}}", rollouts_pod_template_hash="{{args.canary-hash}}"}[1m]))',
    );
  });
});

describe("the canary checks fail on a planted change", () => {
  const base = build(join(K8S, "tests/kind-canary"));
  const planted = (edit) => {
    const copy = structuredClone(base);
    const get = (kind, name) => copy.find((o) => o.kind === kind && o.metadata.name === name);
    edit(get, copy);
    return canaryProblems(copy, rules).join("\n");
  };
  const metric = (get, name) => get("AnalysisTemplate", name).spec.metrics[0];

  test("a query that drifts from its rule, or loses the canary matcher", () => {
    assert.match(planted((get) => (metric(get, "shop-canary-availability").provider.prometheus.query = metric(get, "shop-canary-availability").provider.prometheus.query.replace('status=~"5.."', 'status=~"50."'))), /query differs from service:slo_availability_errors:ratio_rate5m/);
    assert.match(planted((get) => (metric(get, "shop-canary-latency").provider.prometheus.query = metric(get, "shop-canary-latency").provider.prometheus.query.replaceAll(', rollouts_pod_template_hash="{{args.canary-hash}}"', ""))), /not restricted to the canary's pods/);
  });

  test("a loosened threshold, a forgiving failureLimit, no-data passing", () => {
    assert.match(planted((get) => (metric(get, "shop-canary-availability").successCondition = "len(result) == 1 && result[0] <= 0.05")), /threshold 0.05, ShopAvailabilityBudgetBurnFast pages at 14.4 x 0.001/);
    assert.match(planted((get) => (metric(get, "shop-canary-latency").failureLimit = 3)), /failureLimit 3/);
    assert.match(planted((get) => (metric(get, "shop-canary-latency").successCondition = "result[0] <= 0.144")), /no data must fail/);
  });

  test("an ungated weight, the stable hash, the HPA left on the Deployment", () => {
    assert.match(planted((get) => get("Rollout", "shop").spec.strategy.canary.steps.splice(3, 1)), /promoted to 100 % without an analysis/);
    assert.match(planted((get) => (get("Rollout", "shop").spec.strategy.canary.steps[1].analysis.args[0].valueFrom.podTemplateHashValue = "Stable")), /not podTemplateHashValue: Latest/);
    assert.match(planted((get) => (get("HorizontalPodAutoscaler", "shop").spec.scaleTargetRef = { apiVersion: "apps/v1", kind: "Deployment", name: "shop" })), /0 autoscalers target the Rollout/);
  });
});

describe("the timeline", () => {
  test("replica split as Argo Rollouts rounds it (upstream examples: 3 replicas at 50 % tie to the larger canary)", () => {
    assert.deepEqual(replicaSplit(3, 50, 0), { canary: 2, stable: 1 });
    assert.deepEqual(replicaSplit(10, 20, 1), { canary: 2, stable: 8 });
    assert.deepEqual(replicaSplit(2, 20, 1), { canary: 1, stable: 2 });
    assert.deepEqual(replicaSplit(2, 20, 0), { canary: 1, stable: 1 });
  });

  test("k8s/components/canary/README.md shows the timeline the manifests give", () => {
    const readme = readFileSync(join(K8S, "components/canary/README.md"), "utf8");
    const m = /<!-- canary-timeline -->\n([\s\S]*?)\n<!-- \/canary-timeline -->/.exec(readme);
    assert.ok(m, "no <!-- canary-timeline --> block in k8s/components/canary/README.md");
    assert.equal(m[1], timelineMarkdown(build(timelineBuild)), `the block must read (from ${rel(timelineBuild)}):\n${timelineMarkdown(build(timelineBuild))}`);
  });

  test("k8s/README.md and the root README quote the same bounds", () => {
    const t = canaryTimeline(build(timelineBuild));
    const share = `${Math.round(t.maxShare * 100)} %`;
    for (const file of [join(K8S, "README.md"), join(REPO, "README.md")]) {
      const text = readFileSync(file, "utf8");
      assert.match(text, new RegExp(`aborted \\*\\*${t.firstAbort} s\\*\\*`), `${rel(file)}: the abort time ${t.firstAbort} s`);
      assert.match(text, new RegExp(`\\*\\*${t.longest} s\\*\\*`), `${rel(file)}: the longest exposure ${t.longest} s`);
      assert.match(text, new RegExp(`\\*\\*${share}\\*\\*`), `${rel(file)}: the largest share ${share}`);
    }
  });
});
