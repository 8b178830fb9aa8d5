// Facts about ingress-nginx's kind manifest (k8s/tests/third-party/ingress-nginx/<version>.json), read strictly:
// the file names its source, version and licence, and anything beyond the expected keys is an error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { K8S } from "./render.mjs";

const TOP = ["source", "version", "licence", "derivedFrom", "namespace", "controllerDeployment", "ingressClass", "webhook", "certJobs"];
const WEBHOOK = ["configuration", "name", "service", "failurePolicy", "sideEffects", "caBundleInManifest"];
const JOB = ["name", "command", "ttlSecondsAfterFinished"];

const keys = (obj, allowed, where, problems) => {
  for (const k of Object.keys(obj ?? {})) if (!allowed.includes(k)) problems.push(`${where}unknown key ${k}`);
  for (const k of allowed) if (!(k in (obj ?? {}))) problems.push(`${where}missing key ${k}`);
};

/** Problems with the shape of a parsed ingress-nginx facts file. */
export function ingressFactsShape(doc) {
  const problems = [];
  keys(doc, TOP, "", problems);
  keys(doc?.webhook, WEBHOOK, "webhook: ", problems);
  if (!Array.isArray(doc?.certJobs) || doc.certJobs.length === 0) problems.push("certJobs: not a non-empty list");
  for (const [i, j] of (Array.isArray(doc?.certJobs) ? doc.certJobs : []).entries()) keys(j, JOB, `certJobs[${i}]: `, problems);
  return problems;
}

/** INGRESS_NGINX_VERSION as k8s/k8s.mk pins it ("controller-v1.12.3"). */
export function ingressVersion() {
  const m = /^INGRESS_NGINX_VERSION\s*\?=\s*(\S+)/m.exec(readFileSync(join(K8S, "k8s.mk"), "utf8"));
  if (!m) throw new Error("k8s/k8s.mk: no INGRESS_NGINX_VERSION");
  return m[1];
}

/** The facts of `version`; throws when the file is missing or malformed. */
export function ingressFacts(version) {
  const file = join(K8S, "tests/third-party/ingress-nginx", `${version}.json`);
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const problems = ingressFactsShape(doc);
  if (doc.version !== version) problems.push(`version ${doc.version}, file name says ${version}`);
  if (problems.length) throw new Error(`${file}: ${problems.join("; ")}`);
  return doc;
}
