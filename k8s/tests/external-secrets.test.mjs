// The external-secrets component (k8s/components/external-secrets): ExternalSecrets making exactly the Secrets and keys
// of k8s/scripts/secrets.list from OpenBao paths the seed writes, through the ClusterSecretStore of the kind-only OpenBao
// (openbao/), validated strictly against the CRD schemas of the pinned release (k8s/tests/third-party/
// external-secrets-v*/); kind-external-secrets.sh and the seed against a stub kubectl (release URL, waits from the
// release facts, OpenBao's Kubernetes auth for the operator's ServiceAccount, values seeded once and never overwritten).
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { makeVariable, thirdPartyDir, validateCustomResource } from "./lib/crd.mjs";
import { allowedFlows, policyShapes } from "./lib/netpol.mjs";
import { matchesSelector, podOf } from "./lib/policy.mjs";
import { build, buildDirs, K8S, rel } from "./lib/render.mjs";
import { validateStrict } from "./lib/schema.mjs";
import { stubFolder } from "./lib/stubs.mjs";
import { externalSecretKeys, plannedSecrets } from "./lib/secrets.mjs";

const COMPONENT = join(K8S, "components/external-secrets");
const OPENBAO = join(COMPONENT, "openbao");
const facts = () => JSON.parse(readFileSync(join(thirdPartyDir("external-secrets", "ESO_VERSION"), "release-facts.json"), "utf8"));
const SCRIPT = readFileSync(join(K8S, "scripts/kind-external-secrets.sh"), "utf8");
const scriptVar = (name) => new RegExp(`^${name}=(\\S+)$`, "m").exec(SCRIPT)?.[1];

/** "secret key" lines of secrets.list by secret name (all entries, whatever their workloads). */
function listKeys() {
  const keys = new Map();
  for (const line of readFileSync(join(K8S, "scripts/secrets.list"), "utf8").split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const [name, key] = line.split(/\s+/);
    keys.set(name, [...(keys.get(name) ?? []), key]);
  }
  return keys;
}

/** Problems of the ExternalSecrets of a build against secrets.list and the store of openbao/. */
export function externalSecretProblems(objects, store) {
  const problems = [];
  const list = listKeys();
  for (const e of objects.filter((o) => o.kind === "ExternalSecret")) {
    const name = e.metadata.name;
    const p = (msg) => problems.push(`ExternalSecret/${name}: ${msg}`);
    if (e.spec.target?.name && e.spec.target.name !== name) p(`target ${e.spec.target.name}: kind-secrets.sh skips the Secret named like the ExternalSecret`);
    if (!list.has(name)) p("no Secret of that name in k8s/scripts/secrets.list");
    const keys = (e.spec.data ?? []).map((d) => d.secretKey).sort();
    if (JSON.stringify(keys) !== JSON.stringify([...(list.get(name) ?? [])].sort())) p(`keys ${keys.join(",")}, secrets.list has ${(list.get(name) ?? []).join(",")}`);
    if (e.spec.dataFrom) p("dataFrom would copy whatever the path holds: name each key");
    for (const d of e.spec.data ?? []) {
      if (d.remoteRef?.key !== `shop/${name}` || d.remoteRef?.property !== d.secretKey) p(`${d.secretKey} from ${d.remoteRef?.key}#${d.remoteRef?.property}: the seed writes shop/${name}#${d.secretKey}`);
    }
    if (e.spec.secretStoreRef?.kind !== store.kind || e.spec.secretStoreRef?.name !== store.metadata.name) p(`store ${e.spec.secretStoreRef?.kind}/${e.spec.secretStoreRef?.name} is not ${store.kind}/${store.metadata.name} (openbao/)`);
  }
  return problems;
}

const openbao = build(OPENBAO);
const store = openbao.find((o) => o.kind === "ClusterSecretStore");

describe("the external-secrets component", () => {
  test("the pinned ESO version (k8s/k8s.mk ESO_VERSION) has its schemas and facts under k8s/tests/third-party", () => {
    const dir = thirdPartyDir("external-secrets", "ESO_VERSION");
    assert.ok(existsSync(dir), `${rel(dir)} is missing`);
    assert.equal(facts().version, `v${makeVariable("ESO_VERSION")}`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".v1.json")).sort(), ["clustersecretstore.v1.json", "externalsecret.v1.json"]);
  });

  // The builds listing the component (k8s.test.mjs checks that exactly those have ExternalSecrets).
  const withEso = buildDirs().filter((d) => /components\/external-secrets\b/.test(readFileSync(join(d, "kustomization.yaml"), "utf8")));
  test("some build lists the component", () => assert.ok(withEso.length >= 1, "no build with an ExternalSecret"));
  for (const dir of withEso) {
    test(`${rel(dir)}: ExternalSecrets make exactly the list's Secrets and keys, from the seeded paths, valid at the pinned version`, () => {
      const objects = build(dir);
      assert.deepEqual(externalSecretProblems(objects, store), []);
      for (const e of objects.filter((o) => o.kind === "ExternalSecret")) assert.deepEqual(validateCustomResource(e), [], `${e.metadata.name} has no schema or fails it`);
      // kind-secrets.sh leaves these Secrets to the operator: what it plans plus what ESO makes is the plain overlay's plan.
      const planned = [...plannedSecrets(objects)];
      const plain = [...plannedSecrets(build(join(K8S, "overlays/kind")))];
      const eso = externalSecretKeys(objects);
      assert.deepEqual(planned.filter((p) => eso.has(p)), [], "kind-secrets.sh would create Secrets the operator owns");
      assert.deepEqual([...new Set([...planned, ...eso])].sort(), plain.sort());
    });
  }

  test("a misspelled key, a foreign path and another store are each reported", () => {
    const objects = structuredClone(build(withEso[0]));
    const e = objects.find((o) => o.kind === "ExternalSecret" && o.metadata.name === "shop-api-credentials");
    e.spec.data[0].secretKey = "admn";
    e.spec.data[1].remoteRef.key = "shop/other";
    e.spec.secretStoreRef.name = "vault";
    const problems = externalSecretProblems(objects, store).join("\n");
    assert.match(problems, /keys admn,client, secrets.list has admin,client/);
    assert.match(problems, /client from shop\/other#client: the seed writes shop\/shop-api-credentials#client/);
    assert.match(problems, /store ClusterSecretStore\/vault is not ClusterSecretStore\/openbao/);
  });

  test("openbao/: strict schemas, the store reaches the OpenBao Service, auth as the script configures it, a restricted pod", () => {
    assert.deepEqual(openbao.flatMap(validateStrict), []);
    const vault = store.spec.provider.vault;
    const url = new URL(vault.server);
    const [svcName, ns] = url.hostname.split(".");
    const svc = openbao.find((o) => o.kind === "Service" && o.metadata.name === svcName && o.metadata.namespace === ns);
    assert.ok(svc, `${url.hostname}: no Service ${svcName} in namespace ${ns}`);
    assert.ok(svc.spec.ports.some((p) => p.port === Number(url.port)), `${vault.server}: not a port of Service ${svcName}`);
    assert.equal(vault.version, "v2");
    assert.equal(vault.auth.kubernetes.role, scriptVar("ROLE"), "the store's role is not the one kind-external-secrets.sh writes");
    assert.equal(vault.auth.kubernetes.mountPath, scriptVar("AUTH_MOUNT"), "the store's auth mount is not the one kind-external-secrets.sh enables");
    assert.ok(!vault.auth.kubernetes.secretRef && !vault.auth.tokenSecretRef, "the store must not carry a token");
    const pod = podOf(openbao.find((o) => o.kind === "Deployment" && o.metadata.name === "openbao")).spec;
    const c = pod.containers[0];
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
    assert.match(c.image, /:\d+\.\d+\.\d+$/);
    assert.deepEqual(c.args.slice(0, 2), ["server", "-dev"], "dev mode is what the README documents as kind-only");
    const token = c.env.find((e) => e.name === "BAO_DEV_ROOT_TOKEN_ID").valueFrom.secretKeyRef;
    assert.ok(plannedSecrets(openbao).has(`${token.name} ${token.key}`), "the root token is not generated");
  });
});

describe("the component's NetworkPolicies (openbao/network-policies.yaml)", () => {
  const labels = facts().controllerPodLabels.labels;
  const ns = facts().namespace.name;
  const ep = (id, namespace, l, ports, ip) => ({ id, namespace, labels: l, ip, ports: ports.map((port) => ({ port, protocol: "TCP" })) });
  // The operator's release (facts of the pinned version), a shop and strangers, the cluster's DNS and API, the internet.
  const outside = [
    ep("eso-controller", ns, labels, [8080, 8082], "10.244.2.10"),
    ep("eso-webhook", ns, { ...labels, "app.kubernetes.io/name": "external-secrets-webhook" }, [10250], "10.244.2.11"),
    ep("stranger", ns, { "app.kubernetes.io/name": "stranger" }, [8080], "10.244.2.12"),
    ep("shop", "shop", { "app.kubernetes.io/name": "shop" }, [8080], "10.244.2.13"),
    // Another pod with the controller's labels outside the release namespace: not the operator.
    ep("impostor", "shop", labels, [8080], "10.244.2.14"),
    { id: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, ip: "10.244.0.3", ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
    { id: "kube-api-service", ip: "10.96.0.1", ports: [{ port: 443, protocol: "TCP" }] },
    { id: "kube-api-node", ip: "172.18.0.2", ports: [{ port: 6443, protocol: "TCP" }] },
    { id: "internet", ip: "8.8.8.8", ports: [{ port: 443, protocol: "TCP" }] },
  ];
  const namespaces = Object.fromEntries(["openbao", ns, "shop", "kube-system"].map((n) => [n, { "kubernetes.io/metadata.name": n }]));
  // The release namespace counts as the build's too, so the controller's own flows are evaluated.
  const flows = () => [...allowedFlows([...openbao, { kind: "Namespace", metadata: { name: ns } }], outside, namespaces)];

  test("the controller's policy selects the controller's pods of the pinned release, nothing else of it", () => {
    const pol = openbao.find((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === ns);
    assert.ok(pol, `no NetworkPolicy in the release namespace ${ns}`);
    assert.ok(matchesSelector(pol.spec.podSelector, labels), "the policy does not select the controller's pods");
    assert.ok(!matchesSelector(pol.spec.podSelector, { ...labels, "app.kubernetes.io/name": "external-secrets-webhook" }), "the policy selects the webhook");
  });

  test("shapes: no allow-all peers, namespaces by name, ipBlock only for the API server", () => {
    assert.deepEqual(policyShapes(openbao, ["openbao", "external-secrets-egress"]), []);
  });

  test("the controller reaches OpenBao, the API and DNS only; OpenBao is reached by the controller only and reaches the API and DNS", () => {
    const tcp = (a, b, p) => `${a} -> ${b}:${p}/TCP`;
    const dns = (src) => [`${src} -> kube-dns:53/UDP`, `${src} -> kube-dns:53/TCP`];
    const relevant = flows().filter((f) => /^(eso-controller|openbao) ->|-> openbao:/.test(f)).sort();
    const expected = [
      tcp("eso-controller", "openbao", 8200),
      ...["eso-controller", "openbao"].flatMap((src) => [tcp(src, "kube-api-service", 443), tcp(src, "kube-api-node", 6443), ...dns(src)]),
    ].sort();
    assert.deepEqual(relevant, expected);
  });
});

/**
 * Stub kubectl: `kustomize` runs the real one; `exec ... -- bao kv get|put -mount=secret shop/NAME` reads and writes
 * JSON files kv/NAME.json (get -field=F prints that field), `bao auth list` answers from auth-enabled; `get secret` is
 * answered from secrets/ (kept as files), `create -f -` stores; every call is logged.
 */
function esoStubs({ authEnabled = false } = {}) {
  const { dir, calls, script } = stubFolder("kind-eso-");
  mkdirSync(join(dir, "kv"));
  mkdirSync(join(dir, "secrets"));
  const real = execFileSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
  script(
    "kubectl",
    `args=("$@"); for i in "\${!args[@]}"; do [ "\${args[$i]}" = "--" ] && cmd=("\${args[@]:$((i + 1))}"); done
case "$*" in
  kustomize*) exec "${real}" "$@" ;;
  *" -- bao kv get "*) f="${dir}/kv/\${cmd[-1]#shop/}.json"; [ -f "$f" ] || exit 2
    field=""; for a in "\${cmd[@]}"; do case "$a" in -field=*) field="\${a#-field=}" ;; esac; done
    [ -z "$field" ] || node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$f" "$field" ;;
  *" -- bao kv put "*) cat > "${dir}/kv/\${cmd[-2]#shop/}.json" ;;
  *" -- bao auth list"*) ${authEnabled ? `echo '{"kubernetes/": {}}'` : "echo '{}'"} ;;
  *" -- bao policy write"*) cat > "${dir}/policy.hcl" ;;
  *" get secret "*) [ -f "${dir}/secrets/\${args[-1]}" ] ;;
  *"create -f -"*) doc="$(cat)"; touch "${dir}/secrets/$(sed -n 's/^  name: //p' <<<"$doc" | head -n 1)" ;;
esac
exit 0`,
  );
  return { dir, calls, kv: (name) => JSON.parse(readFileSync(join(dir, "kv", `${name}.json`), "utf8")), log: () => readFileSync(calls, "utf8") };
}

const run = (args, stub, env = {}) =>
  spawnSync(join(K8S, "scripts/kind-external-secrets.sh"), args, {
    encoding: "utf8",
    env: { ...process.env, PATH: `${stub.dir}:${process.env.PATH}`, KIND_CLUSTER: "shop", ESO_VERSION: makeVariable("ESO_VERSION"), ...env },
  });
const sha256 = (s) => createHash("sha256").update(s).digest("hex");

describe("kind-external-secrets.sh against a stub kubectl", () => {
  test("install: the release manifest by URL, the release's CRDs and Deployments waited for, then the root token, OpenBao, its auth, the seed", () => {
    const stub = esoStubs();
    const r = run(["install"], stub);
    assert.equal(r.status, 0, r.stderr);
    const log = stub.log();
    const f = facts();
    const url = f.installManifest.url.replace("<version>", makeVariable("ESO_VERSION"));
    assert.ok(log.includes(`apply --server-side -f ${url}\n`), `no server-side apply of ${url}`);
    for (const crd of f.crds.names) assert.match(log, new RegExp(`wait --for=condition=Established .*crd/${crd.replaceAll(".", "\\.")}`));
    for (const d of f.deployments.names) assert.match(log, new RegExp(`-n ${f.namespace.name} rollout status deployment/${d} `));
    const lines = log.split("\n");
    const at = (re) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/-n openbao get secret openbao-root-token$/) > at(/rollout status deployment\/external-secrets-cert-controller/));
    assert.ok(at(/-n openbao get secret openbao-root-token$/) < at(/apply --server-side --field-manager=shop-platform -k k8s\/components\/external-secrets\/openbao$/), "the root token must exist before OpenBao starts");
    assert.match(log, /-- bao auth enable -path=kubernetes kubernetes$/m);
    assert.match(log, new RegExp(`-- bao write auth/kubernetes/role/external-secrets bound_service_account_names=${f.serviceAccount.name} bound_service_account_namespaces=${f.namespace.name} policies=external-secrets`));
    assert.match(readFileSync(join(stub.dir, "policy.hcl"), "utf8"), /path "secret\/data\/shop\/\*" \{\s+capabilities = \["read"\]/);
    assert.deepEqual(readdirSync(join(stub.dir, "kv")).sort(), ["grafana-admin.json", "object-store.json", "shop-api-credentials.json", "shop-api-keys.json"]);
  });

  test("seed: Contract A's keys and key file, random values; a second seed keeps every value", () => {
    const stub = esoStubs({ authEnabled: true });
    assert.equal(run(["seed"], stub).status, 0);
    const creds = stub.kv("shop-api-credentials");
    assert.match(creds.admin, /^shop_[A-Za-z0-9_-]{43}$/);
    const lines = stub.kv("shop-api-keys")["api-keys"].split("\n").filter((l) => l && !l.startsWith("#"));
    assert.deepEqual(lines, [`admin admin ${sha256(creds.admin)}`, `client client ${sha256(creds.client)}`]);
    assert.match(stub.kv("grafana-admin").password, /^[A-Za-z0-9_-]{43}$/);
    const before = readdirSync(join(stub.dir, "kv")).map((f) => readFileSync(join(stub.dir, "kv", f), "utf8"));
    const again = run(["seed"], stub);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /openbao shop\/shop-api-keys exists, kept/);
    assert.deepEqual(readdirSync(join(stub.dir, "kv")).map((f) => readFileSync(join(stub.dir, "kv", f), "utf8")), before, "a second seed changed a value");
    assert.equal((stub.log().match(/ -- bao kv put /g) ?? []).length, 4);
  });
});
