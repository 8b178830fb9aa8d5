// What the tests expect of every build: the network flows the platform needs (and no others), the outside
// endpoints used to probe the policies, and the few facts that are not derivable from the manifests.
// k8s/README.md ("Network flows") explains each flow; change both together.
import { clustersOf, operatorEndpoint } from "./lib/cnpg.mjs";
import { argocdFacts } from "./lib/gitops.mjs";
import { rolloutsFacts } from "./lib/crd.mjs";
import { edgeFacts } from "./lib/edge.mjs";
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

/**
 * The overlays and what each deploys: `platform` (stack and app in one namespace), `stack` (the shared observability
 * stack) or `app` (one environment of the shop). A combination under k8s/tests is named `<overlay>-<component>` and
 * deploys what its overlay does. k8s/README.md, "Environments".
 */
export const OVERLAYS = {
  kind: { role: "platform", namespace: "shop", environment: "kind" },
  observability: { role: "stack", namespace: "observability" },
  staging: { role: "app", namespace: "shop-staging", environment: "staging" },
  production: { role: "app", namespace: "shop-production", environment: "production" },
};
export const STACK_NAMESPACE = OVERLAYS.observability.namespace;
export const APP_OVERLAYS = Object.keys(OVERLAYS).filter((o) => OVERLAYS[o].role === "app");

/**
 * Overlay x component pairs with no combination folder, each with the reason. Every other component that an app
 * overlay (kind, staging, production) does not list itself must be built as k8s/tests/<overlay>-<component>.
 */
export const COMBINATION_EXEMPTIONS = {
  "staging-keda-request-rate": "KEDA's ScaledObject queries Prometheus by its in-namespace name; the environments scale with the plain HPA",
  "production-keda-request-rate": "as staging: the component assumes Prometheus in the shop's namespace",
  "staging-canary": "staging takes every release at once (automated sync); the canary gates production, which lists it",
  "staging-external-secrets": "OpenBao runs only as a kind dev server (make kind-external-secrets); the environments use the Secrets kind-secrets.sh generates",
  "production-external-secrets": "as staging: the store is a kind-only OpenBao dev server",
};

/**
 * The Argo Rollouts controller as the pinned release's install manifest deploys it (namespace, pod labels and metrics
 * port recorded in release-facts.json of the folder k8s/tests/third-party/argo-rollouts-v<version>). Its analysis runs
 * query Prometheus, and Prometheus scrapes its metrics.
 */
const ROLLOUTS = rolloutsFacts();
export const ARGO_ROLLOUTS = {
  namespace: ROLLOUTS.installManifest.namespace,
  podLabels: ROLLOUTS.controller.podLabels,
  metricsPort: ROLLOUTS.controller.ports.find((p) => p.name === "metrics").port,
};

/** Argo CD's application controller as its pinned install manifest deploys it (third-party/argo-cd-v*: namespace, pod
 * labels, metrics port). The shared stack's Prometheus scrapes it. */
const ARGOCD = argocdFacts();
export const ARGOCD_CONTROLLER = {
  namespace: ARGOCD.installManifest.namespace,
  podLabels: ARGOCD.installManifest.workloads.find((w) => w.name === "argocd-application-controller").podLabels,
  port: ARGOCD.metrics.port,
};

/** Traefik, the edge's proxy, as k8s/edge deploys it (namespace, pod labels, entry-point ports). */
const EDGE = edgeFacts();
export const TRAEFIK = { namespace: EDGE.namespace, podLabels: EDGE.podLabels, ports: EDGE.ports.filter((p) => p.name !== "ping").map(({ port, protocol }) => ({ port, protocol })) };

/**
 * Endpoints outside the build's namespaces that the policies are probed with, plus, in each of `namespaces`, a
 * stranger (a pod someone adds later: default deny must keep it out of everything but DNS) and, in each namespace
 * without Prometheus, an impostor carrying Prometheus' labels (it must not inherit Prometheus' rights).
 */
export function outsideFor(namespaces, { impostors = [] } = {}) {
  const list = [
    { id: "traefik", namespace: TRAEFIK.namespace, labels: TRAEFIK.podLabels, ip: "10.244.0.5", ports: TRAEFIK.ports },
    // Another pod in the edge's namespace: selecting Traefik by namespace alone would let it in.
    { id: "edge-stranger", namespace: TRAEFIK.namespace, labels: { "app.kubernetes.io/name": "edge-stranger" }, ip: "10.244.0.6", ports: [] },
    { id: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, ip: "10.244.0.3", ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
    { id: "keda-operator", namespace: KEDA.namespace, labels: kedaOperator.podLabels, ip: "10.244.2.7", ports: [] },
    { id: "argo-rollouts", namespace: ARGO_ROLLOUTS.namespace, labels: ARGO_ROLLOUTS.podLabels, ip: "10.244.2.11", ports: [{ port: ARGO_ROLLOUTS.metricsPort, protocol: "TCP" }] },
    {
      id: "argocd-application-controller",
      namespace: ARGOCD_CONTROLLER.namespace,
      labels: ARGOCD_CONTROLLER.podLabels,
      ip: "10.244.2.12",
      ports: [{ port: ARGOCD_CONTROLLER.port, protocol: "TCP" }],
    },
    // Same labels as our Prometheus, other namespace: must not inherit its rights.
    { id: "prometheus-elsewhere", namespace: "default", labels: { "app.kubernetes.io/name": "prometheus" }, ip: "10.244.2.8", ports: [] },
    // The CloudNativePG operator (namespace, labels and ports of the pinned release manifest).
    operatorEndpoint(),
    { id: "kube-api-service", ip: "10.96.0.1", ports: [{ port: 443, protocol: "TCP" }] },
    { id: "kube-api-node", ip: "172.18.0.2", ports: [{ port: 6443, protocol: "TCP" }] },
    { id: "internet", ip: "8.8.8.8", ports: [{ port: 443, protocol: "TCP" }, { port: 53, protocol: "UDP" }] },
  ];
  let n = 100;
  for (const ns of namespaces) list.push({ id: "stranger", namespace: ns, labels: { "app.kubernetes.io/name": "stranger" }, ip: `10.244.2.${n++}`, ports: [{ port: 8080, protocol: "TCP" }] });
  for (const ns of impostors) list.push({ id: "prometheus-impostor", namespace: ns, labels: { "app.kubernetes.io/name": "prometheus" }, ip: `10.244.2.${n++}`, ports: [] });
  return list;
}

/** The endpoints the one-namespace builds (kind and its combinations) are probed with. */
export const OUTSIDE = outsideFor([OVERLAYS.kind.namespace]);

export const NAMESPACE_LABELS = Object.fromEntries(
  [...new Set([...Object.values(OVERLAYS).map((o) => o.namespace), TRAEFIK.namespace, "kube-system", KEDA.namespace, "default", "cnpg-system", ARGO_ROLLOUTS.namespace, ARGOCD_CONTROLLER.namespace])].map((ns) => [
    ns,
    { "kubernetes.io/metadata.name": ns },
  ]),
);

const tcp = (src, dst, port) => `${src} -> ${dst}:${port}/TCP`;

/** The flows every build must allow, and the only ones it may allow. */
export function expectedFlows(objects) {
  const flows = [
    tcp("traefik", "shop", 8080),
    tcp("traefik", "grafana", 3000),
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
    tcp("blackbox", "shop", 8080),
    tcp("blackbox", "grafana", 3000),
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

/**
 * The flows the environments need, all three overlays deployed side by side (observability, staging, production),
 * and the only ones they may allow (k8s/README.md, "Network flows", environments). `id(namespace, name)` gives the
 * model's id of an endpoint (qualified with its namespace where the name occurs in several).
 */
export function expectedEnvironmentFlows(objects, id) {
  const stack = (name) => id(STACK_NAMESPACE, name);
  const flows = [
    tcp("traefik", stack("grafana"), 3000),
    ...[["alloy", 12345], ["loki", 3100], ["tempo", 3200], ["grafana", 3000], ["kube-state-metrics", 8080], ["alertmanager", 9093], ["blackbox", 9115]].map(
      ([dst, port]) => tcp(stack("prometheus"), stack(dst), port),
    ),
    tcp(stack("alloy"), stack("loki"), 3100),
    tcp(stack("alloy"), stack("tempo"), 4317),
    tcp(stack("tempo"), stack("prometheus"), 9090),
    ...[["prometheus", 9090], ["loki", 3100], ["tempo", 3200], ["alertmanager", 9093]].map(([dst, port]) => tcp(stack("grafana"), stack(dst), port)),
    tcp(stack("alertmanager"), stack("mailpit"), 1025),
    tcp(stack("alertmanager"), stack("webhook-sink"), 8080),
    tcp(stack("blackbox"), stack("grafana"), 3000),
    // Production's canary analysis (Argo Rollouts) queries Prometheus.
    tcp("argo-rollouts", stack("prometheus"), 9090),
    // Prometheus scrapes Argo CD's application controller (job argocd).
    tcp(stack("prometheus"), "argocd-application-controller", ARGOCD_CONTROLLER.port),
    // ... and Prometheus scrapes the controller (job argo-rollouts).
    tcp(stack("prometheus"), "argo-rollouts", ARGO_ROLLOUTS.metricsPort),
  ];
  for (const client of API_CLIENTS) flows.push(tcp(stack(client), "kube-api-service", 443), tcp(stack(client), "kube-api-node", 6443));
  const dns = (src) => flows.push(`${src} -> kube-dns:53/UDP`, `${src} -> kube-dns:53/TCP`);
  for (const w of objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind))) dns(id(w.metadata.namespace, w.metadata.name));
  dns(stack("stranger"));
  for (const overlay of APP_OVERLAYS) {
    const ns = OVERLAYS[overlay].namespace;
    const app = (name) => id(ns, name);
    flows.push(tcp("traefik", app("shop"), 8080), tcp(stack("prometheus"), app("shop"), 9000), tcp(stack("blackbox"), app("shop"), 8080));
    flows.push(tcp(app("shop"), stack("alloy"), 4317));
    dns(app("stranger"));
    dns(app("prometheus-impostor"));
    const instances = clustersOf(objects)
      .filter((c) => c.metadata.namespace === ns)
      .flatMap((c) => Array.from({ length: c.spec.instances }, (_, i) => app(`${c.metadata.name}-${i + 1}`)));
    for (const db of instances) {
      flows.push(tcp(stack("prometheus"), db, 9187), tcp(app("shop"), db, 5432), tcp("cnpg-operator", db, 8000), tcp("cnpg-operator", db, 5432));
      flows.push(tcp(db, app("object-store"), 9000), tcp(db, "kube-api-service", 443), tcp(db, "kube-api-node", 6443));
      for (const peer of instances) if (peer !== db) flows.push(tcp(db, peer, 5432));
      dns(db);
    }
  }
  return flows.sort();
}
