// The edge (k8s/edge: Traefik as the Gateway API implementation, the Gateway, the local CA) and the routes the builds
// attach to it: facts read from the edge's own build, and the checks of every HTTPRoute.
// Gateway API (v1.5.1, standard channel): https://gateway-api.sigs.k8s.io/reference/spec/
// Traefik v3.7 with Gateway API: https://doc.traefik.io/traefik/v3.7/reference/routing-configuration/kubernetes/gateway-api/
import { join } from "node:path";
import { intProp, podOf, workloads } from "./policy.mjs";
import { build, K8S } from "./render.mjs";

export const EDGE_DIR = join(K8S, "edge");
/** The paths the routes serve, and the Service behind each. */
export const ROUTES = {
  platform: { "/api": "shop", "/q/openapi": "shop", "/q/swagger-ui": "shop", "/grafana": "grafana" },
  app: { "/api": "shop", "/q/openapi": "shop", "/q/swagger-ui": "shop" },
  stack: { "/grafana": "grafana" },
};
/** HSTS must ask for at least a year (the usual preload floor, RFC 6797 max-age in seconds). */
export const HSTS_MIN_SECONDS = 31536000;

/** Facts of the edge's build: the Gateway, its listeners with Traefik's entry points, Traefik's namespace and pods. */
export function edgeFacts() {
  const objects = build(EDGE_DIR);
  const gateway = objects.find((o) => o.kind === "Gateway");
  const traefik = workloads(objects).find((w) => w.metadata.name === "traefik");
  if (!gateway || !traefik) throw new Error("k8s/edge: no Gateway or no traefik Deployment");
  const { meta, spec } = podOf(traefik);
  const args = spec.containers[0].args ?? [];
  // --entryPoints.<name>.address=:<port>
  const entryPoints = Object.fromEntries(args.flatMap((a) => [.../^--entryPoints\.([^.]+)\.address=:(\d+)$/.exec(a) ? [[RegExp.$1, Number(RegExp.$2)]] : []]));
  const ports = spec.containers.flatMap((c) => c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol ?? "TCP", name: p.name }));
  return {
    objects,
    gateway,
    namespace: traefik.metadata.namespace,
    podLabels: meta.labels,
    args,
    ports,
    entryPoints,
    listener: (name) => gateway.spec.listeners.find((l) => l.name === name),
  };
}

const named = (o) => `${o.kind}/${o.metadata.name}`;

/** The HSTS max-age a rule's filters set, or undefined. */
export function hstsOf(rule) {
  for (const f of rule.filters ?? []) {
    if (f.type !== "ResponseHeaderModifier") continue;
    const h = (f.responseHeaderModifier?.set ?? []).find((x) => x.name.toLowerCase() === "strict-transport-security");
    const m = h && /(?:^|;)\s*max-age=(\d+)/.exec(h.value);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The Middleware a rule's ExtensionRef filters name (Traefik's rate limit), as objects of the build. */
export const middlewaresOf = (rule, objects) =>
  (rule.filters ?? [])
    .filter((f) => f.type === "ExtensionRef" && f.extensionRef?.group === "traefik.io" && f.extensionRef?.kind === "Middleware")
    .map((f) => objects.find((o) => o.kind === "Middleware" && o.metadata.name === f.extensionRef.name) ?? { missing: f.extensionRef.name });

/**
 * The HTTPRoutes route exactly `expected` (path prefix -> Service), all on the Gateway's HTTPS listener, each rule with
 * HSTS, the shop's with a per-client rate limit; never a management port; no Ingress left.
 */
export function httpRoutes(objects, props, expected, facts = edgeFacts()) {
  const problems = [];
  const mgmt = intProp(props, "quarkus.management.port", 9000);
  for (const o of objects.filter((x) => x.kind === "Ingress")) problems.push(`${named(o)}: an Ingress (the edge is the Gateway API)`);
  const services = new Map(objects.filter((o) => o.kind === "Service").map((s) => [s.metadata.name, s]));
  const routes = {};
  const list = objects.filter((o) => o.kind === "HTTPRoute");
  for (const route of list) {
    const parents = route.spec?.parentRefs ?? [];
    const onHttps = parents.length > 0 && parents.every((p) => (p.kind ?? "Gateway") === "Gateway" && p.name === facts.gateway.metadata.name && p.namespace === facts.gateway.metadata.namespace && p.sectionName === "https");
    if (!onHttps) problems.push(`${named(route)}: not attached to the HTTPS listener of Gateway ${facts.gateway.metadata.namespace}/${facts.gateway.metadata.name} alone`);
    for (const rule of route.spec?.rules ?? []) {
      const maxAge = hstsOf(rule);
      if (!(maxAge >= HSTS_MIN_SECONDS)) problems.push(`${named(route)}: a rule without HSTS (Strict-Transport-Security max-age >= ${HSTS_MIN_SECONDS}), got ${maxAge}`);
      const backends = rule.backendRefs ?? [];
      if (backends.length !== 1) problems.push(`${named(route)}: a rule with ${backends.length} backends`);
      for (const b of backends) {
        const svcPort = (services.get(b.name)?.spec?.ports ?? []).find((x) => x.port === b.port);
        if (!svcPort) problems.push(`${named(route)}: -> ${b.name}:${b.port}, no such Service port`);
        else if (svcPort.port === mgmt || svcPort.name === "management" || svcPort.targetPort === "management") problems.push(`${named(route)}: routes the management port (${b.name}:${b.port})`);
        if (b.name === "shop") {
          const limits = middlewaresOf(rule, objects);
          for (const m of limits.filter((x) => x.missing)) problems.push(`${named(route)}: Middleware ${m.missing} is not in the build`);
          const rl = limits.find((m) => m.spec?.rateLimit)?.spec.rateLimit;
          if (!rl) problems.push(`${named(route)}: the API without a per-client rate limit (ExtensionRef to a rateLimit Middleware)`);
          else if (!(rl.average > 0 && rl.burst > 0)) problems.push(`${named(route)}: rate limit without average and burst`);
          else if (rl.sourceCriterion?.requestHeaderName || rl.sourceCriterion?.requestHost || (rl.sourceCriterion?.ipStrategy?.depth ?? 0) !== 0)
            problems.push(`${named(route)}: rate limit not keyed by the client's own address`);
        }
      }
      for (const m of rule.matches ?? []) {
        if (m.path?.type !== "PathPrefix") problems.push(`${named(route)}: ${m.path?.value} is not a PathPrefix match`);
        routes[m.path?.value] = backends[0]?.name;
      }
    }
  }
  const sorted = (o) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
  if (sorted(routes) !== sorted(expected)) problems.push(`HTTPRoutes route ${sorted(routes)}, expected exactly ${sorted(expected)}`);
  return problems;
}

/** The rate limit of the shop's route in a build (average, burst per client). */
export function shopRateLimit(objects) {
  const route = objects.find((o) => o.kind === "HTTPRoute" && o.metadata.name === "shop");
  return middlewaresOf(route.spec.rules[0], objects).find((m) => m.spec?.rateLimit)?.spec.rateLimit;
}
