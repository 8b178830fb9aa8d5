// k8s/scripts/kind-load.sh offline: kubectl and make are replaced by stubs on PATH (a cluster whose HPA goes
// 2 -> 4 replicas, a load run of one second), and the timeline it writes must be what the CI's reader
// (.github/scripts/hpa-timeline.sh) expects.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { K8S, REPO } from "./lib/render.mjs";
import { stubFolder } from "./lib/stubs.mjs";
import { kedaFacts, kedaFactsShape, kedaVersion } from "./lib/thirdparty.mjs";

function stubs(dir, loadExit) {
  const counter = join(dir, "count");
  writeFileSync(counter, "0");
  // kubectl stub: the HPA reports 2 replicas for the first two samples, then 4 (desired 4), CPU 85 %.
  writeFileSync(
    join(dir, "kubectl"),
    `#!/usr/bin/env bash
case "$*" in
  *"get deployment shop -o jsonpath"*) echo -n 2 ;;
  *"get deployment shop"*) exit 0 ;;
  *"get horizontalpodautoscalers -o name"*) echo horizontalpodautoscaler.autoscaling/shop ;;
  *"get horizontalpodautoscaler.autoscaling/shop"*)
    n=$(cat "${counter}"); echo $((n + 1)) > "${counter}"
    if [ "$n" -lt 2 ]; then echo -n "2 2 40"; else echo -n "4 4 85"; fi ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac
`,
  );
  writeFileSync(join(dir, "make"), `#!/usr/bin/env bash\necho "make $*" >> "${join(dir, "make.log")}"\nsleep 1\nexit ${loadExit}\n`);
  chmodSync(join(dir, "kubectl"), 0o755);
  chmodSync(join(dir, "make"), 0o755);
}

function run(loadExit) {
  const dir = mkdtempSync(join(tmpdir(), "kind-load-"));
  stubs(dir, loadExit);
  const log = join(dir, "timeline.txt");
  const result = spawnSync(join(K8S, "scripts/kind-load.sh"), [], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, MAKE: join(dir, "make"), KIND_LOAD_LOG: log, KIND_LOAD_INTERVAL: "0.2", KIND_LOAD_TAIL_SECONDS: "0.5" },
  });
  return { dir, log, result };
}

test("kind-load.sh runs the stress profile through the ingress and records a timeline the CI can read", () => {
  const { dir, log, result } = run(0);
  assert.equal(result.status, 0, result.stderr);
  assert.match(readFileSync(join(dir, "make.log"), "utf8"), /^make load PROFILE=stress BASE_URL=http:\/\/localhost$/m);
  const timeline = readFileSync(log, "utf8");
  assert.match(timeline, /^\d\d:\d\d:\d\d +2 +2 +2 +40$/m);
  assert.match(timeline, /^\d\d:\d\d:\d\d +4 +4 +2 +85$/m);
  assert.match(timeline, /^kind-load: peak replicas 4;/m);
  assert.match(result.stdout, /peak replicas 4/, "the timeline is printed to the console too");
  // The CI's reader must exist: a moved script fails here instead of skipping the check.
  const out = execFileSync(join(REPO, ".github/scripts/hpa-timeline.sh"), ["check", log, "2"], { encoding: "utf8" });
  assert.match(out, /peak 4 replicas/);
});

test("kind-load.sh fails when the load run fails, after recording the timeline", () => {
  const { log, result } = run(3);
  assert.equal(result.status, 3);
  assert.match(readFileSync(log, "utf8"), /load finished \(exit 3\)/);
});

/** A stub directory whose kubectl logs every call, answers a few queries, and runs the real `kubectl kustomize`. */
function clusterStubs({ kindVersion = "v0.27.0", crd = false, cnpgCrd = true, clusterExists = false } = {}) {
  const { dir, calls, script } = stubFolder("kind-stubs-");
  const realKubectl = execFileSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
  script(
    "kubectl",
    `case "$*" in
  kustomize*) exec "${realKubectl}" "$@" ;;
  *"get crd scaledobjects.keda.sh"*) ${crd ? "exit 0" : "exit 1"} ;;
  *"get crd clusters.postgresql.cnpg.io"*) ${cnpgCrd ? "exit 0" : "exit 1"} ;;
  *"get deployments -o name"*) echo deployment.apps/shop; echo deployment.apps/grafana ;;
  *"get deployment metrics-server -o jsonpath"*) echo '["--cert-dir=/tmp"]' ;;
  *"apply"*) cat > /dev/null ;;
esac
exit 0`,
  );
  script("kind", `case "$1" in version) echo "kind ${kindVersion} go1.23 linux/amd64" ;; get) ${clusterExists ? "echo shop" : "true"} ;; esac`);
  script("docker", `case "$1" in inspect) echo "172.18.0.3 " ;; esac`);
  return { dir, calls };
}

const runScript = (script, args, dir, extraEnv = {}) =>
  spawnSync(join(K8S, "scripts", script), args, {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, K8S_SHOP_IMAGE: "shop:1.0.0", KIND_CLUSTER: "shop", ...extraEnv },
  });

test("kind-up.sh: cluster from k8s/kind/cluster.yaml, pinned add-ons by URL, insecure kubelet TLS, image loaded", () => {
  const { dir, calls } = clusterStubs();
  const result = runScript("kind-up.sh", ["up"], dir, { METRICS_SERVER_VERSION: "v0.7.2", INGRESS_NGINX_VERSION: "controller-v1.12.3", CNPG_VERSION: "1.30.0" });
  assert.equal(result.status, 0, result.stderr);
  const log = readFileSync(calls, "utf8");
  assert.match(log, /^kind create cluster --name shop --config k8s\/kind\/cluster.yaml/m);
  assert.match(log, /apply -f https:\/\/github.com\/kubernetes-sigs\/metrics-server\/releases\/download\/v0.7.2\/components.yaml/);
  assert.match(log, /patch deployment metrics-server --type=json -p .*--kubelet-insecure-tls/);
  assert.match(log, /apply -f https:\/\/raw.githubusercontent.com\/kubernetes\/ingress-nginx\/controller-v1.12.3\/deploy\/static\/provider\/kind\/deploy.yaml/);
  assert.match(log, /apply --server-side -f https:\/\/github.com\/cloudnative-pg\/cloudnative-pg\/releases\/download\/v1.30.0\/cnpg-1.30.0.yaml/);
  assert.match(log, /-n cnpg-system rollout status deployment\/cnpg-controller-manager/);
  assert.match(log, /^kind load docker-image shop:1.0.0 --name shop$/m);
  assert.match(result.stdout, /inside the blocks of NetworkPolicy kube-api-egress/);
});

test("kind-up.sh refuses a kind older than v0.24.0 (no NetworkPolicy enforcement)", () => {
  const { dir } = clusterStubs({ kindVersion: "v0.23.0" });
  const result = runScript("kind-up.sh", ["up"], dir);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /older than 0.24.0/);
});

test("kind-deploy.sh applies the overlay server-side and waits for every rollout", () => {
  const { dir, calls } = clusterStubs({ clusterExists: true });
  const result = runScript("kind-deploy.sh", [], dir);
  assert.equal(result.status, 0, result.stderr);
  const log = readFileSync(calls, "utf8");
  assert.match(log, /apply --server-side --field-manager=shop-platform -f -/);
  assert.match(log, /-n shop wait cluster\/shop-db --for=condition=Ready/);
  assert.doesNotMatch(log, /statefulset\/postgres/);
  assert.match(log, /rollout status deployment.apps\/shop/);
  assert.doesNotMatch(log, /delete horizontalpodautoscaler/);
});

test("kind-deploy.sh with the environments: the stack, then staging and production, each in its own namespace", () => {
  const { dir, calls } = clusterStubs({ clusterExists: true });
  const overlays = "k8s/overlays/observability k8s/overlays/staging k8s/overlays/production";
  const result = runScript("kind-deploy.sh", [], dir, { K8S_OVERLAYS: overlays });
  assert.equal(result.status, 0, result.stderr);
  const log = readFileSync(calls, "utf8");
  assert.equal([...log.matchAll(/apply --server-side/g)].length, 3, log);
  assert.deepEqual([...result.stdout.matchAll(/applying (\S+) \(namespace (\S+)\)/g)].map((m) => `${m[1]} ${m[2]}`), [
    "k8s/overlays/observability observability",
    "k8s/overlays/staging shop-staging",
    "k8s/overlays/production shop-production",
  ]);
  for (const ns of ["shop-staging", "shop-production"]) assert.match(log, new RegExp(`-n ${ns} wait cluster/shop-db --for=condition=Ready`));
  assert.doesNotMatch(log, /-n observability wait cluster/);
  for (const ns of ["observability", "shop-staging", "shop-production"]) assert.match(log, new RegExp(`-n ${ns} rollout status deployment.apps/`));
  assert.match(result.stdout, /http:\/\/staging.localhost\/api\/products/);
  // The make target passes exactly these overlays.
  const mk = readFileSync(join(K8S, "k8s.mk"), "utf8");
  assert.ok(mk.includes(`K8S_ENV_OVERLAYS   ?= ${overlays.replaceAll("k8s/", "$(K8S_DIR)/")}\n`), "k8s.mk K8S_ENV_OVERLAYS");
});

test("kind-deploy.sh: the default overlay needs CloudNativePG; the plain-postgres combination waits for its StatefulSet", () => {
  const without = clusterStubs({ clusterExists: true, cnpgCrd: false });
  const refused = runScript("kind-deploy.sh", [], without.dir);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /CloudNativePG, which is not installed: run make kind-cnpg/);
  assert.doesNotMatch(readFileSync(without.calls, "utf8"), /apply --server-side/, "nothing applied");
  const plain = runScript("kind-deploy.sh", [], without.dir, { K8S_OVERLAY: "k8s/tests/kind-plain-postgres" });
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(readFileSync(without.calls, "utf8"), /rollout status statefulset\/postgres/);
});

test("kind-deploy.sh with the KEDA combination: refuses without KEDA, removes the plain HPA with it", () => {
  const overlay = { K8S_OVERLAY: "k8s/tests/kind-keda-request-rate" };
  const without = clusterStubs({ crd: false });
  const refused = runScript("kind-deploy.sh", [], without.dir, overlay);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /KEDA, which is not installed/);
  const withKeda = clusterStubs({ crd: true });
  const applied = runScript("kind-deploy.sh", [], withKeda.dir, overlay);
  assert.equal(applied.status, 0, applied.stderr);
  const log = readFileSync(withKeda.calls, "utf8");
  const deleted = log.search(/delete horizontalpodautoscaler shop --ignore-not-found/);
  assert.ok(deleted >= 0, log);
  // KEDA's admission webhook (v2.17.2, apis/keda/v1alpha1/scaledobject_webhook.go) refuses a ScaledObject whose
  // workload another HPA already scales: the plain HPA must be gone before the ScaledObject is applied.
  assert.ok(deleted < log.search(/apply --server-side/), `the ScaledObject is applied before the plain HPA is deleted:\n${log}`);
});

test("kind-up.sh keda installs the pinned release by URL and waits for each of its Deployments", () => {
  const version = kedaVersion();
  const facts = kedaFacts(version);
  const { dir, calls } = clusterStubs({ clusterExists: true });
  const result = runScript("kind-up.sh", ["keda"], dir, { KEDA_VERSION: version });
  assert.equal(result.status, 0, result.stderr);
  const log = readFileSync(calls, "utf8");
  assert.match(log, new RegExp(`apply --server-side -f https://github.com/kedacore/keda/releases/download/v${version}/keda-${version}.yaml`));
  const waited = [...log.matchAll(/-n keda rollout status deployment\/(\S+)/g)].map((m) => m[1]).sort();
  assert.deepEqual(waited, facts.deployments.map((d) => d.name).sort());
});

test("the KEDA facts file is strict and names its source", () => {
  const facts = kedaFacts(kedaVersion());
  assert.equal(facts.source, "https://github.com/kedacore/keda");
  assert.equal(facts.licence, "Apache-2.0");
  const broken = { ...structuredClone(facts), extra: 1, deployments: [{ name: "x", podLabels: {}, selector: {} }] };
  delete broken.namespace;
  const problems = kedaFactsShape(broken).join("\n");
  assert.match(problems, /unknown key extra/);
  assert.match(problems, /missing key namespace/);
  assert.match(problems, /deployments\[0\]: unknown key selector/);
  assert.match(problems, /deployments\[0\].podLabels: empty/);
});
