// A small NetworkPolicy evaluator: which (source, destination, port) flows do the rendered policies allow?
// Semantics follow https://kubernetes.io/docs/concepts/services-networking/network-policies/ :
// - a pod selected by a policy whose policyTypes include Ingress (Egress) is isolated in that direction, and
//   then only flows some such policy allows get through; policies add up, there is no deny rule;
// - a flow needs the source's egress and the destination's ingress to allow it;
// - a peer with podSelector alone means the policy's namespace; namespaceSelector alone, every pod there;
//   both, the matching pods in the matching namespaces; ipBlock, addresses (pods included) inside cidr and
//   outside except; a rule without from/to allows every peer, without ports every port.
// Pods outside the namespace carry no policy in this model (the cluster add-ons ship none that matter here).
import { instanceEndpoints } from "./cnpg.mjs";
import { matchesSelector, podOf, workloads } from "./policy.mjs";

/** The namespace label Kubernetes sets itself, to the namespace's name (immutable). */
export const NAME_LABEL = "kubernetes.io/metadata.name";

function ipToInt(ip) {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}
export function cidrContains(cidr, ip) {
  if (cidr.includes(":") || ip.includes(":")) return cidr === "::/0";
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  const value = ipToInt(ip);
  return value >= start && value < start + size;
}

/**
 * Endpoints of the model: the workloads of the build (namespace, pod labels, container ports) plus the given
 * outside endpoints, plus the instances of each CloudNativePG Cluster (lib/cnpg.mjs). Pod addresses come from kind's
 * pod subnet 10.244.0.0/16. An id that occurs in several namespaces (the shop of staging and of production) is
 * qualified as `namespace/id`; ids that are unique stay plain, so a one-namespace build reads `prometheus -> shop`.
 */
export function endpointsOf(objects, outside) {
  const list = [];
  let n = 10;
  for (const w of workloads(objects)) {
    const { meta, spec } = podOf(w);
    const ports = [];
    for (const c of spec.containers ?? []) for (const p of c.ports ?? []) ports.push({ port: p.containerPort, protocol: p.protocol ?? "TCP", name: p.name });
    list.push({ id: w.metadata.name, namespace: w.metadata.namespace, labels: meta.labels ?? {}, ip: `10.244.1.${n++}`, ports });
  }
  const all = [...list, ...instanceEndpoints(objects), ...outside];
  const namespacesOf = new Map();
  for (const ep of all) namespacesOf.set(ep.id, new Set([...(namespacesOf.get(ep.id) ?? []), ep.namespace]));
  return all.map((ep) => (namespacesOf.get(ep.id).size > 1 ? { ...ep, id: `${ep.namespace}/${ep.id}` } : ep));
}

/** The namespaces a build deploys into (its Namespace objects, else the namespaces of its workloads). */
export function namespacesOf(objects) {
  const declared = objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
  return new Set(declared.length ? declared : workloads(objects).map((w) => w.metadata.namespace));
}

function peerMatches(peer, policyNamespace, namespaces, endpoint) {
  if (peer.ipBlock) {
    if (!endpoint.ip || !cidrContains(peer.ipBlock.cidr, endpoint.ip)) return false;
    return !(peer.ipBlock.except ?? []).some((c) => cidrContains(c, endpoint.ip));
  }
  if (!endpoint.namespace) return false; // plain addresses are matched by ipBlock only
  const nsOk = peer.namespaceSelector
    ? matchesSelector(peer.namespaceSelector, namespaces[endpoint.namespace] ?? { "kubernetes.io/metadata.name": endpoint.namespace })
    : endpoint.namespace === policyNamespace;
  const podOk = peer.podSelector ? matchesSelector(peer.podSelector, endpoint.labels) : true;
  return nsOk && podOk;
}

function portMatches(rulePorts, dst, port) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((rp) => {
    if ((rp.protocol ?? "TCP") !== port.protocol) return false;
    if (rp.port === undefined) return true;
    if (typeof rp.port === "string") return (dst.ports ?? []).some((p) => p.name === rp.port && p.port === port.port);
    return rp.endPort ? port.port >= rp.port && port.port <= rp.endPort : port.port === rp.port;
  });
}

const types = (pol) => pol.spec.policyTypes ?? (pol.spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
const selecting = (policies, ep) =>
  policies.filter((pol) => pol.metadata.namespace === ep.namespace && matchesSelector(pol.spec.podSelector ?? {}, ep.labels));

function allowedOneWay(policies, namespaces, self, other, dst, port, direction) {
  const relevant = selecting(policies, self).filter((pol) => types(pol).includes(direction));
  if (!self.namespace) return true; // an address outside the cluster enforces nothing
  if (relevant.length === 0) return true; // not isolated in this direction
  const key = direction === "Ingress" ? "ingress" : "egress";
  const peerKey = direction === "Ingress" ? "from" : "to";
  return relevant.some((pol) =>
    (pol.spec[key] ?? []).some((rule) => {
      const peers = rule[peerKey];
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, pol.metadata.namespace, namespaces, other));
      return peerOk && portMatches(rule.ports, dst, port);
    }),
  );
}

/**
 * Every allowed flow between the endpoints, as strings "src -> dst:port/proto". Destination ports probed:
 * the declared ones plus one undeclared port (1/TCP), so a rule without ports shows up as extra flows.
 */
export function allowedFlows(objects, outside, namespaces) {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  const eps = endpointsOf(objects, outside);
  const scope = namespacesOf(objects);
  const flows = new Set();
  for (const src of eps) {
    for (const dst of eps) {
      if (src === dst || (!src.namespace && !dst.namespace)) continue;
      const inScope = (ep) => scope.has(ep.namespace);
      if (!inScope(src) && !inScope(dst)) continue;
      for (const port of [...(dst.ports ?? []), { port: 1, protocol: "TCP" }]) {
        const ok =
          allowedOneWay(policies, namespaces, src, dst, dst, port, "Egress") &&
          allowedOneWay(policies, namespaces, dst, src, dst, port, "Ingress");
        if (ok) flows.add(`${src.id} -> ${dst.id}:${port.port}/${port.protocol}`);
      }
    }
  }
  return flows;
}

/**
 * Shape rules: no allow-all peers, no 0.0.0.0/0, ipBlock only in the policies listed in `ipBlockPolicies`,
 * an empty podSelector only for the default deny (no rules) and for DNS egress to kube-dns on port 53.
 */
export function policyShapes(objects, ipBlockPolicies) {
  const problems = [];
  for (const pol of objects.filter((o) => o.kind === "NetworkPolicy")) {
    const p = (msg) => problems.push(`NetworkPolicy/${pol.metadata.name}: ${msg}`);
    const rules = [...(pol.spec.ingress ?? []).map((r) => [r, r.from]), ...(pol.spec.egress ?? []).map((r) => [r, r.to])];
    for (const [rule, peers] of rules) {
      if (!peers || peers.length === 0) p("a rule without peers allows everyone");
      for (const peer of peers ?? []) {
        if (Object.keys(peer).length === 0) p("an empty peer allows everyone");
        if (peer.podSelector && Object.keys(peer.podSelector).length === 0 && !peer.namespaceSelector) p("podSelector {} peer allows every pod of the namespace");
        if (peer.namespaceSelector && Object.keys(peer.namespaceSelector).length === 0) p("namespaceSelector {} allows every namespace");
        // Only the name label the API server sets itself: any other namespace label can be put on a namespace by
        // whoever may edit it (https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name).
        const nsKeys = [...Object.keys(peer.namespaceSelector?.matchLabels ?? {}), ...(peer.namespaceSelector?.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}`)];
        for (const key of nsKeys) if (key !== NAME_LABEL && key !== `${NAME_LABEL} In`) p(`namespaceSelector on ${key}: select namespaces by ${NAME_LABEL} (In or matchLabels) only`);
        if (peer.ipBlock) {
          if (["0.0.0.0/0", "::/0"].includes(peer.ipBlock.cidr)) p(`ipBlock ${peer.ipBlock.cidr}`);
          if (!ipBlockPolicies.includes(pol.metadata.name)) p("ipBlock outside the policies allowed to use one");
        }
      }
      if (!rule.ports || rule.ports.length === 0) p("a rule without ports allows every port");
    }
    const selectsAll = Object.keys(pol.spec.podSelector ?? {}).length === 0;
    if (selectsAll && rules.length > 0) {
      const dnsOnly =
        !(pol.spec.ingress ?? []).length &&
        (pol.spec.egress ?? []).every(
          (r) =>
            r.to?.every((peer) => peer.podSelector?.matchLabels?.["k8s-app"] === "kube-dns" && peer.namespaceSelector) &&
            r.ports?.every((x) => x.port === 53),
        );
      if (!dnsOnly) p("selects every pod and allows more than DNS");
    }
  }
  return problems;
}
