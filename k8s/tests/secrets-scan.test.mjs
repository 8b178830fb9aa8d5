// No committed manifest or configuration carries a literal credential (k8s/README.md, "Secrets"): the scanner of
// lib/secretscan.mjs over every file git tracks (or would track) below the folders Kubernetes, CI and the tools read.
// compose/ is scanned too, with one allowance: compose's local-only defaults, the settings of compose/.env whose value
// ends in "-local-only" (marked as such there and named in compose/README.md); anything else in compose fails like
// everywhere else. The scanner's own fixtures are written here at run time (so no credential-shaped text is committed), one per kind, and each must be
// caught for its own rule, next to near misses it must let pass.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { scanText } from "./lib/secretscan.mjs";
import { REPO } from "./lib/render.mjs";

/** The scanned folders, and what below them is not ours to scan (dependencies, upstream material). */
export const SCAN_ROOTS = ["k8s", "observability", "backup", "loadtest", ".github", "toolchain", "compose"];
/** Where compose keeps its local-only defaults, and how each is marked (its value). */
export const LOCAL_ONLY_FILE = "compose/.env";
const LOCAL_ONLY_VALUE = /^([A-Z0-9_]+)=\S*-local-only$/;

/** The name of the local-only default a finding is, or undefined: only credential settings of compose/.env, marked. */
export function localOnlyDefault(finding, text) {
  if (finding.file !== LOCAL_ONLY_FILE || finding.rule !== "credential-setting") return undefined;
  return LOCAL_ONLY_VALUE.exec(text.split("\n")[finding.line - 1]?.trim() ?? "")?.[1];
}
/** Findings of the committed files, without compose's local-only defaults. */
export function scanFiles(files, read) {
  return files.flatMap((f) => {
    const text = read(f);
    return scanText(f, text).filter((x) => !localOnlyDefault(x, text));
  });
}
const SKIP = /(^|\/)(node_modules|third-party|target)\/|(^|\/)package-lock\.json$/;
/** Manifests, configuration, scripts and docs; not test code (.mjs, .py, .java), whose throwaway databases on
 * loopback use local passwords that the tests themselves create. */
const SCANNED = /\.(ya?ml|json5?|env|properties|alloy|conf|tmpl|toml|ini|tsv|txt|sh|mk|md)$|(^|\/)(Makefile|Dockerfile|\.env\.[^/]+)$/;

export function scannedFiles() {
  const list = (...args) => execFileSync("git", ["-C", REPO, "ls-files", "-z", ...args, "--", ...SCAN_ROOTS], { encoding: "utf8" }).split("\0").filter(Boolean);
  return [...new Set([...list(), ...list("--others", "--exclude-standard")])].filter((f) => SCANNED.test(f) && !SKIP.test(f)).sort();
}

describe("literal credentials in committed manifests and configuration", () => {
  const files = scannedFiles();
  test("the scan covers every root, Kubernetes manifests, workflows and observability configs", () => {
    for (const root of SCAN_ROOTS) assert.ok(files.some((f) => f.startsWith(`${root}/`)), `nothing scanned below ${root}/`);
    for (const f of ["k8s/base/grafana.yaml", "k8s/base/app/shop.yaml", "observability/alertmanager/alertmanager.yml", ".github/workflows/ci.yml"]) assert.ok(files.includes(f), `${f} is not scanned`);
    assert.ok(files.length > 100, `only ${files.length} files scanned`);
  });
  test("none carries one", () => {
    const findings = scanFiles(files, (f) => readFileSync(join(REPO, f), "utf8"));
    assert.deepEqual(findings.map((x) => `${x.file}:${x.line}: ${x.rule}: ${x.what}`), []);
  });
  test("compose keeps its local-only defaults and says so: marked in compose/.env, each named in compose/README.md", () => {
    const text = readFileSync(join(REPO, LOCAL_ONLY_FILE), "utf8");
    const names = scanText(LOCAL_ONLY_FILE, text).map((x) => localOnlyDefault(x, text)).filter(Boolean);
    assert.ok(names.length >= 1, "no local-only default found in compose/.env");
    assert.match(text, /local-only defaults/i, "compose/.env does not call them local-only defaults");
    const readme = readFileSync(join(REPO, "compose/README.md"), "utf8");
    assert.match(readme, /local-only defaults/i, "compose/README.md does not say compose has local-only defaults");
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `compose/README.md does not name ${name}`);
  });
});

// Credential-shaped text built at run time, never committed whole.
const PEM = ["-----BEGIN", "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"].join(" ");
const API_KEY = ["shop", "Q2hhbmdlTWVDaGFuZ2VNZUNoYW5nZU1lQ2hhbmdlTWU"].join("_");

/** One fixture per kind: file name, text, the rule that must catch it. */
export const FIXTURES = [
  ["secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-but-longer\n", "secret-data"],
  ["secret-data.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n", "secret-data"],
  ["deploy.yaml", "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: DB_PASSWORD\n              value: hunter2\n", "credential-setting"],
  ["workflow.yml", "jobs:\n  e2e:\n    env:\n      API_TOKEN: abc123def456\n", "credential-setting"],
  ["settings.env", "# demo\nS3_SECRET_KEY=abc123def456\n", "credential-setting"],
  ["app.properties", "quarkus.datasource.password=hunter2\n", "credential-setting"],
  ["minio.yaml", "rootUser: shop\nsecretKey: hunter2-but-longer\n", "credential-setting"],
  ["openbao.yaml", "env:\n  - name: BAO_DEV_ROOT_TOKEN_ID\n    value: s.abc123def456\n", "credential-setting"],
  ["datasource.yaml", "datasources:\n  - url: postgres://shop:hunter2@postgres:5432/shop\n", "url-userinfo"],
  ["tls.yaml", `tls.key: |\n  ${PEM.replaceAll("\n", "\n  ")}\n`, "private-key"],
  ["notes.md", `curl -H "Authorization: Bearer ${API_KEY}" https://localhost/api/products\n`, "shop-api-key"],
  ["generator/kustomization.yaml", "configMapGenerator:\n  - name: shop\n    literals:\n      - QUARKUS_DATASOURCE_PASSWORD=hunter2\n", "credential-setting"],
  ["secret-generator/kustomization.yaml", "secretGenerator:\n  - name: object-store\n    literals:\n      - access=abc123def456\n", "secret-data"],
  ["patch/kustomization.yaml", "patches:\n  - target: {kind: Deployment, name: shop}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/env/-\n        value: {name: DB_PASSWORD, value: hunter2}\n", "credential-setting"],
];

/** compose: only compose/.env's marked settings are local-only defaults; the same value elsewhere is a finding. */
const COMPOSE = [
  ["compose/.env", "POSTGRES_PASSWORD=hunter2\n", false],
  ["compose/.env", "GRAFANA_ADMIN_PASSWORD=admin-local-only\n", true],
  ["compose/compose.yaml", "services:\n  grafana:\n    environment:\n      GF_SECURITY_ADMIN_PASSWORD: admin-local-only\n", false],
  ["compose/.env.example", "GRAFANA_ADMIN_PASSWORD=admin-local-only\n", false],
];

/** Near misses: references to credentials, names of Secrets, files holding a credential. */
const CLEAN = [
  ["refs.yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: shop-db\n        key: password\n  - name: OTHER_TOKEN\n    value: $(TOKEN)\nvolumes:\n  - secret:\n      secretName: shop-api-keys\n"],
  // A workflow's permissions are the scopes of its token, not a credential.
  ["permissions.yml", "permissions:\n  id-token: write\n  contents: read\njobs:\n  sign:\n    permissions:\n      id-token: write\n"],
  ["workflow.yml", "env:\n  GH_TOKEN: ${{ github.token }}\n  PASSWORD: ${{ secrets.PASSWORD }}\nautomountServiceAccountToken: false\n"],
  ["prometheus.yml", "bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token\nurl: http://prometheus:9090/api/v1/write\n"],
  ["settings.env", "GRAFANA_PASSWORD=${GRAFANA_PASSWORD}\nAPI_KEYS_FILE=/etc/shop/auth/api-keys\n"],
  ["secret.yaml", "kind: Secret\nmetadata:\n  name: empty\ndata: {}\n"],
  ["externalsecret.yaml", "kind: ExternalSecret\nspec:\n  data:\n    - secretKey: password\n      remoteRef: {key: shop/grafana-admin, property: password}\n"],
  ["kustomization.yaml", "configMapGenerator:\n  - name: shop\n    literals:\n      - DEPLOYMENT_ENVIRONMENT=production\n      - API_KEYS_FILE=/etc/shop/auth/api-keys\npatches:\n  - patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/env/-\n        value: {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: shop-db, key: password}}}\n"],
  ["affinity.yaml", "topologySpreadConstraints:\n  - topologyKey: kubernetes.io/hostname\n    labelSelector:\n      matchLabels: {app.kubernetes.io/name: shop}\n"],
];

describe("compose's local-only defaults are the only allowance", () => {
  for (const [file, text, allowed] of COMPOSE) {
    test(`${file}: ${text.trim().split("\n").at(-1).trim()} ${allowed ? "allowed" : "caught"}`, () => {
      assert.ok(scanText(file, text).length >= 1, "the scanner does not see it at all");
      assert.equal(scanFiles([file], () => text).length === 0, allowed);
    });
  }
});

describe("the scanner catches each kind and lets references pass", () => {
  test("there are fixtures of every rule", () => {
    assert.deepEqual([...new Set(FIXTURES.map((f) => f[2]))].sort(), ["credential-setting", "private-key", "secret-data", "shop-api-key", "url-userinfo"]);
  });
  for (const [file, text, rule] of FIXTURES) {
    test(`${file}: ${rule}`, () => {
      const findings = scanText(file, text);
      assert.ok(findings.some((f) => f.rule === rule), `not caught: ${JSON.stringify(findings)}`);
      for (const f of findings) assert.doesNotMatch(f.what, /hunter2|abc123|aHVudGVy|Q2hhbmdl/, "a finding repeats the credential");
    });
  }
  for (const [file, text] of CLEAN) {
    test(`${file}: a reference is not a credential`, () => assert.deepEqual(scanText(file, text), []));
  }
});
