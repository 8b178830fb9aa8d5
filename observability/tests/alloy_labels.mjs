// What the Alloy log pipeline writes to Loki, read from the .alloy files themselves: the stream labels, the
// structured-metadata keys, and for a label normalised by a stage.template the values that template can produce.
// check_queries.mjs compares the dashboards' LogQL with it, so a query on a label the pipeline never writes fails.
//
// Alloy configuration syntax: https://grafana.com/docs/alloy/latest/get-started/configuration-syntax/
// Stages: https://grafana.com/docs/alloy/latest/reference/components/loki/loki.process/
// Relabel rules: https://grafana.com/docs/alloy/latest/reference/components/discovery/discovery.relabel/
//
// Blocks are found wherever they are nested (a `declare` module, a component), so it works whichever file holds
// the pipeline. Labels starting with "__" are internal to Alloy and dropped before Loki, so they are not counted.

// Removes // and /* */ comments outside strings ("..." and `...`).
function stripComments(text) {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += c === '"' && text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1;
      if (i === 0) break;
    } else out += c;
  }
  return out;
}

// The text with the contents of every string ("..." and `...`) blanked, offsets kept: braces and words inside
// strings (a template's "{{ if ... }}WARN{{") are then not mistaken for blocks.
function maskStrings(text) {
  return text.replace(/"(?:[^"\\\n]|\\.)*"|`[^`]*`/g, (s) => s[0] + ' '.repeat(s.length - 2) + s[0]);
}

// Index just after the brace that closes the one at `open` (in masked text).
function closing(masked, open) {
  let depth = 0;
  for (let i = open; i < masked.length; i += 1) {
    if (masked[i] === '{') depth += 1;
    else if (masked[i] === '}') { depth -= 1; if (depth === 0) return i + 1; }
  }
  throw new Error(`unbalanced braces from offset ${open}`);
}

// Every block, nested ones included: { name, label, body (the text between its braces) }.
function blocks(text) {
  const masked = maskStrings(text);
  const found = [];
  const header = /(^|[\s{}])([A-Za-z_][\w.]*)\s*("[^"]*"\s*)?\{/g;
  let m;
  while ((m = header.exec(masked)) !== null) {
    const open = m.index + m[0].length - 1;
    const labelAt = m[3] ? m.index + m[0].indexOf(m[3]) : -1;
    const label = m[3] ? text.slice(labelAt + 1, labelAt + m[3].trimEnd().length - 1) : null;
    found.push({ name: m[2], label, body: text.slice(open + 1, closing(masked, open) - 1) });
  }
  return found;
}

// Value of an attribute `key = ...` directly in a block body: an object's keys, a string, or undefined.
function objectKeys(body, key) {
  const masked = maskStrings(body);
  const m = new RegExp(`(^|\\s)${key}\\s*=\\s*\\{`).exec(masked);
  if (!m) return null;
  const open = m.index + m[0].length - 1;
  const inner = masked.slice(open + 1, closing(masked, open) - 1);
  return [...inner.matchAll(/(?:^|[\s,])("?)([A-Za-z_][\w]*)\1\s*=/g)].map((x) => x[2]);
}
function stringAttr(body, key) {
  const m = new RegExp(`(^|\\s)${key}\\s*=\\s*("((?:[^"\\\\]|\\\\.)*)"|\`([^\`]*)\`)`).exec(body);
  return m ? (m[3] !== undefined ? m[3] : m[4]) : null;
}

// Literal outputs of a Go text/template: the text between actions, e.g. "WARN" in {{ if ... }}WARN{{ end }}.
// Whether the template can also pass its input through ({{ . }}) is reported, since those values are open.
function templateOutputs(template) {
  const literals = template.split(/\{\{.*?\}\}/s).map((s) => s.trim()).filter(Boolean);
  return { literals, passThrough: /\{\{-?\s*\.(Value)?\s*-?\}\}/.test(template) };
}

/**
 * @param {{file: string, text: string}[]} sources the .alloy files
 * @returns {{streamLabels: Map<string,string>, metadata: Map<string,string>, values: Map<string,{literals:string[],passThrough:boolean,where:string}>}}
 *   label/key -> the file and block that writes it
 */
export function alloyLogLabels(sources) {
  const streamLabels = new Map();
  const metadata = new Map();
  const templates = [];
  for (const { file, text } of sources) {
    const clean = stripComments(text);
    for (const b of blocks(clean)) {
      const where = `${file} ${b.name}${b.label ? ` "${b.label}"` : ''}`;
      if (b.name === 'stage.labels' || b.name === 'stage.static_labels') {
        for (const k of objectKeys(b.body, 'values') || []) streamLabels.set(k, where);
      } else if (b.name === 'stage.structured_metadata') {
        for (const k of objectKeys(b.body, 'values') || []) metadata.set(k, where);
      } else if (b.name.startsWith('loki.source.')) {
        for (const k of objectKeys(b.body, 'labels') || []) streamLabels.set(k, where);
      } else if (b.name === 'rule') {
        const target = stringAttr(b.body, 'target_label');
        const action = (stringAttr(b.body, 'action') || 'replace').toLowerCase();
        if (target && ['replace', 'lowercase', 'uppercase', 'hashmod'].includes(action)) {
          streamLabels.set(target, `${file} relabel rule`);
        }
      } else if (b.name === 'stage.template') {
        const source = stringAttr(b.body, 'source');
        const template = stringAttr(b.body, 'template');
        if (source && template) templates.push({ source, where, ...templateOutputs(template) });
      }
    }
  }
  for (const map of [streamLabels, metadata]) {
    for (const k of [...map.keys()]) if (k.startsWith('__')) map.delete(k);
  }
  // A template on a label's source decides the values that label can take (the last stage wins; one is expected).
  const values = new Map();
  for (const t of templates) {
    if (streamLabels.has(t.source)) values.set(t.source, t);
  }
  return { streamLabels, metadata, values };
}

// The relabel rules of one .alloy file, wherever they are nested: { source_labels: [..], target_label, replacement,
// action } (attributes that are absent stay undefined). check_queries.mjs reads from them where a deployment's
// log streams get their `environment`.
export function alloyRelabelRules(text) {
  return blocks(stripComments(text)).filter((b) => b.name === 'rule').map((b) => {
    const m = /(^|\s)source_labels\s*=\s*\[([^\]]*)\]/.exec(b.body);
    return {
      source_labels: m ? [...m[2].matchAll(/"([^"]*)"/g)].map((x) => x[1]) : undefined,
      target_label: stringAttr(b.body, 'target_label') ?? undefined,
      replacement: stringAttr(b.body, 'replacement') ?? undefined,
      action: (stringAttr(b.body, 'action') || 'replace').toLowerCase(),
    };
  });
}
