// The literal-credential scanner (k8s/README.md, "Secrets"): finds credentials written into committed manifests and
// configuration. Five kinds: values of a Secret's data/stringData; literal values of settings whose name says
// PASSWORD, TOKEN, SECRET or KEY (env lists, env maps, KEY=value files); URLs with a password in their userinfo;
// PEM private keys; shop API keys (Contract A of issue 13: "shop_" + 43 base64url characters).
// Kustomize: generator literals (KEY=value, any value of a secretGenerator) and inline patches (scanned as YAML).
// A value that only refers to a credential is not one: ${VAR}, $(VAR), ${{ secrets.X }}, a *_file/*_path setting.
// Free of I/O apart from the files it is given. YAML: https://eemeli.org/yaml/
import { parseAllDocuments } from "yaml";

/** Names of environment variables and KEY=value settings that carry a credential (*PASSWORD*, *TOKEN*, *SECRET*, *KEY*). */
export const CREDENTIAL_NAME = /password|passwd|token|secret|key/i;
/** Other YAML keys: without the bare "key", which Kubernetes uses for label keys (topologyKey) and Secret key names. */
const CREDENTIAL_KEY = /password|passwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key/i;
/** Mapping keys whose children are environment variables (GitHub Actions, compose-like files). */
const ENV_MAP = /^(env|environment)$/;
/** ...except settings that name where a credential is (a file, a path, a reference) rather than holding one. */
const REFERENCE_NAME = /(_file|_path|file|path|ref|name)$/i;
/** A value that refers to a credential held elsewhere: shell, kustomize or Kubernetes $(VAR), GitHub expressions. */
const REFERENCE_VALUE = /^\s*(\$\{\{[^}]*\}\}|\$\{[^}]+\}|\$\([^)]+\)|\$[A-Za-z_][A-Za-z0-9_]*)\s*$/;
const URL_USERINFO = /\b[a-z][a-z0-9+.-]*:\/\/([^\s/:@'"<>]+):([^\s/@'"<>]+)@/gi;
const PEM_PRIVATE = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
const SHOP_KEY = /(?<![A-Za-z0-9_-])shop_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/;
const YAML_FILE = /\.ya?ml$/;
const KEY_VALUE_FILE = /(\.env|\.properties)$|(^|\/)\.env\.[^/]+$/;

const literal = (v) => typeof v === "string" && v.trim() !== "" && !REFERENCE_VALUE.test(v);
const lineOf = (text, index) => text.slice(0, index).split("\n").length;

/** The name of a KEY=value (or KEY: value) setting that holds a literal credential, else undefined. */
function credentialSetting(line) {
  const kv = /^(?:export\s+)?([A-Za-z0-9_.%-]+)\s*[=:]\s*(.*)$/.exec(line);
  if (kv && CREDENTIAL_NAME.test(kv[1]) && !REFERENCE_NAME.test(kv[1]) && literal(kv[2].replace(/^["']|["']$/g, ""))) return kv[1];
  return undefined;
}

/** Findings { file, line, rule, what } in one file's text (values are never repeated in `what`). */
export function scanText(file, text) {
  const findings = [];
  const add = (line, rule, what) => findings.push({ file, line, rule, what });
  const m = PEM_PRIVATE.exec(text);
  if (m) add(lineOf(text, m.index), "private-key", "a PEM private key");
  const k = SHOP_KEY.exec(text);
  if (k) add(lineOf(text, k.index), "shop-api-key", "a shop API key");
  for (const u of text.matchAll(URL_USERINFO)) {
    if (!REFERENCE_VALUE.test(u[2])) add(lineOf(text, u.index), "url-userinfo", `a URL with the password of user ${u[1]}`);
  }
  if (YAML_FILE.test(file)) findings.push(...scanYaml(file, text));
  if (KEY_VALUE_FILE.test(file)) {
    text.split("\n").forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#") || line.startsWith("!")) return;
      const name = credentialSetting(line);
      if (name) add(i + 1, "credential-setting", `${name} has a literal value`);
    });
  }
  return findings;
}

/** YAML rules: Secret data, env lists ({name, value}), env maps, and credential-named keys anywhere. */
function scanYaml(file, text) {
  const findings = [];
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return findings;
  }
  const lineAt = (node) => (node?.range ? lineOf(text, node.range[0]) : 0);
  for (const doc of docs) {
    if (doc.errors.length) continue;
    const walk = (node, path) => {
      if (!node || typeof node !== "object") return;
      if (node.items && node.constructor.name === "YAMLMap") {
        const obj = Object.fromEntries(node.items.map((p) => [String(p.key?.value ?? p.key), p.value]));
        // A Secret's data/stringData (any value: the whole Secret is the credential).
        if (obj.kind?.value === "Secret") {
          for (const field of ["data", "stringData"]) {
            for (const p of obj[field]?.items ?? []) {
              if (literal(String(p.value?.value ?? ""))) findings.push({ file, line: lineAt(p.value), rule: "secret-data", what: `Secret ${field}.${p.key?.value} holds a value` });
            }
          }
        }
        // An env list entry {name: X_PASSWORD, value: literal}.
        if (obj.name && obj.value && typeof obj.name.value === "string" && CREDENTIAL_NAME.test(obj.name.value) && !REFERENCE_NAME.test(obj.name.value) && literal(obj.value.value)) {
          findings.push({ file, line: lineAt(obj.value), rule: "credential-setting", what: `${obj.name.value} has a literal value` });
        }
        for (const p of node.items) {
          const key = String(p.key?.value ?? p.key);
          // A mapping key named like a credential with a literal string: env maps (workflows, compose-like), configs.
          // (Not under a workflow's `permissions:`, whose keys are scopes the job's token gets: `id-token: write`.)
          const named = path.at(-1) === "permissions" ? false : ENV_MAP.test(path.at(-1) ?? "") ? CREDENTIAL_NAME.test(key) : CREDENTIAL_KEY.test(key);
          // An ExternalSecret's data item names the key of the Secret it writes (secretKey) next to where it reads it.
          const esoKeyName = key === "secretKey" && "remoteRef" in obj;
          if (p.value?.constructor?.name === "Scalar" && named && !esoKeyName && !REFERENCE_NAME.test(key) && literal(p.value.value)) {
            findings.push({ file, line: lineAt(p.value), rule: "credential-setting", what: `${[...path, key].join(".")} has a literal value` });
          }
          // A kustomize inline patch (strategic merge or JSON 6902) is YAML in a string: scanned like a file.
          if (key === "patch" && p.value?.constructor?.name === "Scalar" && typeof p.value.value === "string") {
            const at = lineAt(p.value);
            for (const f of scanYaml(file, p.value.value)) findings.push({ ...f, line: at + f.line, what: `patch: ${f.what}` });
          }
          walk(p.value, [...path, key]);
        }
      } else if (node.items) {
        // Kustomize generator literals ("KEY=value"): a secretGenerator's value is a credential whatever its name.
        if (path.at(-1) === "literals") {
          const secretGenerator = path.at(-3) === "secretGenerator";
          for (const item of node.items) {
            const line = String(item?.value ?? "");
            const name = secretGenerator ? /^([^=]+)=(.+)$/.exec(line)?.[1] : credentialSetting(line);
            if (name) findings.push({ file, line: lineAt(item), rule: secretGenerator ? "secret-data" : "credential-setting", what: `${path.join(".")}: ${name} has a literal value` });
          }
        }
        node.items.forEach((item, i) => walk(item, [...path, String(i)]));
      }
    };
    walk(doc.contents, []);
  }
  return findings;
}
