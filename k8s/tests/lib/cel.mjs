// The CEL validation rules (`x-kubernetes-validations`) of third-party CRD schemas, evaluated the way the API server
// evaluates them when an object is created: schema defaults applied first, each rule with `self` bound to the value of
// the schema node that carries it (only when that value is present), property names escaped, a false rule or an
// evaluation error rejects the object. Transition rules (`oldSelf`) apply to updates only and are skipped.
// Why: the Gateway API's CRDs state much of their contract as CEL (a filter's type must match its field, one
// RequestRedirect per rule, no redirect next to backends, unique listener names, ...); the JSON Schema part alone
// accepts objects the API server refuses.
// CRD validation rules: https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules
// Escaping of property names: same page, "Escaping" (reserved words -> __word__; _ . - / -> __ __dot__ __dash__ __slash__).
// Defaulting: same page, "Defaulting". CEL evaluator: https://github.com/marcbachmann/cel-js (k8s/tests/package.json).
import { Environment } from "@marcbachmann/cel-js";

const RESERVED = new Set(["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);

/** A JSON property name as CEL expressions of CRD rules name it. */
export function escapeProperty(name) {
  if (RESERVED.has(name)) return `__${name}__`;
  return name.replaceAll("_", "__").replaceAll(".", "__dot__").replaceAll("-", "__dash__").replaceAll("/", "__slash__");
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** A copy of `value` with the schema's defaults applied where a property is absent (recursively, as the API server). */
export function withDefaults(schema, value) {
  if (!schema) return value;
  if (Array.isArray(value)) return value.map((v) => withDefaults(schema.items, v));
  if (!isObject(value)) return value;
  const out = { ...value };
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    if (out[name] === undefined && s.default !== undefined) out[name] = structuredClone(s.default);
    if (out[name] !== undefined) out[name] = withDefaults(s, out[name]);
  }
  if (isObject(schema.additionalProperties)) {
    for (const name of Object.keys(out)) if (!(name in (schema.properties ?? {}))) out[name] = withDefaults(schema.additionalProperties, out[name]);
  }
  return out;
}

/** The CEL value of `value` under `schema`: objects with declared properties get escaped names, maps keep their keys. */
function celValue(schema, value) {
  if (Array.isArray(value)) return value.map((v) => celValue(schema?.items, v));
  if (!isObject(value)) return value;
  if (schema?.properties) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeProperty(k), celValue(schema.properties[k], v)]));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celValue(isObject(schema?.additionalProperties) ? schema.additionalProperties : undefined, v)]));
}

/**
 * The rule as cel-js evaluates it: cel-js's has() accepts only a field path from a variable (`has(self.a.b)`), CEL's
 * accepts any operand (`has(self.matches[0].path)`, used by the Gateway API). Such a has(e.f) becomes the equivalent
 * optional selection `(e).?f.hasValue()` (true exactly when e holds the field f); every other rule is left as it is.
 */
export function portableRule(rule) {
  let out = "";
  let i = 0;
  for (let m; (m = /\bhas\(/g.exec(rule.slice(i))); ) {
    const start = i + m.index + m[0].length;
    let depth = 1;
    let end = start;
    for (; end < rule.length && depth > 0; end++) depth += rule[end] === "(" ? 1 : rule[end] === ")" ? -1 : 0;
    const arg = rule.slice(start, end - 1);
    const sel = /^(.*\])\.([A-Za-z_]\w*)$/.exec(arg.trim());
    out += rule.slice(i, i + m.index) + (sel ? `(${sel[1]}).?${sel[2]}.hasValue()` : `has(${arg})`);
    i = end;
  }
  return out + rule.slice(i);
}

const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false, enableOptionalTypes: true });
const compiled = new Map();
const program = (rule) => {
  if (!compiled.has(rule)) compiled.set(rule, env.parse(portableRule(rule)));
  return compiled.get(rule);
};

/** Every rule of `schema` that `value` breaks, as "<path>: <message>"; an empty list when all hold. */
export function celProblems(schema, value, path = "") {
  const problems = [];
  const visit = (s, v, p) => {
    if (!s || v === undefined || v === null) return;
    for (const r of s["x-kubernetes-validations"] ?? []) {
      if (/\boldSelf\b/.test(r.rule)) continue;
      let ok;
      try {
        ok = program(r.rule)({ self: celValue(s, v) });
      } catch (e) {
        problems.push(`${p || "/"}: CEL rule could not be evaluated (${String(e.message).split("\n")[0]}): ${r.rule}`);
        continue;
      }
      if (ok !== true) problems.push(`${p || "/"}: ${r.message ?? `failed rule: ${r.rule}`}`);
    }
    if (Array.isArray(v)) v.forEach((x, i) => visit(s.items, x, `${p}/${i}`));
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        const child = s.properties?.[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
        visit(child, x, `${p}/${k}`);
      }
    }
  };
  visit(schema, withDefaults(schema, value), path);
  return problems;
}
