// Strict schema validation of rendered objects against the Kubernetes OpenAPI schemas that kubernetes-models
// ships as compiled validators (one per kind), plus the KEDA CRD schemas and, through lib/crd.mjs, the
// CloudNativePG CRD schemas under k8s/tests/third-party.
// kubernetes-models: https://github.com/tommy351/kubernetes-models-ts
//
// The compiled validators check types, required fields and formats but accept unknown fields. To reject
// those as the API server does with `--validate=strict`, each object is validated through a Proxy that
// records which properties the validator reads: a validator reads every property its schema defines, so a
// property of a plain object that was never read is unknown. Objects the validator enumerates (maps such as
// labels, annotations, ConfigMap data) accept any key.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { K8S } from "./render.mjs";
import { validateCustomResource } from "./crd.mjs";

const require = createRequire(import.meta.url);
const MODULES = join(K8S, "tests/node_modules");

const GROUPS = {
  "": "Core",
  apps: "Apps",
  autoscaling: "Autoscaling",
  batch: "Batch",
  policy: "Policy",
  "networking.k8s.io": "Networking",
  "rbac.authorization.k8s.io": "Rbac",
  "admissionregistration.k8s.io": "Admissionregistration",
};
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/** The path of the compiled validator for an apiVersion/kind, or undefined when none is known. */
export function validatorPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "keda.sh") {
    return join(MODULES, "@kubernetes-models/keda/_schemas", `KedaSh${cap(version)}${kind}.js`);
  }
  if (!(group in GROUPS)) return undefined;
  return join(MODULES, "kubernetes-models/_schemas", `IoK8sApi${GROUPS[group]}${cap(version)}${kind}.js`);
}

/** Validates one object; returns a list of problems (empty when valid). */
export function validateStrict(object) {
  const where = `${object?.kind}/${object?.metadata?.name}`;
  if (!object?.apiVersion || !object?.kind) return [`${where}: apiVersion and kind are required`];
  // CloudNativePG resources: the CRD schemas of the pinned release (lib/crd.mjs).
  const custom = validateCustomResource(object);
  if (custom) return custom;
  const path = validatorPath(object.apiVersion, object.kind);
  if (!path || !existsSync(path)) return [`${where}: no schema known for ${object.apiVersion} ${object.kind}`];
  const { validate } = require(path);

  const seen = new Map();
  const wrap = (value, pointer) => {
    if (value === null || typeof value !== "object") return value;
    let info = seen.get(value);
    if (!info) {
      info = { pointer, read: new Set(), enumerated: false };
      info.proxy = new Proxy(value, {
        get(target, key, receiver) {
          if (typeof key === "string") info.read.add(key);
          return wrap(Reflect.get(target, key, receiver), `${pointer}/${String(key)}`);
        },
        has(target, key) {
          if (typeof key === "string") info.read.add(key);
          return Reflect.has(target, key);
        },
        ownKeys(target) {
          info.enumerated = true;
          return Reflect.ownKeys(target);
        },
      });
      seen.set(value, info);
    }
    return info.proxy;
  };

  const problems = [];
  if (!validate(wrap(object, ""))) {
    for (const e of validate.errors ?? []) problems.push(`${where}: ${e.instancePath || "/"} ${e.message ?? `${e.keyword} ${JSON.stringify(e.params)}`}`);
  }
  for (const [value, info] of seen) {
    if (Array.isArray(value) || info.enumerated) continue;
    for (const key of Object.keys(value)) {
      if (!info.read.has(key)) problems.push(`${where}: unknown field ${info.pointer}/${key}`);
    }
  }
  return problems;
}
