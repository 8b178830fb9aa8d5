// Rendering and project facts for the k8s tests: kustomize builds, YAML parsing, application.properties,
// compose/.env and pom.xml.
// kustomize (built into kubectl): https://kubectl.docs.kubernetes.io/references/kustomize/
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const K8S = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const REPO = resolve(K8S, "..");

/** Every folder that CI builds: the overlays and the combinations under k8s/tests. */
export function buildDirs() {
  const dirs = [];
  for (const parent of ["overlays", "tests"]) {
    const base = join(K8S, parent);
    for (const name of readdirSync(base).sort()) {
      if (existsSync(join(base, name, "kustomization.yaml"))) dirs.push(join(base, name));
    }
  }
  return dirs;
}

export const rel = (p) => relative(REPO, p);

/** The overlay a build folder deploys: overlays/<name> itself, or <overlay> of a combination tests/<overlay>-<component>. */
export const overlayOf = (dir) => (basename(dirname(dir)) === "overlays" ? basename(dir) : basename(dir).split("-")[0]);

/** Parses a multi-document YAML string; throws on the first syntax error. */
export function parseYaml(text, source) {
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

const cache = new Map();
/** `kubectl kustomize DIR`, parsed. */
export function build(dir) {
  if (!cache.has(dir)) {
    const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 << 20 });
    cache.set(dir, parseYaml(out, rel(dir)));
  }
  return cache.get(dir);
}

export function loadYamlFile(path) {
  return parseYaml(readFileSync(path, "utf8"), rel(path));
}

/** key=value lines of a .properties or .env file (no continuation lines are used in this project). */
export function readKeyValues(path) {
  const map = new Map();
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("!")) continue;
    const eq = line.indexOf("=");
    if (eq > 0) map.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return map;
}

export const appProperties = () => readKeyValues(join(REPO, "src/main/resources/application.properties"));
export const composeEnv = () => readKeyValues(join(REPO, "compose/.env"));

/** The project version: the first <version> after <artifactId>shop</artifactId> in pom.xml. */
export function pomVersion() {
  const pom = readFileSync(join(REPO, "pom.xml"), "utf8");
  const match = pom.match(/<artifactId>shop<\/artifactId>\s*<version>([^<]+)<\/version>/);
  if (!match) throw new Error("pom.xml: no <version> after <artifactId>shop</artifactId>");
  return match[1];
}
