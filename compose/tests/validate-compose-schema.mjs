// Validates compose/compose.yaml against the Compose Specification JSON schema (compose-spec.json, a copy of
// https://github.com/compose-spec/compose-spec/blob/main/schema/compose-spec.json kept beside this file).
//
// Why: there is no Docker engine on CI machines, and docker-compose 1.29 only knows an older schema. This check
// catches misspelled keys and wrong types exactly as `docker compose config` would, without an engine.
//
// Steps: read compose/.env, interpolate ${VAR} / ${VAR:-default} / $$ like Compose does, parse the YAML with
// merge keys (<<) resolved, validate. A second run feeds a deliberately broken copy (misspelled key) and
// requires the schema to reject it, so a validator that accepts everything cannot pass.
// Usage: node validate-compose-schema.mjs [path/to/compose.yaml] [path/to/.env]
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const composePath = process.argv[2] ?? join(here, "..", "compose.yaml");
const envPath = process.argv[3] ?? join(here, "..", ".env");

function readEnvFile(path) {
  const vars = {};
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 1) throw new Error(`${path}: not KEY=VALUE: ${line}`);
    vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return vars;
}

// Compose interpolation: $$ is a literal $, ${NAME}, ${NAME:-default}, ${NAME-default}, $NAME.
function interpolate(text, vars, missing) {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced, fallback, bare) => {
      if (match === "$$") return "$";
      const name = braced ?? bare;
      if (name in vars && vars[name] !== "") return vars[name];
      if (fallback !== undefined) return fallback;
      missing.add(name);
      return "";
    });
}

const schema = JSON.parse(readFileSync(join(here, "compose-spec.json"), "utf8"));
// The spec names its meta-schema without the trailing '#'; Ajv only knows draft-07 by its canonical id.
delete schema.$schema;
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

function check(label, doc) {
  const ok = validate(doc);
  const errors = ok ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}` +
    (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""));
  return { label, ok, errors };
}

const missing = new Set();
const text = interpolate(readFileSync(composePath, "utf8"), readEnvFile(envPath), missing);
const doc = YAML.parse(text, { merge: true });

const results = [];
results.push({ label: "every ${VAR} in compose.yaml is defined in .env", ok: missing.size === 0,
  errors: [...missing].map((n) => `undefined variable ${n}`) });
results.push(check("compose.yaml matches the Compose Specification schema", doc));

const broken = structuredClone(doc);
const first = Object.keys(broken.services)[0];
broken.services[first].helthcheck = broken.services[first].healthcheck;
const negative = check("a misspelled key (helthcheck) is rejected by the same schema", broken);
results.push({ label: negative.label, ok: !negative.ok, errors: negative.ok ? ["schema accepted it"] : [] });

let failed = 0;
for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.label}`);
  for (const e of r.errors) console.log(`       ${e}`);
  if (!r.ok) failed += 1;
}
console.log(`schema: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
