// The shop's sizing, recomputed from the measured figures in loadtest/capacity.yaml (k8s/README.md, "Capacity
// arithmetic", explains each step), and compared with the rendered manifests. Free of I/O except reading that file.
// CPU quantities: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-cpu
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { postgresOf } from "./cnpg.mjs";
import { autoscalerOf, envValue, podOf } from "./policy.mjs";

/** Keys capacity.yaml must have, and nothing else: [section, key, type]. */
const SHAPE = {
  measured: {
    command: "string", run: "string", commit: "string", machine: "string", capacity_rps_at_slo: "number[]",
    service_cpu_ms_per_request: "number", service_cpu_ms_per_request_warm: "number[]", postgres_cpu_ms_per_request: "number",
    requests_per_core: "number",
  },
  // The run issue 14's capacity goal (+50 % requests per core) compares with: kept when `measured` is replaced.
  baseline: {
    run: "string", commit: "string", machine: "string", service_cpu_ms_per_request: "number",
    postgres_cpu_ms_per_request: "number", requests_per_core: "number",
  },
  sizing: {
    platform_rps: "number", expected_rps: "number", pod_rps_target: "number", cpu_request_step_millicores: "number",
    hpa_headroom: "number", cpu_limit_factor: "number", availability_min_replicas: "number", keda_threshold_share: "number",
    postgres_cpu_step_cores: "number", pool_per_pod: "number", max_connections: "number", superuser_reserved: "number",
    exporter_connections: "number", admin_headroom: "number",
  },
};

const typeOf = (v) => (Array.isArray(v) ? (v.length && v.every((x) => typeof x === "number") ? "number[]" : "array") : typeof v);

/** Problems with the shape of a parsed capacity.yaml: unknown, missing or mistyped keys. */
export function capacityShape(doc) {
  const problems = [];
  for (const section of Object.keys(doc ?? {})) if (!SHAPE[section] && section !== "environments") problems.push(`unknown section ${section}`);
  // environments.<name>: any subset of the `sizing` keys, same types.
  for (const [name, keys] of Object.entries(doc?.environments ?? {})) {
    for (const [k, v] of Object.entries(keys ?? {})) {
      if (!SHAPE.sizing[k]) problems.push(`environments.${name}.${k}: not a sizing key`);
      else if (typeOf(v) !== SHAPE.sizing[k]) problems.push(`environments.${name}.${k}: ${JSON.stringify(v)} is not a ${SHAPE.sizing[k]}`);
    }
  }
  for (const [section, keys] of Object.entries(SHAPE)) {
    const got = doc?.[section] ?? {};
    for (const k of Object.keys(got)) if (!keys[k]) problems.push(`${section}.${k}: unknown key`);
    for (const [k, type] of Object.entries(keys)) {
      if (!(k in got)) problems.push(`${section}.${k}: missing`);
      else if (typeOf(got[k]) !== type) problems.push(`${section}.${k}: ${JSON.stringify(got[k])} is not a ${type}`);
    }
  }
  return problems;
}

/** loadtest/capacity.yaml, parsed and checked; throws with every problem when its shape is wrong. */
export function loadCapacity(repo) {
  const doc = parse(readFileSync(join(repo, "loadtest/capacity.yaml"), "utf8"));
  const problems = capacityShape(doc);
  if (problems.length) throw new Error(`loadtest/capacity.yaml: ${problems.join("; ")}`);
  return doc;
}

/**
 * Requests per CPU-second of the platform's own processes (the service and PostgreSQL; the load generator and the
 * span sink stand in for clients and the tracing backend): what `make capacity` prints as "per core".
 */
export const requestsPerCore = (m) => Math.round(1000 / (m.service_cpu_ms_per_request + m.postgres_cpu_ms_per_request));

/** Problems with the per-core figures capacity.yaml states: each must be 1000 / (service + PostgreSQL ms). */
export function perCoreProblems(doc) {
  return ["measured", "baseline"]
    .filter((section) => doc[section].requests_per_core !== requestsPerCore(doc[section]))
    .map((section) => `${section}.requests_per_core: ${doc[section].requests_per_core}, 1000 / (${doc[section].service_cpu_ms_per_request} + ${doc[section].postgres_cpu_ms_per_request} ms) gives ${requestsPerCore(doc[section])}`);
}

/** Kubernetes CPU quantity ("200m", "1", "0.5") in millicores. */
export function millicores(quantity) {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(quantity ?? ""));
  if (!m) throw new Error(`unreadable CPU quantity ${quantity}`);
  return m[2] ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
}

/**
 * Every sizing figure, derived from capacity.yaml. `surge` is the Deployment's maxSurge (pods), which the
 * connection budget must leave room for; `environment` picks the overrides of `environments.<name>` (none: `sizing`).
 */
export function deriveSizing({ measured, sizing: common, environments }, surge, environment) {
  const sizing = { ...common, ...(environments?.[environment] ?? {}) };
  const cpuMs = measured.service_cpu_ms_per_request;
  const utilization = Math.round(100 * (1 - sizing.hpa_headroom));
  const step = sizing.cpu_request_step_millicores;
  // request x utilization / CPU per request = pod_rps_target  =>  request = target x CPU / utilization.
  const cpuRequestM = Math.max(step, Math.round((sizing.pod_rps_target * cpuMs) / (utilization / 100) / step) * step);
  const podRps = ((utilization / 100) * cpuRequestM) / cpuMs;
  const available = sizing.max_connections - sizing.superuser_reserved - sizing.exporter_connections - sizing.admin_headroom;
  const maxByCpu = Math.ceil(sizing.platform_rps / podRps);
  const maxByBudget = Math.floor(available / sizing.pool_per_pod) - surge;
  const pgStep = sizing.postgres_cpu_step_cores;
  return {
    utilization,
    cpuRequestM,
    cpuLimitM: cpuRequestM * sizing.cpu_limit_factor,
    podRps,
    minReplicas: Math.max(sizing.availability_min_replicas, Math.ceil(sizing.expected_rps / podRps)),
    maxByCpu,
    maxByBudget,
    maxReplicas: Math.min(maxByCpu, maxByBudget),
    kedaThreshold: Math.floor((sizing.keda_threshold_share * podRps) / 10) * 10,
    pool: sizing.pool_per_pod,
    maxConnections: sizing.max_connections,
    availableConnections: available,
    postgresCpuRequestM: Math.ceil(((measured.postgres_cpu_ms_per_request * sizing.platform_rps) / 1000) / pgStep) * pgStep * 1000,
  };
}

/** The Deployment's maxSurge in pods (a percentage is taken of `replicas`, rounded up as Kubernetes does). */
export function surgeOf(deploy, replicas) {
  const raw = deploy?.spec?.strategy?.rollingUpdate?.maxSurge ?? "25%";
  return typeof raw === "number" ? raw : Math.ceil((replicas * Number.parseInt(raw, 10)) / 100);
}

/**
 * Differences between the derived sizing and one build's objects, as "what: manifest X, capacity.yaml says Y";
 * `environment` as for deriveSizing.
 */
export function sizingProblems(objects, capacity, environment) {
  const problems = [];
  const p = (what, got, want) => {
    if (got !== want) problems.push(`${what}: manifest ${got}, loadtest/capacity.yaml gives ${want}`);
  };
  const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  const pg = postgresOf(objects);
  const as = autoscalerOf(objects, "shop");
  if (!deploy || !as) return ["sizing: the shop Deployment and its autoscaler are both needed"];
  if (pg.problems.length) return pg.problems;
  const want = deriveSizing(capacity, surgeOf(deploy, as.max), environment);
  const shop = podOf(deploy).spec.containers.find((c) => c.name === "shop");
  p("shop CPU request (millicores)", millicores(shop.resources?.requests?.cpu), want.cpuRequestM);
  p("shop CPU limit (millicores)", millicores(shop.resources?.limits?.cpu), want.cpuLimitM);
  const pool = Number(envValue(objects, shop, "QUARKUS_DATASOURCE_JDBC_MAX_SIZE"));
  p("shop pool (QUARKUS_DATASOURCE_JDBC_MAX_SIZE)", pool, want.pool);
  p(`${as.name} minReplicas`, as.min, want.minReplicas);
  p(`${as.name} maxReplicas (min of ${want.maxByCpu} for CPU, ${want.maxByBudget} for connections)`, as.max, want.maxReplicas);

  const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec?.scaleTargetRef?.name === "shop");
  const so = objects.find((o) => o.kind === "ScaledObject" && o.spec?.scaleTargetRef?.name === "shop");
  if (hpa) {
    const cpu = (hpa.spec.metrics ?? []).filter((m) => m.type === "Resource" && m.resource?.name === "cpu");
    if (cpu.length !== 1) problems.push(`HorizontalPodAutoscaler/shop: ${cpu.length} CPU metrics (want 1)`);
    p("HorizontalPodAutoscaler/shop CPU averageUtilization", cpu[0]?.resource?.target?.averageUtilization, want.utilization);
  }
  if (so) {
    const triggers = so.spec.triggers ?? [];
    const cpu = triggers.filter((t) => t.type === "cpu");
    const rate = triggers.filter((t) => t.type === "prometheus");
    if (cpu.length !== 1 || rate.length !== 1) problems.push(`ScaledObject/shop: ${cpu.length} cpu and ${rate.length} prometheus triggers (want 1 each)`);
    p("ScaledObject/shop cpu trigger value", Number(cpu[0]?.metadata?.value), want.utilization);
    p("ScaledObject/shop request-rate threshold", Number(rate[0]?.metadata?.threshold), want.kedaThreshold);
  }

  // The base's StatefulSet or, with the cloudnative-pg component, the Cluster (each instance gets the request).
  p(`${pg.name} max_connections`, pg.maxConnections, want.maxConnections);
  p(`${pg.name} CPU request (millicores)`, millicores(pg.cpuRequest), want.postgresCpuRequestM);
  const needed = (as.max + surgeOf(deploy, as.max)) * pool;
  if (!(needed <= want.availableConnections)) {
    problems.push(`connection budget: (${as.max} max + ${surgeOf(deploy, as.max)} surge) x pool ${pool} = ${needed} > ${want.availableConnections}`);
  }
  return problems;
}
