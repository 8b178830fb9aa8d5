// PostgreSQL in a build, whichever way it runs: the base's StatefulSet `postgres`, or a CloudNativePG Cluster
// (k8s/components/cloudnative-pg). The operator creates the instance pods, Services and Secrets at run time, so the
// tests model them from the Cluster spec and from the facts recorded for the pinned release
// (k8s/tests/third-party/cloudnative-pg-v*/release-facts.json). Free of I/O apart from reading those facts.
import { cnpgFacts } from "./crd.mjs";
import { podOf } from "./policy.mjs";

export const CNPG_GROUP = "postgresql.cnpg.io/v1";
export const clustersOf = (objects) => objects.filter((o) => o.apiVersion === CNPG_GROUP && o.kind === "Cluster");

const fill = (template, cluster) => template.replace("<cluster>", cluster);

/** Pod labels and ports of the instances of a Cluster, as the operator at the pinned release creates them. */
export function instanceModel(cluster) {
  const { instance } = cnpgFacts();
  const labels = Object.fromEntries(Object.entries(instance.podLabels).map(([k, v]) => [k, fill(v, cluster.metadata.name)]));
  return { labels, ports: instance.ports.map((p) => ({ port: p.port, protocol: "TCP", name: p.name })) };
}

/**
 * Endpoints for the NetworkPolicy model: one per instance (`<cluster>-1`, `<cluster>-2`, ... as the operator names
 * the pods), so replication between instances is a flow between two endpoints.
 */
export function instanceEndpoints(objects, firstIp = 20) {
  const list = [];
  let n = firstIp;
  for (const c of clustersOf(objects)) {
    const { labels, ports } = instanceModel(c);
    for (let i = 1; i <= (c.spec?.instances ?? 1); i++) {
      list.push({ id: `${c.metadata.name}-${i}`, namespace: c.metadata.namespace, labels, ip: `10.244.1.${n++}`, ports });
    }
  }
  return list;
}

/** The operator as an endpoint outside the namespace (namespace, pod labels, ports of the release manifest). */
export function operatorEndpoint(ip = "10.244.2.10") {
  const { operator } = cnpgFacts();
  return { id: "cnpg-operator", namespace: operator.namespace, labels: operator.podLabels, ip, ports: operator.ports.map((p) => ({ port: p.port, protocol: "TCP", name: p.name })) };
}

/**
 * PostgreSQL's sizing-relevant settings in a build: where it runs, max_connections and the CPU request of the
 * (primary) instance. `problems` is non-empty when neither form is present or a setting is missing.
 */
export function postgresOf(objects) {
  const clusters = clustersOf(objects);
  const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === "postgres");
  if (clusters.length + (sts ? 1 : 0) !== 1) {
    return { problems: [`postgres: want exactly one of StatefulSet/postgres or a CloudNativePG Cluster, found ${clusters.length} Cluster(s)${sts ? " and the StatefulSet" : ""}`] };
  }
  if (sts) {
    const c = podOf(sts).spec.containers.find((x) => x.name === "postgres");
    const setting = (c?.args ?? []).map((a) => /^max_connections=(\d+)$/.exec(a)).find(Boolean);
    return {
      name: "StatefulSet/postgres",
      maxConnections: setting ? Number(setting[1]) : undefined,
      cpuRequest: c?.resources?.requests?.cpu,
      problems: setting ? [] : ["connection budget: postgres has no explicit -c max_connections=N"],
    };
  }
  const [cluster] = clusters;
  const raw = cluster.spec?.postgresql?.parameters?.max_connections;
  return {
    name: `Cluster/${cluster.metadata.name}`,
    maxConnections: raw === undefined ? undefined : Number(raw),
    cpuRequest: cluster.spec?.resources?.requests?.cpu,
    problems: raw === undefined ? [`connection budget: Cluster/${cluster.metadata.name} sets no postgresql.parameters.max_connections`] : [],
  };
}

/**
 * The shop reaches a Cluster the way the operator means it: the JDBC URL's host is `<cluster>-rw` (the primary,
 * whichever instance that is), port 5432, the database initdb created; user and password come from `<cluster>-app`.
 * `jdbcUrl` is the shop's QUARKUS_DATASOURCE_JDBC_URL; `env` its container's env list.
 */
export function shopUsesCluster(objects, jdbcUrl, env) {
  const clusters = clustersOf(objects);
  if (clusters.length === 0) return [];
  const facts = cnpgFacts();
  const problems = [];
  const m = /^jdbc:postgresql:\/\/([^:/]+):(\d+)\/([^?]+)/.exec(jdbcUrl ?? "");
  if (!m) return [`shop: QUARKUS_DATASOURCE_JDBC_URL ${jdbcUrl} is not a jdbc:postgresql://host:port/db URL`];
  const [, host, port, db] = m;
  const cluster = clusters.find((c) => host === fill(facts.services.readWrite, c.metadata.name));
  if (!cluster) {
    const names = clusters.map((c) => fill(facts.services.readWrite, c.metadata.name));
    return [`shop: connects to ${host}, not to the read-write Service ${names.join(" or ")} (the primary after a failover)`];
  }
  const name = cluster.metadata.name;
  if (Number(port) !== facts.instance.ports.find((p) => p.name === "postgresql").port) problems.push(`shop: port ${port} is not PostgreSQL's`);
  if (db !== cluster.spec?.bootstrap?.initdb?.database) problems.push(`shop: database ${db}, Cluster/${name} creates ${cluster.spec?.bootstrap?.initdb?.database}`);
  const secret = fill(facts.appSecret.name, name);
  for (const [variable, key] of [["QUARKUS_DATASOURCE_USERNAME", "username"], ["QUARKUS_DATASOURCE_PASSWORD", "password"]]) {
    const ref = (env ?? []).find((e) => e.name === variable)?.valueFrom?.secretKeyRef;
    if (ref?.name !== secret || ref?.key !== key) problems.push(`shop: ${variable} from ${ref?.name}/${ref?.key}, want the operator's Secret ${secret}/${key}`);
  }
  return problems;
}
