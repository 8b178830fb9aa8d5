// Facts about third-party manifests (k8s/tests/third-party/<project>/<version>.json), read strictly: each file
// names its source, version and licence, and anything beyond the expected keys is an error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { K8S } from "./render.mjs";

const TOP = ["source", "version", "licence", "derivedFrom", "namespace", "deployments"];
const DEPLOYMENT = ["name", "podLabels"];

/** Problems with the shape of a parsed KEDA facts file. */
export function kedaFactsShape(doc) {
  const problems = [];
  for (const k of Object.keys(doc ?? {})) if (!TOP.includes(k)) problems.push(`unknown key ${k}`);
  for (const k of TOP) if (!(k in (doc ?? {}))) problems.push(`missing key ${k}`);
  if (!Array.isArray(doc?.deployments) || doc.deployments.length === 0) problems.push("deployments: not a non-empty list");
  for (const [i, d] of (Array.isArray(doc?.deployments) ? doc.deployments : []).entries()) {
    for (const k of Object.keys(d)) if (!DEPLOYMENT.includes(k)) problems.push(`deployments[${i}]: unknown key ${k}`);
    if (typeof d.name !== "string") problems.push(`deployments[${i}].name: not a string`);
    if (!d.podLabels || !Object.keys(d.podLabels).length) problems.push(`deployments[${i}].podLabels: empty`);
  }
  return problems;
}

/** The KEDA facts of `version` ("2.17.2"); throws when the file is missing or malformed. */
export function kedaFacts(version) {
  const file = join(K8S, "tests/third-party/keda", `v${version}.json`);
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const problems = kedaFactsShape(doc);
  if (doc.version !== `v${version}`) problems.push(`version ${doc.version}, file name says v${version}`);
  if (problems.length) throw new Error(`${file}: ${problems.join("; ")}`);
  return doc;
}

/** KEDA_VERSION as k8s/k8s.mk pins it. */
export function kedaVersion() {
  const m = /^KEDA_VERSION\s*\?=\s*(\S+)/m.exec(readFileSync(join(K8S, "k8s.mk"), "utf8"));
  if (!m) throw new Error("k8s/k8s.mk: no KEDA_VERSION");
  return m[1];
}
