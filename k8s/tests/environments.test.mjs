// The environments (k8s/README.md, "Environments"): staging and production in namespaces of their own next to the
// shared stack in `observability`. Each environment's pods carry its name; they differ from each other exactly as the
// README's table says; the stack may read and reach each of them and nothing else; neither reaches the other.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { API_CLIENTS, APP_OVERLAYS, NAMESPACE_LABELS, OVERLAYS, STACK_NAMESPACE } from "./expectations.mjs";
import { clustersOf } from "./lib/cnpg.mjs";
import { endpointIds, environmentCluster, environmentLabelProblems, environmentOutside } from "./lib/environments.mjs";
import { allowedFlows, NAME_LABEL } from "./lib/netpol.mjs";
import { appProperties, build, buildDirs, K8S, overlayOf, rel } from "./lib/render.mjs";
import { envValue, podOf } from "./lib/policy.mjs";

const builds = Object.fromEntries(APP_OVERLAYS.map((o) => [o, build(join(K8S, "overlays", o))]));
const stack = build(join(K8S, "overlays/observability"));
const cluster = environmentCluster();
const outside = environmentOutside();
const flows = allowedFlows(cluster, outside, NAMESPACE_LABELS);
const id = endpointIds(cluster, outside);
const nsOf = (overlay) => OVERLAYS[overlay].namespace;

describe("every pod says which environment it belongs to (pod label `environment`, never in a selector)", () => {
  const dirs = buildDirs().filter((d) => OVERLAYS[overlayOf(d)].role !== "stack");
  test("the builds checked include kind, staging and production", () => {
    assert.deepEqual([...new Set(dirs.map(overlayOf))].sort(), ["kind", ...APP_OVERLAYS].sort());
  });
  for (const dir of dirs) {
    const { environment } = OVERLAYS[overlayOf(dir)];
    test(`${rel(dir)}: environment=${environment} on every pod template, the Cluster's instances and DEPLOYMENT_ENVIRONMENT`, () => {
      assert.deepEqual(environmentLabelProblems(build(dir), environment), []);
    });
  }
  test("the shared stack's pods carry no environment (they serve all of them)", () => {
    const labelled = stack.filter((o) => podOf(o).meta?.labels?.environment !== undefined && o.spec?.template);
    assert.deepEqual(labelled.map((o) => o.metadata.name), []);
  });
});

// ---------------------------------------------------------------- the table in k8s/README.md

const props = appProperties();
const shopOf = (objects) => objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
const shopEnv = (objects, name) => envValue(objects, podOf(shopOf(objects)).spec.containers[0], name);
const resources = (r) => `${r.requests.cpu} / ${r.limits.cpu}`;

/** One extractor per row of the README's table: the value the rendered manifests of one environment give. */
const ROWS = {
  "Namespace": (o) => o.find((x) => x.kind === "Namespace").metadata.name,
  "Shop replicas (HPA min–max)": (o) => {
    const hpa = o.find((x) => x.kind === "HorizontalPodAutoscaler");
    return `${hpa.spec.minReplicas}–${hpa.spec.maxReplicas}`;
  },
  "PodDisruptionBudget": (o) => {
    const pdb = o.find((x) => x.kind === "PodDisruptionBudget");
    return pdb ? `minAvailable ${pdb.spec.minAvailable}` : "none";
  },
  "Shop CPU request / limit": (o) => resources(podOf(shopOf(o)).spec.containers[0].resources),
  "Shop memory request = limit": (o) => podOf(shopOf(o)).spec.containers[0].resources.limits.memory,
  "Trace sampling": (o) => shopEnv(o, "QUARKUS_OTEL_TRACES_SAMPLER_ARG"),
  "Log level of dev.shopwatch": (o) => shopEnv(o, "QUARKUS_LOG_CATEGORY__DEV_SHOPWATCH__LEVEL") ?? shopEnv(o, "QUARKUS_LOG_LEVEL") ?? props.get("quarkus.log.level"),
  "PostgreSQL instances": (o) => String(clustersOf(o)[0].spec.instances),
  "PostgreSQL CPU request / limit": (o) => resources(clustersOf(o)[0].spec.resources),
  "Host name": (o) => o.find((x) => x.kind === "HTTPRoute" && x.metadata.name === "shop").spec.hostnames[0],
};
/** The rows where the issue asks the environments to differ (replicas, sampling, resources, log level, PDB). */
const MUST_DIFFER = ["Shop replicas (HPA min–max)", "PodDisruptionBudget", "Shop CPU request / limit", "Trace sampling", "Log level of dev.shopwatch"];

/** The rows of the table under "### What differs", as {what: [staging, production, why]}. */
export function readmeTable(text) {
  const section = text.split(/^### What differs between staging and production$/m)[1]?.split(/^#{2,3} /m)[0] ?? "";
  const rows = {};
  for (const line of section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| What") && !l.startsWith("|---"))) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim().replaceAll("`", ""));
    rows[cells[0]] = cells.slice(1);
  }
  return rows;
}

describe("k8s/README.md, What differs between staging and production", () => {
  const table = readmeTable(readFileSync(join(K8S, "README.md"), "utf8"));
  const header = readFileSync(join(K8S, "README.md"), "utf8").match(/^### What differs between staging and production$\n+(?:[^|\n].*\n+)*\| What \| (.*) \| Why \|$/m);

  test("has one row per extracted difference, each with a reason", () => {
    assert.equal(header?.[1], APP_OVERLAYS.join(" | "), "columns: What | staging | production | Why");
    assert.deepEqual(Object.keys(table).sort(), Object.keys(ROWS).sort());
    for (const [what, cells] of Object.entries(table)) assert.ok(cells[APP_OVERLAYS.length]?.length > 20, `${what}: no reason given`);
  });

  for (const [what, extract] of Object.entries(ROWS)) {
    test(`${what}: the table says what the manifests give`, () => {
      const actual = APP_OVERLAYS.map((o) => extract(builds[o]));
      assert.deepEqual(actual, (table[what] ?? []).slice(0, APP_OVERLAYS.length));
    });
  }

  test("the environments really differ where the issue asks (replicas, PDB, resources, sampling, log level)", () => {
    const same = MUST_DIFFER.filter((what) => new Set(APP_OVERLAYS.map((o) => ROWS[what](builds[o]))).size === 1);
    assert.deepEqual(same, [], "equal in staging and production");
    assert.ok(Number(ROWS["Trace sampling"](builds.production)) < Number(ROWS["Trace sampling"](builds.staging)), "production samples less than staging");
  });
});

// ---------------------------------------------------------------- flows across the namespaces

describe("network flows across the namespaces (observability, staging and production side by side)", () => {
  const tcp = (src, dst, port) => `${src} -> ${dst}:${port}/TCP`;
  const [staging, production] = APP_OVERLAYS.map(nsOf);

  test("the model holds the workloads of every namespace, each with some allowed flow", () => {
    for (const ns of [STACK_NAMESPACE, staging, production]) {
      const names = cluster.filter((o) => o.metadata.namespace === ns && ["Deployment", "StatefulSet"].includes(o.kind)).map((o) => id(ns, o.metadata.name));
      assert.ok(names.length > 0, `no workloads in ${ns}`);
      for (const name of names) assert.ok([...flows].some((f) => f.startsWith(`${name} -> `) || f.includes(`> ${name}:`)), `${name}: no flow at all`);
    }
  });

  test("each cross-namespace flow the platform needs is allowed", () => {
    const needed = [];
    for (const ns of [staging, production]) {
      needed.push(tcp(id(STACK_NAMESPACE, "prometheus"), id(ns, "shop"), 9000), tcp(id(STACK_NAMESPACE, "prometheus"), id(ns, "shop-db-1"), 9187));
      needed.push(tcp(id(ns, "shop"), id(STACK_NAMESPACE, "alloy"), 4317), tcp(id(STACK_NAMESPACE, "blackbox"), id(ns, "shop"), 8080));
      needed.push(tcp("traefik", id(ns, "shop"), 8080));
    }
    needed.push(tcp("argo-rollouts", id(STACK_NAMESPACE, "prometheus"), 9090), tcp("traefik", id(STACK_NAMESPACE, "grafana"), 3000));
    assert.deepEqual(needed.filter((f) => !flows.has(f)), []);
  });

  test("an environment reaches neither the other's database nor its shop; look-alike pods get no rights", () => {
    const forbidden = [
      tcp(id(staging, "shop"), id(production, "shop-db-1"), 5432),
      tcp(id(production, "shop"), id(staging, "shop-db-1"), 5432),
      tcp(id(staging, "shop"), id(production, "shop"), 8080),
      tcp(id(staging, "shop"), id(production, "shop"), 9000),
      tcp(id(staging, "shop-db-1"), id(production, "object-store"), 9000),
      tcp(id(staging, "prometheus-impostor"), id(production, "shop"), 9000),
      tcp(id(staging, "prometheus-impostor"), id(staging, "shop-db-1"), 9187),
      tcp("prometheus-elsewhere", id(production, "shop"), 9000),
      tcp(id(staging, "shop"), id(STACK_NAMESPACE, "prometheus"), 9090),
      tcp(id(staging, "shop"), id(STACK_NAMESPACE, "loki"), 3100),
      tcp("keda-operator", id(STACK_NAMESPACE, "prometheus"), 9090),
    ];
    assert.deepEqual(forbidden.filter((f) => flows.has(f)), []);
  });

  test("namespaces are selected by kubernetes.io/metadata.name only, and each one named exists", () => {
    const known = new Set(Object.keys(NAMESPACE_LABELS));
    const named = [];
    for (const pol of cluster.filter((o) => o.kind === "NetworkPolicy")) {
      for (const rule of [...(pol.spec.ingress ?? []).flatMap((r) => r.from ?? []), ...(pol.spec.egress ?? []).flatMap((r) => r.to ?? [])]) {
        const sel = rule.namespaceSelector;
        if (!sel) continue;
        for (const [k, v] of Object.entries(sel.matchLabels ?? {})) named.push([pol, k, v]);
        for (const e of sel.matchExpressions ?? []) for (const v of e.values ?? []) named.push([pol, e.key, v]);
      }
    }
    assert.ok(named.length > 5, `only ${named.length} namespace selectors`);
    const wrong = named.filter(([, k, v]) => k !== NAME_LABEL || !known.has(v)).map(([p, k, v]) => `${p.metadata.namespace}/${p.metadata.name}: ${k}=${v}`);
    assert.deepEqual(wrong, []);
  });

  test("the shop's OTLP endpoint is Alloy's Service in `observability`, on a port the policies open", () => {
    for (const overlay of APP_OVERLAYS) {
      const url = shopEnv(builds[overlay], "QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT");
      const m = /^http:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)$/.exec(url ?? "");
      assert.ok(m, `${overlay}: ${url} is not http://<service>.<namespace>.svc:<port>`);
      const [, name, ns, port] = m;
      assert.equal(ns, STACK_NAMESPACE);
      const svc = cluster.find((o) => o.kind === "Service" && o.metadata.name === name && o.metadata.namespace === ns);
      const svcPort = svc?.spec.ports.find((p) => p.port === Number(port));
      assert.ok(svcPort, `${overlay}: no Service ${name}:${port} in ${ns}`);
      assert.ok(flows.has(tcp(id(nsOf(overlay), "shop"), id(ns, name), port)), `${overlay}: shop -> ${name}:${port} blocked`);
    }
  });
});

// ---------------------------------------------------------------- RBAC

describe("the stack reads the environments' namespaces through Roles bound there, nothing cluster-wide", () => {
  test("no ClusterRole or ClusterRoleBinding in any build", () => {
    assert.deepEqual(cluster.filter((o) => o.kind.startsWith("Cluster") && o.apiVersion.startsWith("rbac")).map((o) => o.metadata.name), []);
  });

  test("each environment binds exactly the stack's API clients, each to its own Role, read-only", () => {
    const want = API_CLIENTS.map((sa) => `${STACK_NAMESPACE}/${sa} -> Role/${sa}`).sort();
    for (const overlay of APP_OVERLAYS) {
      const objects = builds[overlay];
      const granted = objects
        .filter((o) => o.kind === "RoleBinding")
        .flatMap((rb) => rb.subjects.map((s) => `${s.namespace ?? rb.metadata.namespace}/${s.name} -> ${rb.roleRef.kind}/${rb.roleRef.name}`))
        .sort();
      assert.deepEqual(granted, want, overlay);
      for (const sa of API_CLIENTS) {
        const local = cluster.find((o) => o.kind === "Role" && o.metadata.name === sa && o.metadata.namespace === STACK_NAMESPACE);
        const there = objects.find((o) => o.kind === "Role" && o.metadata.name === sa);
        assert.deepEqual(there?.rules, local?.rules, `${overlay}: Role/${sa} grants what the stack's own namespace grants`);
      }
    }
  });

  test("the stack's namespace grants nothing to the environments", () => {
    const foreign = stack.filter((o) => o.kind === "RoleBinding").flatMap((rb) => rb.subjects.filter((s) => (s.namespace ?? STACK_NAMESPACE) !== STACK_NAMESPACE));
    assert.deepEqual(foreign, []);
  });

  test("kube-state-metrics watches exactly the environments' namespaces", () => {
    const ksm = podOf(stack.find((o) => o.kind === "Deployment" && o.metadata.name === "kube-state-metrics")).spec.containers[0];
    const arg = ksm.args.find((a) => a.startsWith("--namespaces="));
    assert.deepEqual(arg.slice("--namespaces=".length).split(",").sort(), APP_OVERLAYS.map(nsOf).sort());
  });
});
