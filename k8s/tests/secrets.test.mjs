// Credentials of the Kubernetes overlays (k8s/README.md, "Secrets"): no build carries a Secret; every Secret a build
// reads is generated at deploy time by k8s/scripts/kind-secrets.sh (k8s/scripts/secrets.list) or made by an operator;
// the generator creates them random, in the right format, and never overwrites one (checked against a stub kubectl
// that keeps the Secrets it is given). That kind-deploy.sh and kind-gitops.sh run it before applying is checked with
// their other script tests (scripts.test.mjs, gitops.test.mjs).
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { clustersOf } from "./lib/cnpg.mjs";
import { cnpgFacts } from "./lib/crd.mjs";
import { podOf } from "./lib/policy.mjs";
import { build, buildDirs, K8S, rel } from "./lib/render.mjs";
import { externalSecretKeys, plannedSecrets } from "./lib/secrets.mjs";
import { stubFolder } from "./lib/stubs.mjs";

const SCRIPT = join(K8S, "scripts/kind-secrets.sh");
const kubectl = execFileSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();

/** kind-secrets.sh with ARGS, BUILD on stdin. */
const run = (args, input = "", env = {}) =>
  spawnSync(SCRIPT, args, { input, encoding: "utf8", env: { ...process.env, KIND_CLUSTER: "shop", ...env } });

/** "secret key" pairs kind-secrets.sh plans for a build folder. */
const plan = (dir) => plannedSecrets(build(dir));

/** Every "secret key" (key "*" for a whole-Secret reference) a build's objects read, with the reader. */
export function secretReads(objects) {
  const reads = [];
  for (const o of objects) {
    const who = `${o.kind}/${o.metadata?.name}`;
    const spec = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Rollout", "Pod"].includes(o.kind) ? podOf(o)?.spec : undefined;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) reads.push({ who, ref: `${e.valueFrom.secretKeyRef.name} ${e.valueFrom.secretKeyRef.key}` });
      for (const e of c.envFrom ?? []) if (e.secretRef) reads.push({ who, ref: `${e.secretRef.name} *` });
    }
    for (const v of spec?.volumes ?? []) {
      if (v.secret) for (const item of v.secret.items ?? [{ key: "*" }]) reads.push({ who, ref: `${v.secret.secretName} ${item.key}` });
      for (const s of v.projected?.sources ?? []) if (s.secret) for (const item of s.secret.items ?? [{ key: "*" }]) reads.push({ who, ref: `${s.secret.name} ${item.key}` });
    }
    // CloudNativePG: the object-store credentials of the Cluster (and of a recovery source).
    const stores = [o.spec?.backup?.barmanObjectStore, ...(o.spec?.externalClusters ?? []).map((x) => x.barmanObjectStore)];
    if (o.kind === "Cluster") for (const s of stores.filter(Boolean)) for (const r of Object.values(s.s3Credentials ?? {})) if (r?.name) reads.push({ who, ref: `${r.name} ${r.key}` });
  }
  return reads;
}

/** Secrets an operator of the build makes at run time: CloudNativePG's <cluster>-app (release facts), ESO's targets. */
function operatorMade(objects) {
  const { appSecret } = cnpgFacts();
  const cnpg = clustersOf(objects).flatMap((c) => appSecret.keys.map((k) => `${appSecret.name.replace("<cluster>", c.metadata.name)} ${k}`));
  return new Set([...cnpg, ...externalSecretKeys(objects)]);
}

/** Problems of one build: literal Secrets, reads nobody provides, generated Secrets nobody reads. */
export function secretProblems(objects, planned) {
  const problems = [];
  for (const s of objects.filter((o) => o.kind === "Secret")) problems.push(`Secret/${s.metadata.name} is committed: generate it (k8s/scripts/secrets.list)`);
  const made = operatorMade(objects);
  const reads = secretReads(objects);
  for (const { who, ref } of reads) {
    const [name, key] = ref.split(" ");
    const provided = key === "*" ? [...planned, ...made].some((p) => p.startsWith(`${name} `)) : planned.has(ref) || made.has(ref);
    if (!provided) problems.push(`${who} reads ${name}/${key}, which neither kind-secrets.sh nor an operator makes`);
  }
  // The plain keys are for people (make credential, e2e, load test); the key file until the shop mounts it.
  const shop = objects.find((o) => (o.kind === "Deployment" || o.kind === "Rollout") && o.metadata.name === "shop");
  const containers = shop ? podOf(shop).spec?.containers ?? [] : [];
  const mountsKeys = containers.some((c) => (c.env ?? []).some((e) => e.name === "SHOP_API_KEYS_FILE"));
  const unread = new Set(["shop-api-credentials", ...(mountsKeys ? [] : ["shop-api-keys"])]);
  for (const p of planned) {
    const [name, key] = p.split(" ");
    if (!unread.has(name) && !reads.some(({ ref }) => ref === p || ref === `${name} *`)) problems.push(`kind-secrets.sh makes ${name}/${key}, which nothing in this build reads`);
  }
  return problems;
}

const dirs = buildDirs();

describe("no credential in any build", () => {
  test("there are builds to check", () => assert.ok(dirs.length >= 5, `only ${dirs.length} builds`));
  for (const dir of dirs) {
    test(`${rel(dir)}: no Secret, and every Secret it reads is generated or made by an operator`, () => {
      assert.deepEqual(secretProblems(build(dir), plan(dir)), []);
    });
  }
  test("the kind overlay reads generated Secrets (the check has something to check)", () => {
    const planned = plan(join(K8S, "overlays/kind"));
    for (const p of ["grafana-admin password", "object-store secret-key", "shop-api-credentials admin", "shop-api-keys api-keys"]) assert.ok(planned.has(p), `kind overlay: ${p} not planned`);
    assert.ok(plan(join(K8S, "tests/kind-plain-postgres")).has("postgres password"));
  });
  test("a planted literal Secret, an unlisted read and an unread entry are each reported", () => {
    const objects = structuredClone(build(join(K8S, "overlays/kind")));
    const planned = plan(join(K8S, "overlays/kind"));
    objects.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "grafana-admin" }, stringData: { password: "x" } });
    assert.match(secretProblems(objects, planned).join("\n"), /Secret\/grafana-admin is committed/);
    const less = new Set([...planned].filter((p) => p !== "grafana-admin password"));
    assert.match(secretProblems(build(join(K8S, "overlays/kind")), less).join("\n"), /Deployment\/grafana reads grafana-admin\/password, which neither/);
    assert.match(secretProblems(build(join(K8S, "overlays/kind")), new Set([...planned, "stale key"])).join("\n"), /makes stale\/key, which nothing/);
  });
});

/**
 * A stub kubectl keeping Secrets as files secrets/<ns>/<name>.yaml: `get secret` answers from them (jsonpath .data.KEY
 * too), `create -f -` stores what it reads and refuses one that exists (as the API server does), `apply -f -` stores it
 * whether or not it exists, `get namespace`
 * knows the namespaces in namespaces/; `kustomize` runs the real kubectl.
 */
function secretStub() {
  const { dir, calls, script } = stubFolder("kind-secrets-");
  mkdirSync(join(dir, "secrets"));
  mkdirSync(join(dir, "namespaces"));
  script(
    "kubectl",
    `store="${dir}/secrets"
args=("$@"); ns=""; for i in "\${!args[@]}"; do [ "\${args[$i]}" = "-n" ] && ns="\${args[$((i + 1))]}"; done
case "$*" in
  kustomize*) exec "${kubectl}" "$@" ;;
  *"get namespace "*) [ -e "${dir}/namespaces/\${args[-1]}" ] ;;
  *"create namespace "*) touch "${dir}/namespaces/\${args[-1]}" ;;
  *" get secret "*" -o jsonpath={.data."*)
    for i in "\${!args[@]}"; do [ "\${args[$i]}" = secret ] && name="\${args[$((i + 1))]}"; done
    key="\${args[-1]#jsonpath=\\{.data.}"; key="\${key%\\}}"
    [ -f "$store/$ns/$name.yaml" ] && sed -n "s/^  $key: //p" "$store/$ns/$name.yaml" ;;
  *" get secret "*) [ -f "$store/$ns/\${args[-1]}.yaml" ] ;;
  *"create -f -"*) doc="$(cat)"; name="$(sed -n 's/^  name: //p' <<<"$doc" | head -n 1)"; ns="$(sed -n 's/^  namespace: //p' <<<"$doc")"
    [ -e "${dir}/namespaces/$ns" ] || { echo "namespace $ns not found" >&2; exit 1; }
    [ -f "$store/$ns/$name.yaml" ] && { echo "Error from server (AlreadyExists): secrets \\"$name\\" already exists" >&2; exit 1; }
    mkdir -p "$store/$ns"; echo "$doc" > "$store/$ns/$name.yaml" ;;
  *"apply -f -"*) doc="$(cat)"; name="$(sed -n 's/^  name: //p' <<<"$doc" | head -n 1)"; ns="$(sed -n 's/^  namespace: //p' <<<"$doc")"
    mkdir -p "$store/$ns"; echo "$doc" > "$store/$ns/$name.yaml" ;;
  *) exit 0 ;;
esac`,
  );
  const secret = (ns, name) => {
    const file = join(dir, "secrets", ns, `${name}.yaml`);
    return existsSync(file) ? parse(readFileSync(file, "utf8")) : undefined;
  };
  const data = (ns, name, key) => Buffer.from(secret(ns, name).data[key], "base64").toString("utf8");
  const snapshot = () => Object.fromEntries(readdirSync(join(dir, "secrets"), { recursive: true }).filter((f) => f.endsWith(".yaml")).map((f) => [f, readFileSync(join(dir, "secrets", f), "utf8")]));
  return { dir, calls, secret, data, snapshot, env: { PATH: `${dir}:${process.env.PATH}` } };
}

const kindBuild = () => execFileSync(kubectl, ["kustomize", join(K8S, "overlays/kind")], { encoding: "utf8", maxBuffer: 64 << 20 });
const sha256 = (s) => createHash("sha256").update(s).digest("hex");
const KEY = /^shop_[A-Za-z0-9_-]{43}$/;

describe("kind-secrets.sh against a stub kubectl", () => {
  // One generator (Contract A): the ExternalSecrets of components/external-secrets are seeded by this script too.
  test("kind-secrets.sh is the only generator: no other script, make file or workflow creates or edits a Secret", () => {
    const files = execFileSync("git", ["ls-files", "k8s/scripts", ".github/workflows", "toolchain", "compose/scripts", "Makefile", "*.mk"], { cwd: join(K8S, ".."), encoding: "utf8" })
      .split("\n")
      .filter((f) => f && f !== "k8s/scripts/kind-secrets.sh" && !f.endsWith("secrets.list"));
    assert.ok(files.some((f) => f.startsWith("k8s/scripts/kind-deploy")) && files.some((f) => f.startsWith(".github/workflows/")), "nothing to search");
    const writes = /\b(create|patch|replace|edit)\s+secret\b|^\s*kind:\s*Secret\s*$/m;
    assert.deepEqual(files.filter((f) => existsSync(join(K8S, "..", f)) && writes.test(readFileSync(join(K8S, "..", f), "utf8"))), []);
    assert.match(readFileSync(SCRIPT, "utf8"), writes, "kind-secrets.sh itself no longer writes Secrets the way this test looks for");
  });

  test("creates every planned Secret once, random, in the build's namespace; a second run keeps every value", () => {
    const stub = secretStub();
    const first = run(["ensure", "shop"], kindBuild(), stub.env);
    assert.equal(first.status, 0, first.stderr);
    for (const name of ["grafana-admin", "object-store", "shop-api-credentials", "shop-api-keys"]) {
      assert.ok(stub.secret("shop", name), `shop/${name} not created`);
      assert.equal(stub.secret("shop", name).metadata.labels["app.kubernetes.io/managed-by"], "kind-secrets");
      assert.ok(!stub.secret("shop", name).metadata.annotations?.["argocd.argoproj.io/tracking-id"], "a tracking id would make Argo CD prune it");
    }
    assert.ok(!stub.secret("shop", "postgres") && !stub.secret("shop", "shop-db"), "CloudNativePG builds need neither postgres nor shop-db");
    assert.match(stub.data("shop", "grafana-admin", "password"), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(stub.data("shop", "grafana-admin", "user"), "admin");
    assert.notEqual(stub.data("shop", "object-store", "secret-key"), stub.data("shop", "grafana-admin", "password"));
    const before = stub.snapshot();
    assert.ok(Object.keys(before).length === 4, `${Object.keys(before)}`);
    const creates = () => readFileSync(stub.calls, "utf8").match(/ create -f -$/gm)?.length ?? 0;
    const second = run(["ensure", "shop"], kindBuild(), stub.env);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(stub.snapshot(), before, "a second deploy changed a Secret");
    assert.match(second.stdout, /shop\/grafana-admin exists, kept/);
    assert.equal(creates(), 4, "the second deploy tried to create a Secret");
  });

  test("the API keys: Contract A's format, and the key file holds the sha256 of exactly those keys", () => {
    const stub = secretStub();
    assert.equal(run(["ensure", "shop"], kindBuild(), stub.env).status, 0);
    const admin = stub.data("shop", "shop-api-credentials", "admin");
    const client = stub.data("shop", "shop-api-credentials", "client");
    assert.match(admin, KEY);
    assert.match(client, KEY);
    assert.notEqual(admin, client);
    const lines = stub.data("shop", "shop-api-keys", "api-keys").split("\n").filter((l) => l && !l.startsWith("#"));
    assert.deepEqual(lines, [`admin admin ${sha256(admin)}`, `client client ${sha256(client)}`]);
  });

  test("make credential KIND=1 prints the keys kind-secrets.sh made, whose hashes the shop's key file holds", () => {
    const stub = secretStub();
    assert.equal(run(["ensure", "shop"], kindBuild(), stub.env).status, 0);
    const keyFile = stub.data("shop", "shop-api-keys", "api-keys");
    for (const role of ["admin", "client"]) {
      const r = spawnSync("make", ["-s", "--no-print-directory", "credential", `ROLE=${role}`, "KIND=1"], {
        cwd: join(K8S, ".."), encoding: "utf8", env: { ...process.env, ...stub.env, KIND_CLUSTER: "shop" },
      });
      assert.equal(r.status, 0, r.stderr);
      const printed = r.stdout.trim();
      assert.equal(printed, stub.data("shop", "shop-api-credentials", role));
      assert.match(keyFile, new RegExp(`^\\S+ ${role} ${sha256(printed)}$`, "m"));
    }
    // kubectl prints nothing and exits 0 for a data key the Secret lacks: the target must still refuse.
    const credentials = join(stub.dir, "secrets/shop/shop-api-credentials.yaml");
    writeFileSync(credentials, readFileSync(credentials, "utf8").replace(/^  admin: .*\n/m, ""));
    const missing = spawnSync("make", ["-s", "--no-print-directory", "credential", "ROLE=admin", "KIND=1"], {
      cwd: join(K8S, ".."), encoding: "utf8", env: { ...process.env, ...stub.env, KIND_CLUSTER: "shop" },
    });
    assert.notEqual(missing.status, 0, "a Secret without the key printed an empty credential");
    assert.match(missing.stderr, /credential: no admin key in Secret shop\/shop-api-credentials/);
  });

  test("a lost key file is made again from the existing keys, which stay as they are", () => {
    const stub = secretStub();
    assert.equal(run(["ensure", "shop"], kindBuild(), stub.env).status, 0);
    const admin = stub.data("shop", "shop-api-credentials", "admin");
    const keysFile = join(stub.dir, "secrets/shop/shop-api-keys.yaml");
    writeFileSync(keysFile, "");
    execFileSync("rm", [keysFile]);
    const again = run(["ensure", "shop"], kindBuild(), stub.env);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(stub.data("shop", "shop-api-credentials", "admin"), admin);
    assert.match(stub.data("shop", "shop-api-keys", "api-keys"), new RegExp(`^admin admin ${sha256(admin)}$`, "m"));
  });

  test("overlays: each environment gets its own values in its own namespace, created first", () => {
    const stub = secretStub();
    const r = run(["overlays", "k8s/overlays/observability", "k8s/overlays/staging", "k8s/overlays/production"], "", stub.env);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(stub.secret("observability", "grafana-admin"));
    assert.ok(!stub.secret("observability", "shop-api-keys"), "the shared stack runs no shop");
    assert.notEqual(stub.data("shop-staging", "shop-api-credentials", "admin"), stub.data("shop-production", "shop-api-credentials", "admin"));
    assert.match(readFileSync(stub.calls, "utf8"), /create namespace shop-staging/);
  });

  test("a malformed list and an unknown recipe are refused with the line number", () => {
    const stub = secretStub();
    const list = join(stub.dir, "bad.list");
    writeFileSync(list, "# comment\ngrafana-admin password random\n");
    const r1 = run(["plan"], kindBuild(), { ...stub.env, SECRETS_LIST: list });
    assert.notEqual(r1.status, 0);
    assert.match(r1.stderr, /bad\.list:2: want <secret> <key> <value> <where>, got 3 columns/);
    writeFileSync(list, "grafana-admin password guess Deployment/grafana\n");
    const r2 = run(["plan"], kindBuild(), { ...stub.env, SECRETS_LIST: list });
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr, /bad\.list:1: unknown value guess/);
  });
});
