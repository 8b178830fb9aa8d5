// The pinned renovate package's published configuration schema and facts (.github/tests/third-party/renovate-*/),
// and a validator that rejects unknown options. The schema file stays as published; strictness is added here, in
// memory, because the published schema accepts anything it does not list:
//   - every object schema that lists `properties` gets `additionalProperties: false` (the root included);
//   - the manager objects (`npm: {...}`, `kubernetes: {...}`; in the file a bare `$ref: "#"`, so draft-07 ignores
//     the manager-only options listed beside it) accept the root's options plus those manager-only ones, and a
//     package rule its match* conditions plus the root's options (Renovate lets a rule set any non-global option);
//   - the root accepts `$schema`;
//   - `enabledManagers` accepts only the managers the package knows (its manager list, and custom.<type>).
// Ajv (JSON Schema draft-07): https://ajv.js.org/   Renovate's schema: https://docs.renovatebot.com/renovate-schema.json
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';

const here = path.dirname(fileURLToPath(import.meta.url));
const thirdParty = path.resolve(here, '../third-party');

const FACT_KEYS = ['source', 'package', 'version', 'licence', 'derivedFrom', 'configFileNames', 'managerList', 'customManagerList', 'managers', 'ignorePaths', 'presetIgnorePaths'];

/** The one renovate-<version> folder. */
function folder() {
  const dirs = readdirSync(thirdParty).filter((d) => /^renovate-\d+\.\d+\.\d+$/.test(d));
  if (dirs.length !== 1) throw new Error(`${thirdParty}: expected exactly one renovate-<version> folder, found ${dirs.join(', ') || 'none'}`);
  return path.join(thirdParty, dirs[0]);
}

/** facts.json, read strictly (every key present, no other key), its version = the folder's. */
export function renovateFacts() {
  const dir = folder();
  const facts = JSON.parse(readFileSync(path.join(dir, 'facts.json'), 'utf8'));
  const problems = [];
  for (const k of Object.keys(facts)) if (!FACT_KEYS.includes(k)) problems.push(`unknown key ${k}`);
  for (const k of FACT_KEYS) if (!(k in facts)) problems.push(`missing key ${k}`);
  if (`renovate-${facts.version}` !== path.basename(dir)) problems.push(`version ${facts.version}, folder ${path.basename(dir)}`);
  if (!Array.isArray(facts.managerList) || facts.managerList.length < 50) problems.push('managerList: not the package manager list');
  if (problems.length) throw new Error(`${dir}/facts.json: ${problems.join('; ')}`);
  return facts;
}

/** The published schema, unchanged. */
export function renovateSchema() {
  return JSON.parse(readFileSync(path.join(folder(), 'renovate-schema.json'), 'utf8'));
}

/** The schema made strict as described at the top of this file. */
export function strictSchema(schema = renovateSchema(), facts = renovateFacts()) {
  const s = structuredClone(schema);
  const close = (node) => {
    if (Array.isArray(node)) return node.forEach(close);
    if (!node || typeof node !== 'object') return;
    if (node.properties && !('additionalProperties' in node)) node.additionalProperties = false;
    for (const v of Object.values(node)) close(v);
  };
  // The root accepts `$schema` (editors and Renovate read it); everything else it accepts is listed.
  s.properties = { $schema: { type: 'string' }, ...s.properties };
  const rootProps = s.properties;
  // Manager and update-type objects (a bare `$ref: "#"` in the file): one shared definition, the root's options
  // plus the union of the options listed beside those references.
  const nested = Object.entries(s.definitions).filter(([, def]) => def.$ref === '#');
  if (nested.length < 50) throw new Error(`only ${nested.length} manager definitions found: the schema's layout changed`);
  const own = Object.assign({}, ...nested.map(([, def]) => def.items?.allOf?.[0]?.properties ?? {}));
  s.definitions.__configObject = { type: 'object', properties: { ...rootProps, ...own }, additionalProperties: false };
  for (const [name, def] of nested) s.definitions[name] = { description: def.description, $ref: '#/definitions/__configObject' };
  // A package rule holds its match* conditions and any option of the configuration.
  const rule = s.definitions.packageRules?.items?.allOf?.[0];
  if (!rule?.properties?.matchPackageNames) throw new Error('packageRules: the schema no longer lists its match options');
  rule.properties = { ...rootProps, ...rule.properties };
  close(s);
  const enabled = s.definitions.enabledManagers;
  if (enabled?.items?.type !== 'string') throw new Error('enabledManagers is no longer a list of strings');
  enabled.items.enum = [...facts.managerList, ...facts.customManagerList.map((c) => `custom.${c}`)];
  return s;
}

let compiled;
/** An Ajv validator of the strict schema (allErrors; keywords and formats only editors know are allowed). Compiled once. */
export function strictValidator() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    compiled = ajv.compile(strictSchema());
  }
  return compiled;
}
