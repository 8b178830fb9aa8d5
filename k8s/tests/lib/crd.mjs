// Strict validation of custom resources against third-party CRD schemas (k8s/tests/third-party/, see its README;
// CloudNativePG, Argo CD, Argo Rollouts, Gateway API, Traefik, cert-manager and External Secrets), the way the API server validates them: structural schema, unknown
// fields pruned there and rejected here.
// JSON Schema validator: Ajv (https://ajv.js.org/), which kubernetes-models already brings.
// CRD schema rules: https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
// CEL rules (x-kubernetes-validations): evaluated by lib/cel.mjs, after the schema's defaults, as on create.
// Not evaluated: the operators' admission webhooks.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { celProblems } from "./cel.mjs";
import { K8S } from "./render.mjs";

const require = createRequire(import.meta.url);
const Ajv = require(join(K8S, "tests/node_modules/ajv")).default;

/** A version pinned in k8s/k8s.mk (`NAME ?= value`); throws when the variable is missing. */
export function makeVariable(name) {
  const text = readFileSync(join(K8S, "k8s.mk"), "utf8");
  const m = new RegExp(`^${name}\\s*\\??:?=\\s*(\\S+)`, "m").exec(text);
  if (!m) throw new Error(`k8s/k8s.mk: no ${name}`);
  return m[1];
}

/** The third-party folders with CRD schemas: k8s/tests/third-party/<project>-v<version of the make variable>. */
export const CRD_PROJECTS = [
  { project: "cloudnative-pg", variable: "CNPG_VERSION" },
  { project: "argo-cd", variable: "ARGOCD_VERSION" },
  { project: "argo-rollouts", variable: "ARGO_ROLLOUTS_VERSION" },
  // The edge (k8s/edge, the routes in base/): Gateway API standard channel, Traefik's Middleware, cert-manager.
  { project: "gateway-api", variable: "GATEWAY_API_VERSION" },
  { project: "traefik", variable: "TRAEFIK_VERSION" },
  { project: "cert-manager", variable: "CERT_MANAGER_VERSION" },
  // The external-secrets component (k8s/components/external-secrets).
  { project: "external-secrets", variable: "ESO_VERSION" },
];

/** The third-party folder of a project at the version k8s/k8s.mk pins. */
export const thirdPartyDir = (project, variable) => join(K8S, "tests/third-party", `${project}-v${makeVariable(variable)}`);

/** The third-party folder of the pinned CloudNativePG release. */
export const cnpgDir = () => thirdPartyDir("cloudnative-pg", "CNPG_VERSION");

/** CloudNativePG facts recorded from the pinned release (release-facts.json). */
export const cnpgFacts = () => JSON.parse(readFileSync(join(cnpgDir(), "release-facts.json"), "utf8"));

/** The third-party folder of the pinned Argo Rollouts release. */
export const rolloutsDir = () => thirdPartyDir("argo-rollouts", "ARGO_ROLLOUTS_VERSION");

/** Argo Rollouts facts recorded from the pinned release (release-facts.json). */
export const rolloutsFacts = () => JSON.parse(readFileSync(join(rolloutsDir(), "release-facts.json"), "utf8"));

/**
 * The schema the API server would enforce, for Ajv: objects with declared properties reject others (unless
 * x-kubernetes-preserve-unknown-fields), int-or-string accepts both, other x-kubernetes-* markers are dropped.
 */
export function strictSchema(schema) {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "description") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (out.properties && out.additionalProperties === undefined && !schema["x-kubernetes-preserve-unknown-fields"]) {
    out.additionalProperties = false;
  }
  return out;
}

let validators;
/**
 * Compiled validators by "group/version Kind", from every *.json schema file of the pinned third-party folders: the
 * Ajv function, with the CRD's own schema (`crdSchema`, for its CEL rules) attached.
 */
export function crdValidators() {
  if (validators) return validators;
  validators = new Map();
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  for (const { project, variable } of CRD_PROJECTS) {
    const dir = thirdPartyDir(project, variable);
    if (!existsSync(dir)) throw new Error(`${dir} is missing: ${variable} in k8s/k8s.mk and k8s/tests/third-party disagree`);
    const files = readdirSync(dir).filter((f) => /\.v\d\w*\.json$/.test(f));
    if (files.length === 0) throw new Error(`${dir}: no CRD schemas`);
    for (const file of files) {
      const { group, version, kind, openAPIV3Schema } = JSON.parse(readFileSync(join(dir, file), "utf8"));
      const validate = ajv.compile(strictSchema(openAPIV3Schema));
      validate.crdSchema = openAPIV3Schema;
      validators.set(`${group}/${version} ${kind}`, validate);
    }
  }
  return validators;
}

const METADATA_FIELDS = new Set(["name", "namespace", "labels", "annotations"]);

/** Problems of one custom resource, or undefined when no third-party schema covers its apiVersion/kind. */
export function validateCustomResource(object) {
  const validate = crdValidators().get(`${object.apiVersion} ${object.kind}`);
  if (!validate) return undefined;
  const where = `${object.kind}/${object.metadata?.name}`;
  const problems = [];
  for (const key of Object.keys(object.metadata ?? {})) if (!METADATA_FIELDS.has(key)) problems.push(`${where}: unknown field /metadata/${key}`);
  if (!validate(object)) {
    for (const e of validate.errors) {
      if (e.keyword === "additionalProperties") problems.push(`${where}: unknown field ${e.instancePath}/${e.params.additionalProperty}`);
      else problems.push(`${where}: ${e.instancePath || "/"} ${e.message}`);
    }
  }
  for (const p of celProblems(validate.crdSchema, object)) problems.push(`${where}: ${p}`);
  return problems;
}
