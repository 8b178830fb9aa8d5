// What the tests expect of every build: the network flows the platform needs (and no others), the outside
// endpoints used to probe the policies, and the few facts that are not derivable from the manifests.
// k8s/README.md ("Network flows") explains each flow; change both together.
import { clustersOf, operatorEndpoint } from "./lib/cnpg.mjs";
import { kedaFacts, kedaVersion } from "./lib/thirdparty.mjs";

/** KEDA as its pinned release manifest installs it (third-party/keda/: derived from the upstream tag). */
const KEDA = kedaFacts(kedaVersion());
const kedaOperator = KEDA.deployments.find((d) => d.name === "keda-operator");

/** Images that compose does not run (so compose/.env cannot pin them): kind-only add-ons inside the namespace. */
export const KIND_ONLY_IMAGES = [
  "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0",
  // Object store of the cloudnative-pg component: the RustFS build CloudNativePG v1.30.0's e2e tests run.
  "docker.io/rustfs/rustfs:1.0.0-beta.8-glibc",
];

/**
 * Prometheus jobs of the compose stack that kind does not have yet, each with the reason. Every other compose job
 * must exist on kind; a job listed here must still exist on compose (the list cannot rot).
 */
export const COMPOSE_ONLY_JOBS = {
  pgbackrest: "the compose backup container's metrics; on kind CloudNativePG takes the backups and reports them through job cnpg",
};

/** Workloads that talk to the Kubernetes API and so need a ServiceAccount token. */
export const API_CLIENTS = ["alloy", "prometheus", "kube-state-metrics"];

/** The only NetworkPolicies allowed to use ipBlock peers (the API server cannot be selected by labels). */
export const IP_BLOCK_POLICIES = ["kube-api-egress"];

/** Endpoints outside the namespace (and one stranger inside it) that the policies are probed with. */
export const OUTSIDE = [
  {
    id: "ingress-nginx",
    namespace: "ingress-nginx",
    labels: { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller" },
    ip: "10.244.0.5",
    ports: [{ port: 80, protocol: "TCP" }],
  },
  {
    id: "ingress-nginx-admission",
    namespace: "ingress-nginx",
    labels: { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "admission-webhook" },
    ip: "10.244.0.6",
    ports: [],
  },
  { id: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, ip: "10.244.0.3", ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
  { id: "keda-operator", namespace: KEDA.namespace, labels: kedaOperator.podLabels, ip: "10.244.2.7", ports: [] },
  // Same labels as our Prometheus, other namespace: must not inherit its rights.
  { id: "prometheus-elsewhere", namespace: "default", labels: { "app.kubernetes.io/name": "prometheus" }, ip: "10.244.2.8", ports: [] },
  // A pod someone adds to the namespace later: default deny must keep it out of everything but DNS.
  { id: "stranger", namespace: "shop", labels: { "app.kubernetes.io/name": "stranger" }, ip: "10.244.2.9", ports: [{ port: 8080, protocol: "TCP" }] },
  // The CloudNativePG operator (namespace, labels and ports of the pinned release manifest).
  operatorEndpoint(),
  { id: "kube-api-service", ip: "10.96.0.1", ports: [{ port: 443, protocol: "TCP" }] },
  { id: "kube-api-node", ip: "172.18.0.2", ports: [{ port: 6443, protocol: "TCP" }] },
  { id: "internet", ip: "8.8.8.8", ports: [{ port: 443, protocol: "TCP" }, { port: 53, protocol: "UDP" }] },
];

export const NAMESPACE_LABELS = Object.fromEntries(
  ["shop", "ingress-nginx", "kube-system", KEDA.namespace, "default", "cnpg-system"].map((ns) => [ns, { "kubernetes.io/metadata.name": ns }]),
);

const tcp = (src, dst, port) => `${src} -> ${dst}:${port}/TCP`;

/** The flows every build must allow, and the only ones it may allow. */
export function expectedFlows(objects) {
  const flows = [
    tcp("ingress-nginx", "shop", 8080),
    tcp("ingress-nginx", "grafana", 3000),
    ...[["shop", 9000], ["postgres", 9187], ["alloy", 12345], ["loki", 3100], ["tempo", 3200], ["grafana", 3000], ["kube-state-metrics", 8080]].map(
      ([dst, port]) => tcp("prometheus", dst, port),
    ),
    tcp("shop", "postgres", 5432),
    tcp("shop", "alloy", 4317),
    tcp("alloy", "loki", 3100),
    tcp("alloy", "tempo", 4317),
    tcp("tempo", "prometheus", 9090),
    tcp("grafana", "prometheus", 9090),
    tcp("grafana", "loki", 3100),
    tcp("grafana", "tempo", 3200),
    // Alerting and black-box probes (k8s/README.md, "Network flows").
    tcp("grafana", "alertmanager", 9093),
    tcp("prometheus", "alertmanager", 9093),
    tcp("prometheus", "blackbox", 9115),
    tcp("alertmanager", "mailpit", 1025),
    tcp("alertmanager", "webhook-sink", 8080),
    tcp("blackbox", "ingress-nginx", 80),
  ];
  for (const client of API_CLIENTS) flows.push(tcp(client, "kube-api-service", 443), tcp(client, "kube-api-node", 6443));
  // PostgreSQL run by CloudNativePG (component cloudnative-pg): the instances replace `postgres` as the shop's
  // database and Prometheus' target, replicate among themselves, archive to the object store, watch their Cluster
  // through the API; the operator reaches their status port and PostgreSQL.
  const instances = clustersOf(objects).flatMap((c) => Array.from({ length: c.spec.instances }, (_, i) => `${c.metadata.name}-${i + 1}`));
  if (instances.length) {
    const drop = new Set([tcp("prometheus", "postgres", 9187), tcp("shop", "postgres", 5432)]);
    flows.splice(0, flows.length, ...flows.filter((f) => !drop.has(f)));
    for (const db of instances) {
      flows.push(tcp("prometheus", db, 9187), tcp("shop", db, 5432), tcp("cnpg-operator", db, 8000), tcp("cnpg-operator", db, 5432));
      flows.push(tcp(db, "object-store", 9000), tcp(db, "kube-api-service", 443), tcp(db, "kube-api-node", 6443));
      for (const peer of instances) if (peer !== db) flows.push(tcp(db, peer, 5432));
    }
  }
  const inNamespace = [...objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind)).map((o) => o.metadata.name), ...instances, "stranger"];
  for (const src of inNamespace) flows.push(`${src} -> kube-dns:53/UDP`, `${src} -> kube-dns:53/TCP`);
  // Component keda-request-rate: the KEDA operator queries Prometheus.
  if (objects.some((o) => o.kind === "ScaledObject")) flows.push(tcp("keda-operator", "prometheus", 9090));
  return flows.sort();
}
