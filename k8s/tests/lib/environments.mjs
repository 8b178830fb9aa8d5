// The environments deployed side by side, as one model: the builds of k8s/overlays/observability, staging and
// production (or a combination in place of its overlay), their objects together, and the endpoints their network
// policies are probed with. k8s/README.md, "Environments".
import { join } from "node:path";
import { APP_OVERLAYS, OVERLAYS, outsideFor, STACK_NAMESPACE } from "../expectations.mjs";
import { clustersOf } from "./cnpg.mjs";
import { endpointsOf } from "./netpol.mjs";
import { envValue, podOf, workloads } from "./policy.mjs";
import { build, K8S, overlayOf } from "./render.mjs";

/** Objects of observability + every app environment; `dir` (a combination or overlay) replaces its own overlay. */
export function environmentCluster(dir) {
  const builds = ["observability", ...APP_OVERLAYS].map((o) => (dir && overlayOf(dir) === o ? dir : join(K8S, "overlays", o)));
  return builds.flatMap((d) => build(d));
}

/** Outside endpoints for the environments: a stranger in every namespace, a Prometheus impostor in each app namespace. */
export const environmentOutside = () =>
  outsideFor([STACK_NAMESPACE, ...APP_OVERLAYS.map((o) => OVERLAYS[o].namespace)], { impostors: APP_OVERLAYS.map((o) => OVERLAYS[o].namespace) });

/** The model's id of the endpoint `name` in `namespace` (qualified where the name occurs in several namespaces). */
export function endpointIds(objects, outside) {
  const eps = endpointsOf(objects, outside);
  return (namespace, name) => {
    const ep = eps.find((e) => e.namespace === namespace && (e.id === name || e.id === `${namespace}/${name}`));
    if (!ep) throw new Error(`no endpoint ${name} in ${namespace}`);
    return ep.id;
  };
}

const SELECTOR_PATHS = [
  (o) => o.spec?.selector?.matchLabels,
  (o) => (o.kind === "Service" ? o.spec?.selector : undefined),
  (o) => o.spec?.podSelector?.matchLabels,
  (o) => o.spec?.template?.spec?.topologySpreadConstraints?.flatMap((t) => Object.keys(t.labelSelector?.matchLabels ?? {})),
];

/**
 * The environment label of one build: every pod template (and each CloudNativePG Cluster's inheritedMetadata, which
 * the operator copies onto its instance pods) carries `environment: <environment>`, no selector uses it, and the
 * shop's DEPLOYMENT_ENVIRONMENT (deployment.environment on its spans) is the same value.
 */
export function environmentLabelProblems(objects, environment) {
  const problems = [];
  const pods = workloads(objects);
  if (!pods.length) return ["no workloads to check"];
  for (const w of pods) {
    const value = podOf(w).meta.labels?.environment;
    if (value !== environment) problems.push(`${w.kind}/${w.metadata.name}: pod label environment=${value}, want ${environment}`);
  }
  for (const c of clustersOf(objects)) {
    const value = c.spec?.inheritedMetadata?.labels?.environment;
    if (value !== environment) problems.push(`Cluster/${c.metadata.name}: inheritedMetadata label environment=${value}, want ${environment}`);
  }
  for (const o of objects) {
    for (const path of SELECTOR_PATHS) {
      const sel = path(o);
      const keys = Array.isArray(sel) ? sel : Object.keys(sel ?? {});
      if (keys.includes("environment")) problems.push(`${o.kind}/${o.metadata.name}: a selector uses the label environment`);
    }
  }
  const shop = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  const declared = shop && envValue(objects, podOf(shop).spec.containers[0], "DEPLOYMENT_ENVIRONMENT");
  if (declared !== environment) problems.push(`shop: DEPLOYMENT_ENVIRONMENT=${declared}, want ${environment}`);
  return problems;
}
