// The shop's sizing in every build equals what loadtest/capacity.yaml gives: CPU request and limit, HPA target,
// min/max replicas, KEDA threshold, PostgreSQL CPU and max_connections, the connection budget
// (k8s/README.md, "Capacity arithmetic"). Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { connectionBudget } from "./lib/policy.mjs";
import { OVERLAYS } from "./expectations.mjs";
import { appProperties, build, buildDirs, K8S, overlayOf, rel, REPO } from "./lib/render.mjs";
import { capacityShape, deriveSizing, loadCapacity, millicores, perCoreProblems, requestsPerCore, sizingProblems, surgeOf } from "./lib/sizing.mjs";

const capacity = loadCapacity(REPO);
// Every build that runs the shop (the stack's overlay does not), each sized for its environment.
const dirs = buildDirs().filter((d) => OVERLAYS[overlayOf(d)].role !== "stack");

describe("loadtest/capacity.yaml", () => {
  test("is the source both READMEs cite for the sizing", () => {
    for (const readme of ["k8s/README.md", "loadtest/README.md"]) {
      assert.match(readFileSync(join(REPO, readme), "utf8"), /loadtest\/capacity\.yaml|\(capacity\.yaml\)|`capacity\.yaml`/, `${readme} does not cite loadtest/capacity.yaml`);
    }
  });

  test("gives the sizing k8s/README.md derives (printed for the README's table)", (t) => {
    const s = deriveSizing(capacity, 1);
    t.diagnostic(JSON.stringify({ ...s, podRps: Number(s.podRps.toFixed(1)) }));
    // Sanity only: a pod is sized for whole requests per second, the maximum is above the minimum.
    assert.ok(s.podRps > 0 && s.maxReplicas > s.minReplicas, JSON.stringify(s));
  });
});

describe("requests per core (issue 14's capacity goal)", () => {
  test("measured and baseline state 1000 / (service + PostgreSQL CPU ms per request)", (t) => {
    assert.deepEqual(perCoreProblems(capacity), []);
    const ratio = capacity.measured.requests_per_core / capacity.baseline.requests_per_core;
    t.diagnostic(`per core: ${capacity.baseline.requests_per_core} -> ${capacity.measured.requests_per_core} (x${ratio.toFixed(2)}; goal x1.50)`);
  });

  test("a per-core figure that does not follow from the CPU figures is reported", () => {
    const broken = structuredClone(capacity);
    broken.measured.requests_per_core += 100;
    broken.baseline.postgres_cpu_ms_per_request = 0.5;
    const text = perCoreProblems(broken).join("\n");
    assert.match(text, /measured.requests_per_core: \d+, 1000 \/ \(.* ms\) gives \d+/);
    assert.match(text, /baseline.requests_per_core: 602, 1000 \/ \(0.72 \+ 0.5 ms\) gives 820/);
    assert.equal(requestsPerCore({ service_cpu_ms_per_request: 0.72, postgres_cpu_ms_per_request: 0.94 }), 602);
  });
});

describe("every build is sized from loadtest/capacity.yaml", () => {
  test("the builds include the default overlay (CloudNativePG), the plain StatefulSet and a KEDA combination", () => {
    assert.ok(dirs.map(rel).includes("k8s/overlays/kind"), dirs.map(rel).join());
    assert.ok(build(join(K8S, "overlays/kind")).some((o) => o.kind === "Cluster"), "the default overlay has no CloudNativePG Cluster");
    assert.ok(dirs.some((d) => build(d).some((o) => o.kind === "StatefulSet" && o.metadata.name === "postgres")), "no build with the plain StatefulSet");
    assert.ok(dirs.some((d) => build(d).some((o) => o.kind === "ScaledObject")), "no build with a ScaledObject");
  });

  for (const dir of dirs) {
    const { environment } = OVERLAYS[overlayOf(dir)];
    test(`${rel(dir)} (environment ${environment})`, () => {
      assert.deepEqual(sizingProblems(build(dir), capacity, environment), []);
    });
  }
});

describe("the sizing check fails on a planted change", () => {
  const base = build(join(K8S, "overlays/kind"));
  const plain = build(join(K8S, "tests/kind-plain-postgres"));
  const keda = build(dirs.find((d) => build(d).some((o) => o.kind === "ScaledObject")));
  const planted = (objects, edit) => {
    const copy = structuredClone(objects);
    edit(copy, (kind, name) => copy.find((o) => o.kind === kind && o.metadata.name === name));
    return sizingProblems(copy, capacity).join("\n");
  };
  const shop = (get) => get("Deployment", "shop").spec.template.spec.containers[0];
  // What the planted builds must be told, from capacity.yaml as it is (the arithmetic itself is pinned by the
  // fixed-input cases further down): a new measurement moves these without editing this file.
  const surge = surgeOf(base.find((o) => o.kind === "Deployment" && o.metadata.name === "shop"), base.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "shop").spec.maxReplicas);
  const want = deriveSizing(capacity, surge);
  const planted7 = want.maxReplicas + 2;

  test("HPA target 95 %", () => {
    const text = planted(base, (_, get) => (get("HorizontalPodAutoscaler", "shop").spec.metrics[0].resource.target.averageUtilization = 95));
    assert.match(text, new RegExp(`CPU averageUtilization: manifest 95, loadtest/capacity.yaml gives ${want.utilization}`));
  });

  test("CPU request 50m, CPU limit 2 cores", () => {
    assert.match(planted(base, (_, get) => (shop(get).resources.requests.cpu = "50m")), new RegExp(`shop CPU request \\(millicores\\): manifest 50, .* gives ${want.cpuRequestM}`));
    assert.match(planted(base, (_, get) => (shop(get).resources.limits.cpu = "2")), /shop CPU limit \(millicores\): manifest 2000/);
  });

  test("maxReplicas two above the derived one, minReplicas 3", () => {
    assert.match(planted(base, (_, get) => (get("HorizontalPodAutoscaler", "shop").spec.maxReplicas = planted7)), new RegExp(`maxReplicas .*: manifest ${planted7}, .* gives ${want.maxReplicas}`));
    assert.match(planted(base, (_, get) => (get("HorizontalPodAutoscaler", "shop").spec.minReplicas = 3)), new RegExp(`minReplicas: manifest 3, .* gives ${want.minReplicas}`));
  });

  test("pool 16 and max_connections 60 break the budget", () => {
    const text = planted(base, (objects) => {
      objects.find((o) => o.kind === "ConfigMap" && o.data?.QUARKUS_DATASOURCE_JDBC_MAX_SIZE).data.QUARKUS_DATASOURCE_JDBC_MAX_SIZE = "16";
    });
    assert.match(text, /pool .*: manifest 16, .* gives 10/);
    assert.match(text, new RegExp(`connection budget: \\(${want.maxReplicas} max \\+ ${surge} surge\\) x pool 16 = ${(want.maxReplicas + surge) * 16} > 85`));
    const pg = planted(plain, (_, get) => (get("StatefulSet", "postgres").spec.template.spec.containers[0].args = ["-c", "max_connections=60"]));
    assert.match(pg, /StatefulSet\/postgres max_connections: manifest 60, .* gives 100/);
  });

  test("CloudNativePG: max_connections 60, CPU request 500m, parameter missing, two databases", () => {
    const cluster = (get) => get("Cluster", "shop-db").spec;
    const low = planted(base, (_, get) => (cluster(get).postgresql.parameters.max_connections = "60"));
    assert.match(low, /Cluster\/shop-db max_connections: manifest 60, .* gives 100/);
    // The budget itself, from the manifest's max_connections (the check k8s.test.mjs runs on every build).
    const lowObjects = structuredClone(base);
    lowObjects.find((o) => o.kind === "Cluster").spec.postgresql.parameters.max_connections = "60";
    assert.match(connectionBudget(lowObjects, appProperties(), capacity.sizing).join(), new RegExp(`\\(${want.maxReplicas} max \\+ ${surge} surge\\) x pool 10 = ${(want.maxReplicas + surge) * 10} > 45 \\(Cluster/shop-db max_connections 60`));
    assert.match(planted(base, (_, get) => (cluster(get).resources.requests.cpu = "500m")), /Cluster\/shop-db CPU request \(millicores\): manifest 500, .* gives 1000/);
    assert.match(planted(base, (_, get) => delete cluster(get).postgresql.parameters.max_connections), /Cluster\/shop-db sets no postgresql.parameters.max_connections/);
    const both = structuredClone(base).concat(plain.filter((o) => o.kind === "StatefulSet"));
    assert.match(sizingProblems(both, capacity).join("\n"), /want exactly one of StatefulSet\/postgres or a CloudNativePG Cluster/);
  });

  test("KEDA: threshold 250, cpu trigger 90, maxReplicaCount two above the derived one", () => {
    const so = (get) => get("ScaledObject", "shop").spec;
    assert.match(planted(keda, (_, get) => (so(get).triggers.find((t) => t.type === "prometheus").metadata.threshold = "250")), new RegExp(`request-rate threshold: manifest 250, .* gives ${want.kedaThreshold}`));
    assert.match(planted(keda, (_, get) => (so(get).triggers.find((t) => t.type === "cpu").metadata.value = "90")), /cpu trigger value: manifest 90/);
    assert.match(planted(keda, (_, get) => (so(get).maxReplicaCount = planted7)), new RegExp(`ScaledObject/shop maxReplicas .*: manifest ${planted7}`));
  });

  test("staging is sized from its own inputs: production's pod in staging is too big", () => {
    const staging = build(join(K8S, "overlays/staging"));
    const stagingRequest = deriveSizing(capacity, 1, "staging").cpuRequestM;
    assert.ok(stagingRequest < want.cpuRequestM, `staging's request ${stagingRequest}m is not below production's ${want.cpuRequestM}m`);
    assert.match(sizingProblems(staging, capacity, "production").join("\n"), new RegExp(`shop CPU request \\(millicores\\): manifest ${stagingRequest}, .* gives ${want.cpuRequestM}`));
    assert.match(sizingProblems(build(join(K8S, "overlays/production")), capacity, "staging").join("\n"), /minReplicas: manifest 2, .* gives 1/);
  });

  test("a new measurement moves the sizing: 1.5 ms per request asks for 450m", () => {
    const slower = structuredClone(capacity);
    slower.measured.service_cpu_ms_per_request = 1.5;
    assert.equal(deriveSizing(slower, 1).cpuRequestM, 450);
  });

  test("capacity.yaml's shape: unknown, missing and mistyped keys", () => {
    const broken = structuredClone(capacity);
    broken.sizing.hpa_target = 70;
    delete broken.sizing.pool_per_pod;
    broken.measured.service_cpu_ms_per_request = "0.72";
    broken.environments.staging.hpa_target = 70;
    broken.environments.staging.platform_rps = "150";
    const text = capacityShape(broken).join("\n");
    assert.match(text, /environments.staging.hpa_target: not a sizing key/);
    assert.match(text, /environments.staging.platform_rps: "150" is not a number/);
    assert.match(text, /sizing.hpa_target: unknown key/);
    assert.match(text, /sizing.pool_per_pod: missing/);
    assert.match(text, /measured.service_cpu_ms_per_request: "0.72" is not a number/);
  });

  test("CPU quantities", () => {
    assert.equal(millicores("200m"), 200);
    assert.equal(millicores("1"), 1000);
    assert.equal(millicores("0.5"), 500);
    assert.throws(() => millicores("1Gi"));
  });
});
