// k8s/scripts/kind-load.sh offline: kubectl and make are replaced by stubs on PATH (a cluster whose HPA goes
// 2 -> 4 replicas and whose Secret shop-api-credentials holds the callers' keys, a load run of one second), and the
// timeline it writes must be what the CI's reader (.github/scripts/hpa-timeline.sh) expects.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { makeVariable, thirdPartyDir } from "./lib/crd.mjs";
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
  *"-n shop get secret shop-api-credentials -o jsonpath={.data.admin}"*) printf 'stub-admin-key' | base64 ;;
  *"-n shop get secret shop-api-credentials -o jsonpath={.data.client}"*) printf 'stub-client-key' | base64 ;;
  *"get horizontalpodautoscalers -o name"*) echo horizontalpodautoscaler.autoscaling/shop ;;
  *"get horizontalpodautoscaler.autoscaling/shop"*)
    n=$(cat "${counter}"); echo $((n + 1)) > "${counter}"
    if [ "$n" -lt 2 ]; then echo -n "2 2 40"; else echo -n "4 4 85"; fi ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac
`,
  );
  writeFileSync(join(dir, "make"), `#!/usr/bin/env bash\necho "make $* (truststore $GATLING_TRUSTSTORE, keys $SHOP_ADMIN_KEY $SHOP_CLIENT_KEY)" >> "${join(dir, "make.log")}"\nsleep 1\nexit ${loadExit}\n`);
  chmodSync(join(dir, "kubectl"), 0o755);
  chmodSync(join(dir, "make"), 0o755);
}

function run(loadExit, { truststore = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "kind-load-"));
  stubs(dir, loadExit);
  if (truststore) writeFileSync(join(dir, "ca.p12"), "truststore");
  const log = join(dir, "timeline.txt");
  const result = spawnSync(join(K8S, "scripts/kind-load.sh"), [], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, MAKE: join(dir, "make"), KIND_LOAD_LOG: log, KIND_LOAD_INTERVAL: "0.2", KIND_LOAD_TAIL_SECONDS: "0.5", KIND_CA_FILE: join(dir, "ca.crt") },
  });
  return { dir, log, result };
}

test("kind-load.sh runs the stress profile through the edge over HTTPS, verified with the local CA, and records a timeline the CI can read", () => {
  const { dir, log, result } = run(0);
  assert.equal(result.status, 0, result.stderr);
  assert.match(readFileSync(join(dir, "make.log"), "utf8"), new RegExp(`^make load PROFILE=stress BASE_URL=https://localhost \\(truststore ${join(dir, "ca.p12")}, keys stub-admin-key stub-client-key\\)$`, "m"),
    "the load writes with the cluster's keys (Secret shop-api-credentials)");
  const timeline = readFileSync(log, "utf8");
  assert.match(timeline, /^\d\d:\d\d:\d\d +2 +2 +2 +40$/m);
  assert.match(timeline, /^\d\d:\d\d:\d\d +4 +4 +2 +85$/m);
  assert.match(timeline, /^kind-load: peak replicas 4;/m);
  assert.match(result.stdout, /peak replicas 4/, "the timeline is printed to the console too");
  // The CI's reader must exist: a moved script fails here instead of skipping the check.
  const out = execFileSync(join(REPO, ".github/scripts/hpa-timeline.sh"), ["check", log, "2"], { encoding: "utf8" });
  assert.match(out, /peak 4 replicas/);
});

test("kind-load.sh refuses to start without the local CA's truststore (make kind-ca)", () => {
  const { dir, result } = run(0, { truststore: false });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /no truststore .*ca\.p12: run make kind-ca/);
  assert.ok(!existsSync(join(dir, "make.log")), "no load run");
});

test("kind-load.sh fails when the load run fails, after recording the timeline", () => {
  const { log, result } = run(3);
  assert.equal(result.status, 3);
  assert.match(readFileSync(log, "utf8"), /load finished \(exit 3\)/);
});

/**
 * A stub directory whose kubectl logs every call, answers a few queries, runs the real `kubectl kustomize`, and keeps
 * what `apply -f -` received in applied.yaml. cert-manager's webhook admits `kubectl apply -k k8s/edge` from the
 * `edgeAfter`-th try on (0: never). The Gateway of k8s/edge exists unless `gateway` is false. docker knows the images
 * in `images` (docker image inspect), make and keytool log their calls.
 */
function clusterStubs({ kindVersion = "v0.27.0", crd = false, cnpgCrd = true, rolloutsCrd = true, gateway = true, clusterExists = false, edgeAfter = 1, images = [] } = {}) {
  const { dir, calls, script } = stubFolder("kind-stubs-");
  const realKubectl = execFileSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "edge-applies"), "0");
  script(
    "kubectl",
    `count() { n=$(($(cat "${dir}/$1") + 1)); echo "$n" > "${dir}/$1"; echo "$n"; }
case "$*" in
  kustomize*) exec "${realKubectl}" "$@" ;;
  *"get crd scaledobjects.keda.sh"*) ${crd ? "exit 0" : "exit 1"} ;;
  *"get crd clusters.postgresql.cnpg.io"*) ${cnpgCrd ? "exit 0" : "exit 1"} ;;
  *"get crd rollouts.argoproj.io"*) ${rolloutsCrd ? "exit 0" : "exit 1"} ;;
  *"get deployments -o name"*) echo deployment.apps/shop; echo deployment.apps/grafana ;;
  *"get deployment metrics-server -o jsonpath"*) echo '["--cert-dir=/tmp"]' ;;
  *"get gateway edge"*) ${gateway ? "exit 0" : "exit 1"} ;;
  *"get secret local-ca -o jsonpath"*) printf '%s' "$(printf -- '-----BEGIN CERTIFICATE-----\nstub\n-----END CERTIFICATE-----\n' | base64 -w0)" ;;
  *"apply --server-side --field-manager=shop-platform -k k8s/edge"*) n=$(count edge-applies)
    if [ ${edgeAfter} -gt 0 ] && [ "$n" -ge ${edgeAfter} ]; then echo certificate.cert-manager.io/edge-tls serverside-applied; else
      echo 'Error from server (InternalError): failed calling webhook "webhook.cert-manager.io": tls: failed to verify certificate: x509: certificate signed by unknown authority' >&2; exit 1; fi ;;
  *"apply --server-side --field-manager"*) cat >> "${dir}/applied.yaml" ;;
  *"apply"*) cat > /dev/null ;;
esac
exit 0`,
  );
  script("kind", `case "$1" in version) echo "kind ${kindVersion} go1.23 linux/amd64" ;; get) ${clusterExists ? "echo shop" : "true"} ;; esac`);
  script(
    "docker",
    `case "$1 $2" in
  "image inspect") case "$3" in ${images.length ? images.map((i) => `"${i}"`).join("|") : "__none__"}) exit 0 ;; *) exit 1 ;; esac ;;
  inspect*) echo "172.18.0.3 " ;;
esac`,
  );
  script("make", "exit 0");
  script("keytool", "exit 0");
  return { dir, calls, applied: join(dir, "applied.yaml") };
}

const runScript = (script, args, dir, extraEnv = {}) =>
  spawnSync(join(K8S, "scripts", script), args, {
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: `${dir}:${process.env.PATH}`,
      MAKE: join(dir, "make"),
      K8S_SHOP_IMAGE: "shop:1.0.0-gtest",
      KIND_CLUSTER: "shop",
      KIND_DEPLOY_DIR: join(dir, "kind-deploy"),
      EDGE_APPLY_POLL: "0.05",
      ...extraEnv,
    },
  });

test("kind-up.sh: cluster from k8s/kind/cluster.yaml, pinned add-ons by URL, insecure kubelet TLS, the edge, image loaded", () => {
  const { dir, calls } = clusterStubs();
  const ca = join(dir, "edge-ca/ca.crt");
  const result = runScript("kind-up.sh", ["up"], dir, {
    METRICS_SERVER_VERSION: "v0.7.2",
    GATEWAY_API_VERSION: makeVariable("GATEWAY_API_VERSION"),
    TRAEFIK_VERSION: makeVariable("TRAEFIK_VERSION"),
    CERT_MANAGER_VERSION: makeVariable("CERT_MANAGER_VERSION"),
    CNPG_VERSION: "1.30.0",
    KIND_CA_FILE: ca,
  });
  assert.equal(result.status, 0, result.stderr);
  const log = readFileSync(calls, "utf8");
  assert.match(log, /^kind create cluster --name shop --config k8s\/kind\/cluster.yaml/m);
  assert.match(log, /apply -f https:\/\/github.com\/kubernetes-sigs\/metrics-server\/releases\/download\/v0.7.2\/components.yaml/);
  assert.match(log, /patch deployment metrics-server --type=json -p .*--kubelet-insecure-tls/);
  // The edge: CRDs and cert-manager by the URLs, namespace and Deployments read upstream at the pinned tags
  // (tests/third-party/*/release-facts.json), then k8s/edge, its pieces waited for.
  const facts = (project, variable) => JSON.parse(readFileSync(join(thirdPartyDir(project, variable), "release-facts.json"), "utf8"));
  const certManager = facts("cert-manager", "CERT_MANAGER_VERSION").installManifest;
  for (const url of [facts("gateway-api", "GATEWAY_API_VERSION").installManifest.url, facts("traefik", "TRAEFIK_VERSION").crdManifest.url, certManager.url]) {
    assert.ok(log.includes(`apply --server-side -f ${url}\n`), `not applied: ${url}`);
  }
  assert.ok(certManager.deployments.length >= 3);
  for (const d of certManager.deployments) assert.match(log, new RegExp(`-n ${certManager.namespace} rollout status deployment/${d} `), `kind-up does not wait for Deployment ${certManager.namespace}/${d}`);
  assert.ok(log.indexOf("rollout status deployment/cert-manager-webhook") < log.indexOf("-k k8s/edge"), "k8s/edge after cert-manager");
  assert.match(log, /-n traefik rollout status deployment\/traefik/);
  assert.match(log, /-n traefik wait certificate\/edge-tls --for=condition=Ready/);
  assert.match(log, /-n traefik wait gateway\/edge --for=condition=Programmed/);
  // make kind-ca's part: the CA certificate written, a PKCS12 truststore next to it, how to trust it printed.
  assert.match(readFileSync(ca, "utf8"), /^-----BEGIN CERTIFICATE-----$/m);
  assert.match(log, new RegExp(`^keytool -importcert -noprompt -alias shopwatch-local-ca -file ${ca} -keystore ${join(dir, "edge-ca/ca.p12")} -storetype PKCS12`, "m"));
  assert.match(result.stdout, new RegExp(`curl --cacert ${ca} https://localhost/api/products`));
  assert.match(result.stdout, /update-ca-certificates/);
  assert.match(log, /apply --server-side -f https:\/\/github.com\/cloudnative-pg\/cloudnative-pg\/releases\/download\/v1.30.0\/cnpg-1.30.0.yaml/);
  assert.match(log, /-n cnpg-system rollout status deployment\/cnpg-controller-manager/);
  // No image of this source state yet: built with make image, tagged, and loaded with the base tag.
  assert.match(log, /^make image$/m);
  assert.match(log, /^docker tag shop:1.0.0 shop:1.0.0-gtest$/m);
  assert.match(log, /^kind load docker-image shop:1.0.0-gtest shop:1.0.0 --name shop$/m);
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
  // The generated credentials (kind-secrets.sh, k8s/tests/secrets.test.mjs) are ensured before anything is applied.
  const lines = log.split("\n");
  const ensured = lines.findIndex((l) => l.endsWith("-n shop get secret shop-api-keys"));
  assert.ok(ensured >= 0 && ensured < lines.findIndex((l) => / apply --server-side /.test(l)), "the Secrets are not ensured before the apply");
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
  assert.match(result.stdout, /https:\/\/staging.localhost\/api\/products/);
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

// ------------------------------------------------------------------ the shop image per source state (kind defect 5)
// compose/.env names the image `make image` builds; kind gets it under a tag of its own per source state.
const BASE_IMAGE = /^SHOP_IMAGE=(\S+)$/m.exec(readFileSync(join(REPO, "compose/.env"), "utf8"))[1];
const gitStatus = () => execFileSync("git", ["status", "--porcelain", "--", "k8s", "compose"], { cwd: REPO, encoding: "utf8" });
const shopImages = (yaml) => [...yaml.matchAll(/^\s*-?\s*image:\s*"?([^"\s]+)/gm)].map((m) => m[1]).filter((i) => /(^|\/)shop[:@]/.test(i));

test("kind-deploy.sh runs the shop under the per-source-state tag, through a generated overlay: no committed file changes", () => {
  const before = gitStatus();
  const { dir, calls, applied } = clusterStubs({ clusterExists: true, images: ["shop:1.0.0-gtest"] });
  const result = runScript("kind-deploy.sh", [], dir, { K8S_SHOP_IMAGE: `${BASE_IMAGE}-gtest` });
  assert.equal(result.status, 0, result.stderr);
  const images = shopImages(readFileSync(applied, "utf8"));
  assert.ok(images.length > 0, "no shop container in what was applied");
  assert.deepEqual([...new Set(images)], [`${BASE_IMAGE}-gtest`]);
  const log = readFileSync(calls, "utf8");
  assert.match(log, new RegExp(`^kind load docker-image ${BASE_IMAGE}-gtest ${BASE_IMAGE} --name shop$`, "m"), "the tag is loaded into kind before the apply");
  assert.doesNotMatch(log, /^make image$/m, "an image of this source state exists: nothing is rebuilt");
  assert.ok(log.indexOf("kind load docker-image") < log.indexOf("apply --server-side"), log);
  assert.match(readFileSync(join(dir, "kind-deploy/1/kustomization.yaml"), "utf8"), /newTag: "1\.0\.0-gtest"/);
  assert.equal(gitStatus(), before, "kind-deploy changed files of the repository");
});

test("kind-deploy-envs: staging and production run the per-source-state tag, the shared stack is applied as it is", () => {
  const { dir, applied } = clusterStubs({ clusterExists: true });
  const overlays = ["observability", "staging", "production"].map((o) => `k8s/overlays/${o}`);
  const result = runScript("kind-deploy.sh", [], dir, { K8S_OVERLAYS: overlays.join(" "), K8S_SHOP_IMAGE: "shop:3.0.0-genv" });
  assert.equal(result.status, 0, result.stderr);
  const yaml = readFileSync(applied, "utf8");
  for (const ns of ["shop-staging", "shop-production"]) {
    const shop = yaml.split(/^---$/m).find((d) => /^kind: (Deployment|Rollout)$/m.test(d) && new RegExp(`namespace: ${ns}$`, "m").test(d) && /^  name: shop$/m.test(d));
    assert.ok(shop, `no shop Deployment applied in ${ns}`);
    assert.deepEqual(shopImages(shop), ["shop:3.0.0-genv"], ns);
  }
  assert.ok(!existsSync(join(dir, "kind-deploy/1")), "the shared stack has no shop image: no generated kustomization");
  assert.ok(existsSync(join(dir, "kind-deploy/2/kustomization.yaml")) && existsSync(join(dir, "kind-deploy/3/kustomization.yaml")));
});

test("kind-deploy.sh also replaces a shop image an overlay renamed to a registry digest", () => {
  const { dir, applied } = clusterStubs({ clusterExists: true });
  const overlay = join(dir, "renamed");
  mkdirSync(overlay);
  writeFileSync(
    join(overlay, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(overlay, join(K8S, "overlays/kind"))}\nimages:\n  - name: shop\n    newName: ghcr.io/acme/shop\n    digest: sha256:${"a".repeat(64)}\n`,
  );
  const result = runScript("kind-deploy.sh", [], dir, { K8S_OVERLAY: overlay, K8S_SHOP_IMAGE: "shop:9.9.9-gabc" });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual([...new Set(shopImages(readFileSync(applied, "utf8")))], ["shop:9.9.9-gabc"]);
});

/** A scratch git repository holding kind-image.sh and a compose/.env, committed once. */
function scratchRepo() {
  const root = mkdtempSync(join(tmpdir(), "kind-image-"));
  mkdirSync(join(root, "k8s/scripts"), { recursive: true });
  mkdirSync(join(root, "compose"));
  cpSync(join(K8S, "scripts/kind-image.sh"), join(root, "k8s/scripts/kind-image.sh"));
  writeFileSync(join(root, "compose/.env"), `SHOP_IMAGE=${BASE_IMAGE}\n`);
  writeFileSync(join(root, ".gitignore"), "target/\n");
  writeFileSync(join(root, "App.java"), "class App {}\n");
  const git = (...args) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false", ...args], { cwd: root, encoding: "utf8" });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "one");
  const tag = () => {
    const r = spawnSync(join(root, "k8s/scripts/kind-image.sh"), ["tag"], { encoding: "utf8", env: { ...process.env, K8S_SHOP_IMAGE: "" } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  return { root, git, tag };
}

test("kind-image.sh tag: the commit when clean, plus a content hash of the working tree when not", () => {
  const { root, git, tag } = scratchRepo();
  const commit = git("rev-parse", "--short=12", "HEAD").trim();
  const clean = tag();
  assert.equal(clean, `${BASE_IMAGE}-g${commit}`);
  writeFileSync(join(root, "App.java"), "class App { int x; }\n");
  const changed = tag();
  assert.match(changed, new RegExp(`^${BASE_IMAGE}-g${commit}-dirty-[0-9a-f]{12}$`));
  assert.equal(tag(), changed, "the same content gives the same tag");
  writeFileSync(join(root, "App.java"), "class App { int y; }\n");
  assert.notEqual(tag(), changed, "another change gives another tag");
  writeFileSync(join(root, "App.java"), "class App {}\n");
  assert.equal(tag(), clean, "back to the committed content: the commit's tag");
  writeFileSync(join(root, "New.java"), "class New {}\n");
  assert.match(tag(), /-dirty-/, "a new file counts");
  git("add", "New.java");
  const staged = tag();
  assert.match(staged, /-dirty-/, "a staged file counts");
  git("commit", "-q", "-m", "two");
  assert.equal(tag(), `${BASE_IMAGE}-g${git("rev-parse", "--short=12", "HEAD").trim()}`, "a new commit: a new tag");
  mkdirSync(join(root, "target"));
  writeFileSync(join(root, "target/out.jar"), "x");
  assert.doesNotMatch(tag(), /-dirty-/, "ignored build output does not count");
  assert.equal(git("status", "--porcelain", "--untracked-files=no"), "", "the real index is untouched");
});

test("kind-image.sh load builds only when no image of this source state exists", () => {
  const missing = clusterStubs({ clusterExists: true });
  const built = runScript("kind-image.sh", ["load"], missing.dir, { K8S_SHOP_IMAGE: "shop:2.0.0-gnew" });
  assert.equal(built.status, 0, built.stderr);
  const log = readFileSync(missing.calls, "utf8");
  assert.ok(log.indexOf("make image") < log.indexOf(`docker tag ${BASE_IMAGE} shop:2.0.0-gnew`), log);
  assert.match(log, new RegExp(`^kind load docker-image shop:2.0.0-gnew ${BASE_IMAGE} --name shop$`, "m"));
  const present = clusterStubs({ clusterExists: true, images: ["shop:2.0.0-gnew"] });
  const reused = runScript("kind-image.sh", ["load"], present.dir, { K8S_SHOP_IMAGE: "shop:2.0.0-gnew" });
  assert.equal(reused.status, 0, reused.stderr);
  assert.doesNotMatch(readFileSync(present.calls, "utf8"), /^make image$|docker tag/m);
});

// ------------------------------------------------------------------ the edge: cert-manager's webhook, the Gateway
test("kind-up.sh edge retries k8s/edge until cert-manager's webhook admits it, and gives up with a clear error", () => {
  const late = clusterStubs({ clusterExists: true, edgeAfter: 3 });
  const ok = runScript("kind-up.sh", ["edge"], late.dir, { KIND_CA_FILE: join(late.dir, "ca.crt") });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal([...readFileSync(late.calls, "utf8").matchAll(/-k k8s\/edge/g)].length, 3, "applied until admitted");
  const never = clusterStubs({ clusterExists: true, edgeAfter: 0 });
  const failed = runScript("kind-up.sh", ["edge"], never.dir, { EDGE_APPLY_TIMEOUT: "1", KIND_CA_FILE: join(never.dir, "ca.crt") });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /k8s\/edge still refused after 1s: .*x509/);
  assert.doesNotMatch(readFileSync(never.calls, "utf8"), /wait gateway/, "no wait on an edge that was never applied");
});

test("kind-deploy.sh refuses an overlay with routes when the edge's Gateway is missing, and prints https URLs", () => {
  const without = clusterStubs({ clusterExists: true, gateway: false });
  const refused = runScript("kind-deploy.sh", [], without.dir);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /routes through the Gateway traefik\/edge, which is not installed: run make kind-up/);
  assert.ok(!existsSync(without.applied), "nothing applied");
  const withGateway = clusterStubs({ clusterExists: true });
  const applied = runScript("kind-deploy.sh", [], withGateway.dir);
  assert.equal(applied.status, 0, applied.stderr);
  assert.match(readFileSync(withGateway.applied, "utf8"), /^kind: HTTPRoute$/m);
  assert.match(applied.stdout, /https:\/\/localhost\/api\/products/);
  assert.doesNotMatch(applied.stdout, /http:\/\/localhost/);
});

test("kind-image.sh check: the shop Deployment and every one of its pods run the image of this source state", () => {
  const cluster = (deployment, pods) => {
    const { dir, calls, script } = stubFolder("kind-image-check-");
    script(
      "kubectl",
      `case "$*" in
  *"get deployment shop"*) echo -n "${deployment}" ;;
  *"get pods -l app.kubernetes.io/name=shop"*) printf '${pods.map((p) => `${p}\\n`).join("")}' ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac`,
    );
    const r = runScript("kind-image.sh", ["check"], dir, { K8S_SHOP_IMAGE: "shop:1.0.0-gnew" });
    return { ...r, log: readFileSync(calls, "utf8") };
  };
  const ok = cluster("shop:1.0.0-gnew", ["shop:1.0.0-gnew", "shop:1.0.0-gnew"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /deployment\/shop and its 2 pod\(s\) run shop:1\.0\.0-gnew/);
  assert.match(ok.log, /--context kind-shop -n shop get deployment shop/);
  const stale = cluster(BASE_IMAGE, [BASE_IMAGE]);
  assert.equal(stale.status, 1);
  assert.match(stale.stderr, new RegExp(`deployment/shop runs ${BASE_IMAGE}, this source state is shop:1\\.0\\.0-gnew`));
  const rolling = cluster("shop:1.0.0-gnew", ["shop:1.0.0-gnew", "shop:1.0.0-gold"]);
  assert.equal(rolling.status, 1, "a pod still on another image must fail the check");
  assert.match(rolling.stderr, /shop pods still run another image: shop:1\.0\.0-gold/);
  const none = cluster("shop:1.0.0-gnew", []);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no shop pod in namespace shop/);
});

test("kind-deploy.sh with the production overlay (canary Rollout): refuses without Argo Rollouts, waits for the Rollout to serve with it", () => {
  const overlay = { K8S_OVERLAY: "k8s/overlays/production" };
  const without = clusterStubs({ clusterExists: true, rolloutsCrd: false });
  const refused = runScript("kind-deploy.sh", [], without.dir, overlay);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /Argo Rollouts\), which is not installed: run make kind-rollouts/);
  assert.doesNotMatch(readFileSync(without.calls, "utf8"), /apply --server-side/, "nothing applied");
  const withRollouts = clusterStubs({ clusterExists: true });
  const applied = runScript("kind-deploy.sh", [], withRollouts.dir, overlay);
  assert.equal(applied.status, 0, applied.stderr);
  assert.match(readFileSync(withRollouts.calls, "utf8"), /-n shop-production wait rollout\/shop --for=condition=Available --timeout=600s/);
});
