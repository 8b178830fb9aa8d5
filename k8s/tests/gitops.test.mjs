// GitOps with Argo CD (k8s/gitops, k8s/scripts/kind-gitops.sh), offline: the pinned release's facts and CRD schemas,
// strict validation of every resource and of the Applications the ApplicationSet generates, the project's limits
// against what the deployed folders really contain, and the script against stub commands, with a real git daemon on
// loopback serving what the script feeds it from a shallow clone.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { makeVariable, thirdPartyDir } from "./lib/crd.mjs";
import { argocdFacts, generateApplications, renderGoTemplate, servedRepoURL } from "./lib/gitops.mjs";
import { podOf, probesAndResources, restrictedPss, servicesSelectPods } from "./lib/policy.mjs";
import { promtoolCheckConfig } from "./lib/promtool.mjs";
import { build, K8S, rel, REPO } from "./lib/render.mjs";
import { validateStrict } from "./lib/schema.mjs";
import { stubFolder } from "./lib/stubs.mjs";

const facts = argocdFacts();
const gitServer = build(join(K8S, "gitops/git-server"));
const additions = build(join(K8S, "gitops/argocd"));
const appsBuild = build(join(K8S, "gitops/apps"));
const appset = appsBuild.find((o) => o.kind === "ApplicationSet");
const project = appsBuild.find((o) => o.kind === "AppProject");
const generated = generateApplications(appset);
const appOf = (path) => generated.find((a) => a.spec.source.path === path);
const strip = ({ params, ...app }) => app; // eslint-disable-line no-unused-vars

// Kinds the API server keeps outside namespaces (those the overlays could plausibly hold).
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass",
  "PriorityClass", "IngressClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
  "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "RuntimeClass", "CSIDriver",
]);

describe(`Argo CD v${makeVariable("ARGOCD_VERSION")} (k8s/tests/third-party)`, () => {
  test("the folder of ARGOCD_VERSION holds the three CRD schemas and the release facts, with source and licence", () => {
    assert.equal(facts.source, "https://github.com/argoproj/argo-cd");
    assert.equal(facts.licence, "Apache-2.0");
    const dir = thirdPartyDir("argo-cd", "ARGOCD_VERSION");
    for (const kind of ["application", "applicationset", "appproject"]) {
      const schema = JSON.parse(readFileSync(join(dir, `${kind}.v1alpha1.json`), "utf8"));
      assert.equal(schema.group, "argoproj.io");
      assert.equal(schema.kind.toLowerCase(), kind);
      assert.ok(facts.installManifest.crds.includes(`${kind}s.argoproj.io`), `${kind}s.argoproj.io is not in the install manifest's CRDs`);
    }
    assert.equal(facts.installManifest.image, `quay.io/argoproj/argocd:v${makeVariable("ARGOCD_VERSION")}`);
  });

  test("the release is tested on the kind node's Kubernetes minor version (k8s/kind/cluster.yaml)", () => {
    const cluster = parse(readFileSync(join(K8S, "kind/cluster.yaml"), "utf8"));
    const minor = /kindest\/node:(v\d+\.\d+)\./.exec(cluster.nodes[0].image)?.[1];
    assert.ok(minor, "no kindest/node version in k8s/kind/cluster.yaml");
    assert.ok(facts.supportedKubernetes.versions.includes(minor), `Argo CD ${facts.version} is tested on ${facts.supportedKubernetes.versions.join(", ")}, not ${minor}`);
  });
});

describe("k8s/gitops resources", () => {
  test("every object and every generated Application validates strictly (unknown fields rejected)", () => {
    const objects = [...gitServer, ...additions, ...appsBuild, ...generated.map(strip)];
    assert.ok(objects.some((o) => o.kind === "ApplicationSet") && objects.some((o) => o.kind === "AppProject") && generated.length > 0);
    assert.deepEqual(objects.flatMap(validateStrict), []);
  });

  test("the Argo CD schemas reject unknown fields and wrong types", () => {
    const app = structuredClone(strip(generated[0]));
    app.spec.source.targetRevison = "main";
    app.spec.syncPolicy.automated = { prune: "yes" };
    const problems = validateStrict(app);
    assert.ok(problems.some((p) => p.includes("unknown field /spec/source/targetRevison")), problems.join("\n"));
    assert.ok(problems.some((p) => p.includes("/spec/syncPolicy/automated/prune")), problems.join("\n"));
    const set = structuredClone(appset);
    set.spec.generators[0].lists = set.spec.generators[0].list;
    assert.ok(validateStrict(set).some((p) => p.includes("unknown field /spec/generators/0/lists")));
    const proj = structuredClone(project);
    proj.spec.clusterResourceWhitelist[0].kinds = ["Namespace"];
    assert.ok(validateStrict(proj).some((p) => p.includes("unknown field /spec/clusterResourceWhitelist/0/kinds")));
  });

  test("the git server is hardened like every workload and runs Argo CD's own image at ARGOCD_VERSION", () => {
    assert.deepEqual(restrictedPss(gitServer), []);
    assert.deepEqual(probesAndResources(gitServer), []);
    assert.deepEqual(servicesSelectPods(gitServer), []);
    const deployment = gitServer.find((o) => o.kind === "Deployment");
    assert.equal(podOf(deployment).spec.containers[0].image, facts.installManifest.image);
    assert.equal(podOf(deployment).spec.securityContext.runAsUser, facts.git.imageUser, "the image's user, who owns the repository");
    assert.equal(podOf(deployment).spec.automountServiceAccountToken, false);
  });

  test("Prometheus of the shared stack may read pods in namespace argocd, and nothing else there", () => {
    const role = additions.find((o) => o.kind === "Role");
    const binding = additions.find((o) => o.kind === "RoleBinding");
    assert.equal(role.metadata.namespace, facts.installManifest.namespace);
    assert.deepEqual(role.rules, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "prometheus", namespace: "observability" }]);
    const stack = build(join(REPO, appOf("k8s/overlays/observability").spec.source.path));
    const prometheus = stack.find((o) => o.kind === "Deployment" && o.metadata.name === "prometheus");
    assert.equal(`${prometheus.metadata.namespace}/${podOf(prometheus).spec.serviceAccountName}`, "observability/prometheus", "the subject is the stack's Prometheus");
  });

  test("only Argo CD's repo-server reaches the git daemon, and the daemon reaches nobody", () => {
    const policies = gitServer.filter((o) => o.kind === "NetworkPolicy");
    const deployment = gitServer.find((o) => o.kind === "Deployment");
    const labels = podOf(deployment).meta.labels;
    const selecting = policies.filter((p) => Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
    assert.equal(selecting.length, 1, "one policy selects the git server");
    const [policy] = selecting;
    assert.deepEqual([...policy.spec.policyTypes].sort(), ["Egress", "Ingress"]);
    assert.deepEqual(policy.spec.egress, [], "no egress at all");
    const repoServer = facts.installManifest.workloads.find((w) => w.name === "argocd-repo-server");
    const peers = policy.spec.ingress.flatMap((r) => r.from ?? []);
    assert.equal(peers.length, 1);
    assert.equal(peers[0].namespaceSelector, undefined, "same namespace only");
    assert.ok(
      Object.entries(peers[0].podSelector.matchLabels).every(([k, v]) => repoServer.podLabels[k] === v),
      `the peer ${JSON.stringify(peers[0].podSelector)} does not select the repo-server's pods ${JSON.stringify(repoServer.podLabels)}`,
    );
    const daemonPorts = podOf(deployment).spec.containers[0].ports.map((p) => p.containerPort);
    assert.deepEqual(policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)), daemonPorts);
    // The repo-server's own egress: no policy of the install manifest isolates it.
    const isolating = facts.installManifest.networkPolicies.filter((p) => (p.spec.policyTypes ?? []).includes("Egress"));
    assert.deepEqual(isolating.map((p) => p.name), [], "an Argo CD policy restricts egress: allow the repo-server to reach the git server");
  });
});

describe("the ApplicationSet", () => {
  test("generates one Application per deployment folder: the observability stack, staging and production", () => {
    const rows = generated.map((a) => `${a.metadata.name} ${a.spec.source.path} -> ${a.spec.destination.namespace}`);
    assert.deepEqual(rows, [
      "shop-observability k8s/overlays/observability -> observability",
      "shop-staging k8s/overlays/staging -> shop-staging",
      "shop-production k8s/overlays/production -> shop-production",
    ]);
    for (const a of generated) assert.equal(a.spec.destination.server, "https://kubernetes.default.svc");
  });

  test("staging and the stack sync automatically with prune and self-heal; production waits for a manual sync", () => {
    for (const path of ["k8s/overlays/staging", "k8s/overlays/observability"]) {
      assert.deepEqual(appOf(path).spec.syncPolicy.automated, { prune: true, selfHeal: true }, `${path}: not automated with prune and self-heal`);
    }
    assert.equal(appOf("k8s/overlays/production").spec.syncPolicy.automated, undefined, "production has no automated sync");
    for (const a of generated) {
      assert.ok(a.spec.syncPolicy.syncOptions.includes("ServerSideApply=true"), a.metadata.name);
      // With server-side apply, v3.4.7 diffs by structured merge unless told otherwise; that strategy is discontinued
      // and takes CRD defaults for drift (docs/user-guide/diff-strategies.md): staging would never look Synced.
      assert.equal(a.metadata.annotations?.["argocd.argoproj.io/compare-options"], "ServerSideDiff=true", `${a.metadata.name}: diff by server-side dry run`);
    }
  });

  test("every Application reads the repository the git server serves, in a project that allows exactly that one", () => {
    const url = servedRepoURL(gitServer);
    assert.equal(appset.spec.template.spec.source.repoURL, url);
    assert.deepEqual(project.spec.sourceRepos, [url]);
    for (const a of generated) assert.equal(a.spec.project, project.metadata.name);
  });

  test("each deployed folder builds, stays inside the project's destinations and cluster-scoped kinds, and uses every kind it allows", () => {
    const destinations = new Set(project.spec.destinations.map((d) => `${d.server} ${d.namespace}`));
    const allowedKinds = new Set(project.spec.clusterResourceWhitelist.map((k) => `${k.group}/${k.kind}`));
    const used = new Set();
    const problems = [];
    for (const app of generated) {
      const dir = join(REPO, app.spec.source.path);
      if (!existsSync(join(dir, "kustomization.yaml"))) {
        problems.push(`${app.metadata.name}: ${app.spec.source.path} has no kustomization.yaml`);
        continue;
      }
      const server = app.spec.destination.server;
      if (!destinations.has(`${server} ${app.spec.destination.namespace}`)) problems.push(`${app.metadata.name}: destination ${app.spec.destination.namespace} is not in the project`);
      const objects = build(dir);
      if (objects.length === 0) problems.push(`${app.metadata.name}: ${rel(dir)} renders nothing`);
      for (const o of objects) {
        const where = `${app.metadata.name}: ${o.kind}/${o.metadata.name}`;
        if (CLUSTER_SCOPED.has(o.kind)) {
          const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
          used.add(`${group}/${o.kind}`);
          if (!allowedKinds.has(`${group}/${o.kind}`)) problems.push(`${where}: cluster-scoped kind ${group}/${o.kind} is not in the project's clusterResourceWhitelist`);
        } else if (!destinations.has(`${server} ${o.metadata.namespace ?? app.spec.destination.namespace}`)) {
          problems.push(`${where}: namespace ${o.metadata.namespace} is not a destination of the project`);
        }
      }
    }
    for (const kind of allowedKinds) if (!used.has(kind)) problems.push(`the project allows ${kind}, which no deployed folder holds`);
    assert.deepEqual(problems, []);
  });

  test("the template renderer of this test understands the actions used and refuses others", () => {
    assert.equal(renderGoTemplate("a{{- if .x }} b{{- end }}", { x: true }), "a b");
    assert.equal(renderGoTemplate("a{{- if .x }} b{{- end }}", { x: false }), "a");
    assert.throws(() => renderGoTemplate("{{.y}}", {}), /no entry for key "y"/);
    assert.throws(() => renderGoTemplate("{{ range .x }}{{ end }}", { x: [] }), /not understood/);
  });
});

describe(".github/workflows/e2e-kind.yml", () => {
  test("checks out the whole history, installs Argo CD, deploys this commit through it and asserts staging, by make targets", () => {
    const workflow = parse(readFileSync(join(REPO, ".github/workflows/e2e-kind.yml"), "utf8"));
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps ?? []);
    const checkout = steps.find((s) => String(s.uses ?? "").startsWith("actions/checkout@"));
    assert.equal(checkout?.with?.["fetch-depth"], 0, "actions/checkout needs fetch-depth: 0: make kind-gitops refuses a shallow checkout");
    const runs = steps.map((s) => String(s.run ?? ""));
    const at = (target) => runs.findIndex((r) => new RegExp(`^make\\b.*\\s${target}(\\s|$)`).test(r.trim()));
    const order = ["kind-up", "kind-argocd", "kind-gitops", "kind-gitops-check"].map(at);
    assert.ok(order.every((i) => i >= 0), `steps missing: ${JSON.stringify(order)}`);
    assert.deepEqual([...order].sort((a, b) => a - b), order, "kind-up, kind-argocd, kind-gitops, kind-gitops-check in this order");
  });
});

// ---------------------------------------------------------------- Argo CD's metrics in the rules and dashboards

/**
 * Every argocd_* selector of a PromQL text: { metric, family, labels: [[name, op, value]] }, plus the `by (...)`
 * labels of the text. Families, histogram suffixes and labels are resolved against the release facts.
 */
function argocdSelectors(text) {
  const selectors = [];
  for (const m of text.matchAll(/\b(argocd_[a-z_]+)\s*(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? "").matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => [x[1], x[2], x[3]]);
    selectors.push({ metric: m[1], labels });
  }
  const grouping = [...text.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((l) => l.trim()).filter(Boolean));
  return { selectors, grouping };
}

/** Problems of one PromQL text against the facts: unknown family, label or label value. */
function argocdQueryProblems(where, text, metrics, targetLabels) {
  const problems = [];
  const { selectors, grouping } = argocdSelectors(text);
  const known = new Set(targetLabels);
  for (const sel of selectors) {
    const base = sel.metric.replace(/_(bucket|sum|count)$/, "");
    const family = metrics.families[sel.metric] ?? (metrics.families[base]?.type === "histogram" ? metrics.families[base] : undefined);
    if (!family) {
      problems.push(`${where}: ${sel.metric} is not an Argo CD ${facts.version} metric (release-facts.json)`);
      continue;
    }
    const labels = new Set([...family.labels, ...targetLabels, ...(sel.metric.endsWith("_bucket") ? ["le"] : [])]);
    for (const l of labels) known.add(l);
    for (const [name, op, value] of sel.labels) {
      if (!labels.has(name)) problems.push(`${where}: ${sel.metric} has no label ${name} (Argo CD emits ${family.labels.join(", ")})`);
      const values = metrics.values[name];
      if (values && (op === "=" || op === "!=") && !values.includes(value)) {
        problems.push(`${where}: ${name}="${value}" is not a value Argo CD emits (${values.join(", ")})`);
      }
      if (values && (op === "=~" || op === "!~")) {
        for (const alt of value.split("|")) if (!values.includes(alt)) problems.push(`${where}: ${name}=~"${value}": ${alt} is not a value Argo CD emits`);
      }
    }
  }
  for (const l of grouping) if (selectors.length && !known.has(l)) problems.push(`${where}: by (${l}): no such label on its Argo CD metrics`);
  return problems;
}

// The scrape job of the shared stack (observability/environments/prometheus.yml) and the labels it gives.
const STACK_PROMETHEUS = "observability/environments/prometheus.yml";
const stackConfig = parse(readFileSync(join(REPO, STACK_PROMETHEUS), "utf8"));
const argocdJob = stackConfig.scrape_configs.find((j) => j.job_name === "argocd");
/** Labels the job puts on every series besides the metric's own: job, instance, and what its relabeling writes. */
const jobLabels = (job) => [
  ...new Set(["job", "instance", ...[...(job.relabel_configs ?? []), ...(job.metric_relabel_configs ?? [])].map((r) => r.target_label).filter((l) => l && !l.startsWith("__"))]),
];

describe(`the scrape job argocd (${STACK_PROMETHEUS})`, () => {
  const metricsService = facts.installManifest.services.find((s) => s.name === facts.metrics.service);
  const controller = facts.installManifest.workloads.find((w) => Object.entries(metricsService.selector).every(([k, v]) => w.podLabels[k] === v));

  test("keeps the pods behind the Service argocd-metrics, in Argo CD's namespace, on the metrics port and path", () => {
    assert.ok(argocdJob, `${STACK_PROMETHEUS} has no job argocd`);
    assert.ok(metricsService.ports.some((p) => p.targetPort === facts.metrics.port), "argocd-metrics targets the metrics port");
    assert.ok(controller.containerPorts.some((p) => p.containerPort === facts.metrics.port), `${controller.name} declares the metrics port`);
    const [sd] = argocdJob.kubernetes_sd_configs;
    assert.equal(sd.role, "pod");
    assert.deepEqual(sd.namespaces, { names: [facts.installManifest.namespace] });
    const keep = argocdJob.relabel_configs.find((r) => r.action === "keep" && r.source_labels.includes("__meta_kubernetes_pod_container_port_number"));
    assert.deepEqual(keep.source_labels, ["__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_container_port_number"]);
    assert.equal(keep.regex, `${controller.podLabels["app.kubernetes.io/name"]};${facts.metrics.port}`, "the controller's pods on the metrics port of the pinned release");
    assert.equal(argocdJob.metrics_path ?? "/metrics", facts.metrics.path);
  });

  test("writes no target label that argocd_app_info carries itself (it would be renamed exported_*)", () => {
    const own = new Set(facts.metrics.families.argocd_app_info.labels);
    const clash = (argocdJob.relabel_configs ?? []).map((r) => r.target_label).filter((l) => own.has(l));
    assert.deepEqual(clash, [], "argocd_app_info's own labels must survive the scrape");
  });

  test("Prometheus may connect: its egress policy names the controller's namespace, pods and port; the install manifest's admits them", () => {
    const stack = build(join(REPO, "k8s/overlays/observability"));
    const policy = stack.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "prometheus");
    const rule = (policy.spec.egress ?? []).find((r) =>
      (r.to ?? []).some(
        (peer) =>
          peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === facts.installManifest.namespace &&
          Object.entries(peer.podSelector?.matchLabels ?? {}).every(([k, v]) => controller.podLabels[k] === v),
      ),
    );
    assert.ok(rule, "no egress rule of NetworkPolicy prometheus reaches Argo CD's application controller");
    assert.deepEqual(rule.ports, [{ protocol: "TCP", port: facts.metrics.port }], "the egress rule to the controller must open its metrics port only");
    const theirs = facts.installManifest.networkPolicies.find((p) => Object.entries(p.spec.podSelector.matchLabels).every(([k, v]) => controller.podLabels[k] === v));
    assert.ok(
      theirs.spec.ingress.some((r) => (r.from ?? []).some((f) => f.namespaceSelector && !Object.keys(f.namespaceSelector).length) && r.ports.some((p) => p.port === facts.metrics.port)),
      `${theirs.name} does not admit ${facts.metrics.port} from other namespaces`,
    );
  });

  test("promtool accepts the configuration with the job (discovery swapped for static targets: Debian's build lacks it)", () => {
    promtoolCheckConfig(stackConfig);
  });
});

describe("Argo CD's metrics in the rules and dashboards", () => {
  // Labels every scraped series gets besides its own: those of the job argocd.
  const TARGET_LABELS = jobLabels(argocdJob);
  const texts = [];
  const annotations = [];
  for (const f of readdirSync(join(REPO, "observability/prometheus/rules"))) {
    for (const g of parse(readFileSync(join(REPO, "observability/prometheus/rules", f), "utf8")).groups ?? []) {
      for (const r of g.rules ?? []) {
        texts.push([`${f} ${r.alert ?? r.record}`, String(r.expr)]);
        for (const a of Object.values(r.annotations ?? {})) for (const m of String(a).matchAll(/\$labels\.(\w+)/g)) annotations.push([`${f} ${r.alert}`, m[1], String(r.expr)]);
      }
    }
  }
  for (const f of readdirSync(join(REPO, "observability/grafana/dashboards"))) {
    const dash = JSON.parse(readFileSync(join(REPO, "observability/grafana/dashboards", f), "utf8"));
    for (const v of dash.templating?.list ?? []) texts.push([`${f} variable ${v.name}`, String(v.definition ?? "")]);
    for (const p of dash.panels ?? []) for (const t of p.targets ?? []) texts.push([`${f} "${p.title}"`, String(t.expr ?? "")]);
  }
  const argocd = texts.filter(([, text]) => /\bargocd_/.test(text));

  test("every argocd_* name, label and label value they use is one Argo CD emits (controller/metrics/metrics.go at the tag)", () => {
    assert.ok(argocd.length >= 10, `only ${argocd.length} queries use argocd_* metrics: the check would pass on nothing`);
    assert.deepEqual(argocd.flatMap(([where, text]) => argocdQueryProblems(where, text, facts.metrics, TARGET_LABELS)), []);
  });

  test("the alerts' annotations name only labels their Argo CD series carry", () => {
    const used = annotations.filter(([, , expr]) => /\bargocd_/.test(expr));
    assert.ok(used.length > 0, "no annotation of an Argo CD alert names a label");
    const problems = [];
    for (const [where, label, expr] of used) {
      const families = argocdSelectors(expr).selectors.map((x) => facts.metrics.families[x.metric]).filter(Boolean);
      if (!families.some((fam) => fam.labels.includes(label)) && !TARGET_LABELS.includes(label)) problems.push(`${where}: $labels.${label} is on none of its series`);
    }
    assert.deepEqual(problems, []);
  });

  test("the check rejects a family, a label and a value Argo CD does not emit", () => {
    const p = argocdQueryProblems("x", 'sum by (app) (argocd_app_infos{x="1"}) + argocd_app_info{sync_state="OutOfSync", health_status="Broken"}', facts.metrics, TARGET_LABELS).join("\n");
    assert.match(p, /argocd_app_infos is not an Argo CD/);
    assert.match(p, /argocd_app_info has no label sync_state/);
    assert.match(p, /health_status="Broken" is not a value/);
    assert.match(p, /by \(app\)/);
  });
});

// ---------------------------------------------------------------- k8s/scripts/kind-gitops.sh against stubs

const realKubectl = execFileSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();

/**
 * Stub kubectl: `kustomize` runs the real one; `exec` into the git server runs the command here, with /srv/git and
 * /tmp/commit.bundle moved below the stub's root (or, with `fakeGit`, only answers rev-parse with $SERVED);
 * `get application NAME` answers states/NAME (default "Synced Healthy $SHA"); `apply -f -` appends what it reads to
 * applied.yaml; everything else succeeds silently.
 */
function gitopsStubs({ crd = true, fakeGit = false } = {}) {
  const { dir, calls, script } = stubFolder("kind-gitops-");
  mkdirSync(join(dir, "states"));
  mkdirSync(join(dir, "root/tmp"), { recursive: true });
  const execBody = fakeGit
    ? `case "$*" in *"rev-parse refs/heads/main"*) echo "$SERVED" ;; *) cat >/dev/null ;; esac; exit 0`
    : `args=("$@")
    for i in "\${!args[@]}"; do [ "\${args[$i]}" = "--" ] && { cmd=("\${args[@]:$((i + 1))}"); break; }; done
    for j in "\${!cmd[@]}"; do cmd[j]="\${cmd[j]//\\/tmp\\/commit.bundle/$root/tmp/commit.bundle}"; cmd[j]="\${cmd[j]//\\/srv\\/git/$root/srv/git}"; done
    exec "\${cmd[@]}"`;
  script(
    "kubectl",
    `root="${dir}/root"
case "$*" in
  kustomize*) exec "${realKubectl}" "$@" ;;
  *"get crd applicationsets.argoproj.io"*) ${crd ? "exit 0" : "exit 1"} ;;
  *"create namespace"*) printf 'apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: argocd\\n' ;;
  *"exec -i deployment/git-server -c git-daemon -- "*)
    ${execBody} ;;
  *"get application "*)
    args=("$@")
    for i in "\${!args[@]}"; do [ "\${args[$i]}" = "application" ] && app="\${args[$((i + 1))]}"; done
    if [ -f "${dir}/states/$app" ]; then cat "${dir}/states/$app"; else echo -n "Synced Healthy $SHA"; fi ;;
  *"apply"*"-f -"*) { cat; echo "---"; } >> "${dir}/applied.yaml" ;;
esac
exit 0`,
  );
  // The image of the source state (k8s/scripts/kind-image.sh): present already, loaded into kind.
  script("docker", `case "$1" in image) exit 0 ;; esac; exit 0`);
  script("kind", "exit 0");
  return { dir, calls };
}

const git = (...args) => execFileSync("git", args, { encoding: "utf8" }).trim();

/**
 * A checkout of its own (two commits holding this tree's scripts, k8s/gitops and compose/.env), so the tests depend
 * neither on how this repository was cloned nor on uncommitted changes; and a shallow clone of it, as
 * actions/checkout makes one.
 */
function scratchCheckouts(dir) {
  const full = join(dir, "checkout");
  git("init", "--quiet", "--initial-branch=main", full);
  const commit = (message) => git("-C", full, "-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "--quiet", "-m", message);
  cpSync(join(K8S, "gitops"), join(full, "k8s/gitops"), { recursive: true });
  cpSync(join(REPO, "compose/.env"), join(full, "compose/.env"));
  cpSync(join(REPO, ".gitignore"), join(full, ".gitignore"));
  cpSync(join(K8S, "scripts/kind-image.sh"), join(full, "k8s/scripts/kind-image.sh"));
  // What kind-secrets.sh needs to render the Applications' overlays and generate their Secrets.
  for (const f of ["scripts/kind-secrets.sh", "scripts/secrets.list", "base", "components", "overlays"]) cpSync(join(K8S, f), join(full, "k8s", f), { recursive: true });
  cpSync(join(REPO, "observability"), join(full, "observability"), { recursive: true, filter: (src) => !src.includes("node_modules") });
  git("-C", full, "add", ".");
  commit("first");
  cpSync(join(K8S, "scripts/kind-gitops.sh"), join(full, "k8s/scripts/kind-gitops.sh"));
  git("-C", full, "add", ".");
  commit("second");
  const shallow = join(dir, "shallow");
  git("clone", "--quiet", "--depth", "1", `file://${full}`, shallow);
  return { full, shallow, sha: git("-C", full, "rev-parse", "HEAD"), script: (root) => join(root, "k8s/scripts/kind-gitops.sh") };
}

const runGitops = (scriptPath, args, dir, extraEnv = {}) =>
  spawnSync(scriptPath, args, {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, KIND_CLUSTER: "shop", ARGOCD_VERSION: makeVariable("ARGOCD_VERSION"), GITOPS_INTERVAL: "0.1", ...extraEnv },
  });
const applied = (dir) => parseAllDocuments(readFileSync(join(dir, "applied.yaml"), "utf8")).map((d) => d.toJS()).filter(Boolean);

/** A free loopback port. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => { socket.end(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${seconds} s`);
}

describe("kind-gitops.sh", () => {
  const daemons = [];
  after(() => { for (const d of daemons) d.kill(); });

  test("deploy: the git server's own command serves HEAD at the URL the ApplicationSet names, which is pinned to HEAD's SHA", async () => {
    const { dir } = gitopsStubs();
    const { full, sha, script } = scratchCheckouts(dir);
    // The daemon as the Deployment starts it, its folders below the stub's root, on a loopback port.
    const port = await freePort();
    const container = podOf(gitServer.find((o) => o.kind === "Deployment")).spec.containers[0];
    assert.equal(container.command.slice(0, 2).join(" "), "sh -c");
    const command = container.command[2].replaceAll("/srv/git", join(dir, "root/srv/git")).replace("--port=9418", `--port=${port} --listen=127.0.0.1`);
    assert.notEqual(command, container.command[2]);
    const daemon = spawn("sh", ["-c", command], { stdio: "ignore" });
    daemons.push(daemon);
    await waitForPort(port, 10);

    const result = runGitops(script(full), ["deploy"], dir, { SHA: sha });
    assert.equal(result.status, 0, result.stderr + result.stdout);
    assert.match(result.stdout, new RegExp(`serves ${sha}`));
    // The shop image of this source state, as kind-image.sh names it, loaded into kind and set in every Application.
    const image = execFileSync(join(full, "k8s/scripts/kind-image.sh"), ["tag"], { encoding: "utf8", env: { ...process.env, K8S_SHOP_IMAGE: "" } }).trim();
    assert.match(readFileSync(join(dir, "calls.log"), "utf8"), new RegExp(`^kind load docker-image ${image} `, "m"), "the image is loaded into the nodes");

    // The Secrets of every Application's namespace are ensured (k8s/tests/secrets.test.mjs) before the ApplicationSet.
    const log = readFileSync(join(dir, "calls.log"), "utf8").split("\n");
    const appsetApplied = log.findIndex((l) => / apply --server-side --field-manager=shop-gitops -f -$/.test(l));
    for (const [ns, secret] of [["observability", "grafana-admin"], ["shop-staging", "shop-api-keys"], ["shop-production", "shop-api-keys"]]) {
      const ensured = log.findIndex((l) => l.endsWith(`-n ${ns} get secret ${secret}`));
      assert.ok(ensured >= 0 && ensured < appsetApplied, `${ns}/${secret} is not ensured before the ApplicationSet is applied`);
    }

    // What was applied: the ApplicationSet pinned to the SHA, reading the URL the git server serves.
    const objects = applied(dir);
    const set = objects.find((o) => o.kind === "ApplicationSet");
    assert.equal(set.spec.template.spec.source.targetRevision, sha, "the ApplicationSet is not pinned to the commit under test");
    const url = servedRepoURL(gitServer);
    assert.equal(set.spec.template.spec.source.repoURL, url);
    const shopName = readFileSync(join(REPO, "compose/.env"), "utf8").match(/^SHOP_IMAGE=(.+):[^:]+$/m)[1];
    assert.deepEqual(set.spec.template.spec.source.kustomize, { images: [`${shopName}=${image}`] }, "the Applications run the shop image of the commit under test");
    assert.deepEqual(objects.flatMap(validateStrict), []);
    // The Applications waited for are exactly those with automated sync.
    const waited = [...new Set([...result.stdout.matchAll(/^kind-gitops: \d\d:\d\d:\d\d (\S+): /gm)].map((m) => m[1]))];
    assert.deepEqual(waited, generated.filter((a) => a.spec.syncPolicy.automated).map((a) => a.metadata.name));

    // Argo CD's repo-server as util/git/client.go works at the pinned tag: a fresh repository, the URL as origin
    // (the loopback daemon's host and port, the path the ApplicationSet names), fetch, then check out the SHA.
    const repo = join(dir, "repo-server");
    git("init", "--quiet", repo);
    git("-C", repo, "remote", "add", "origin", `git://127.0.0.1:${port}${new URL(url).pathname}`);
    const fetch = spawnSync("git", ["-C", repo, "fetch", "origin", "--tags", "--force", "--prune"], { encoding: "utf8" });
    assert.equal(fetch.status, 0, fetch.stderr);
    assert.doesNotMatch(fetch.stderr, /rejected|shallow/);
    git("-C", repo, "checkout", "--quiet", sha);
    assert.equal(git("-C", repo, "rev-list", "--count", "HEAD"), "2", "the whole history is served");
    assert.ok(existsSync(join(repo, "k8s/gitops/apps/applicationset.yaml")), "the served commit holds the tree");
  });

  test("deploy refuses a shallow checkout (the repo-server could not fetch from it) and applies nothing", () => {
    const { dir, calls } = gitopsStubs();
    const { shallow, sha, script } = scratchCheckouts(dir);
    const result = runGitops(script(shallow), ["deploy"], dir, { SHA: sha });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /this checkout is shallow: run git fetch --unshallow/);
    assert.doesNotMatch(readFileSync(calls, "utf8"), /apply|exec/);
  });

  test("deploy stops when the git server does not serve the commit under test", () => {
    const { dir } = gitopsStubs({ fakeGit: true });
    const { full, sha, script } = scratchCheckouts(dir);
    const result = runGitops(script(full), ["deploy"], dir, { SHA: sha, SERVED: "0".repeat(40) });
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`serves 0{40} on main, not the commit under test ${sha}`));
    assert.equal(existsSync(join(dir, "applied.yaml")), false, "no ApplicationSet applied");
  });

  test("deploy fails with the Application's state when staging does not become Synced and Healthy in time", () => {
    const { dir } = gitopsStubs({ fakeGit: true });
    const { full, sha, script } = scratchCheckouts(dir);
    writeFileSync(join(dir, "states/shop-staging"), `OutOfSync Progressing ${sha}`);
    const result = runGitops(script(full), ["deploy"], dir, { SHA: sha, SERVED: sha, GITOPS_TIMEOUT: "1" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`shop-staging is not Synced and Healthy at ${sha} after 1s \\(sync, health, revision: OutOfSync Progressing ${sha}\\)`));
  });

  test("deploy refuses without Argo CD and applies nothing", () => {
    const { dir, calls } = gitopsStubs({ crd: false });
    const { full, sha, script } = scratchCheckouts(dir);
    const result = runGitops(script(full), ["deploy"], dir, { SHA: sha });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Argo CD is not installed: run make kind-argocd/);
    assert.doesNotMatch(readFileSync(calls, "utf8"), /apply/);
  });

  test("install applies the pinned release manifest server-side and waits for its CRDs and every workload", () => {
    const { dir, calls } = gitopsStubs();
    const result = runGitops(join(K8S, "scripts/kind-gitops.sh"), ["install"], dir);
    assert.equal(result.status, 0, result.stderr);
    const log = readFileSync(calls, "utf8");
    const version = makeVariable("ARGOCD_VERSION");
    assert.match(log, new RegExp(`apply -n argocd --server-side --force-conflicts -f https://raw.githubusercontent.com/argoproj/argo-cd/v${version}/manifests/install.yaml`));
    const crds = /wait --for=condition=Established .*$/m.exec(log)[0].match(/crd\/(\S+)/g).map((c) => c.slice(4)).sort();
    assert.deepEqual(crds, [...facts.installManifest.crds].sort());
    const waited = [...log.matchAll(/-n argocd rollout status (\S+)/g)].map((m) => m[1]).sort();
    assert.deepEqual(waited, facts.installManifest.workloads.map((w) => `${w.kind.toLowerCase()}/${w.name}`).sort());
    assert.match(log, /apply --server-side --field-manager=shop-gitops -k k8s\/gitops\/argocd/, "our additions to namespace argocd");
  });

  test("check passes only when staging is Synced and Healthy at HEAD's SHA", () => {
    const { dir } = gitopsStubs();
    const { full, sha, script } = scratchCheckouts(dir);
    assert.equal(runGitops(script(full), ["check"], dir, { SHA: sha }).status, 0);
    writeFileSync(join(dir, "states/shop-staging"), `Synced Healthy ${"1".repeat(40)}`);
    const stale = runGitops(script(full), ["check"], dir, { SHA: sha });
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, new RegExp(`shop-staging is not Synced and Healthy at ${sha} \\(sync, health, revision: Synced Healthy 1{40}\\)`));
  });

  test("render pins a full SHA and an image with a tag only", () => {
    const { dir } = gitopsStubs();
    const result = runGitops(join(K8S, "scripts/kind-gitops.sh"), ["render", "main", "shop:1.0.0"], dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /not a full commit SHA: main/);
    const noTag = runGitops(join(K8S, "scripts/kind-gitops.sh"), ["render", "0".repeat(40), "shop"], dir);
    assert.equal(noTag.status, 1);
    assert.match(noTag.stderr, /not an image name:tag: shop/);
  });
});
