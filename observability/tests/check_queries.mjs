// Static checks of the Grafana dashboards and Prometheus rules, and the query manifest for the live check.
//
//   node observability/tests/check_queries.mjs [--manifest FILE]
//
// Parses every query with the grammar of the backend that runs it (Lezer grammars published by the
// projects themselves): PromQL (@prometheus-io/lezer-promql), LogQL (@grafana/lezer-logql),
// TraceQL (@grafana/lezer-traceql). Checks that
//   - dashboards are valid JSON with unique uids and panel ids, variables `service` and `instance`, and only
//     datasource uids that observability/grafana/provisioning/datasources/*.yaml defines, with the same type;
//   - every alert has severity page|ticket, summary, description and a runbook_url whose anchor is a section of
//     observability/prometheus/RUNBOOK.md (and every runbook section belongs to an alert);
//   - every alert has a promtool test where it fires and one where it stays quiet;
//   - recording rule names follow level:metric:operations;
//   - time-series latency panels on the request histogram ask for exemplars;
//   - kube_* and cnpg_* names exist in the upstream lists under third-party/ (components absent from the live check);
//   - environments: every dashboard has the variable `environment` and every one of its PromQL, LogQL and TraceQL
//     queries filters on it (ENV_EXEMPT lists dashboards that may not, with the reason); every `by (...)` of a rule
//     keeps `environment`; every compose scrape job and the compose Alloy set the value compose.yaml gives the shop as
//     DEPLOYMENT_ENVIRONMENT; the Kubernetes scrape configs and Alloy take it from the pod label `environment`;
//     Loki stream labels stay a small, fixed set.
// Writes a manifest (every query with dashboard variables replaced, its metric names and label names) that
// verify_live.py evaluates on a real Prometheus. Exits 1 on any failed check.
// Dashboard JSON model: https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
// Rule files: https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as traceqlParser } from '@grafana/lezer-traceql';
import { alloyLogLabels, alloyRelabelRules } from './alloy_labels.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const obs = path.resolve(here, '..');
const args = process.argv.slice(2);
const manifestPath = args.includes('--manifest') ? args[args.indexOf('--manifest') + 1] : null;
// --stack-queries FILE: the dashboard queries live-exclusions.tsv leaves to the compose stack (Loki, Tempo), as JSON,
// for .github/scripts/verify-stack.sh to evaluate against the real backends (make verify-stack).
const stackQueriesPath = args.includes('--stack-queries') ? args[args.indexOf('--stack-queries') + 1] : null;
const STACK_COMPONENTS = new Set(['loki', 'tempo']);

const errors = [];
const fail = (msg) => errors.push(msg);
const rel = (p) => path.relative(path.resolve(obs, '..'), p);
const listFiles = (dir, re) => fs.existsSync(dir)
  ? fs.readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f)) : [];

// ---- environments -------------------------------------------------------------------------------------------
// One observability stack watches several environments. Every series, log stream and trace says which one it comes
// from (label `environment`; traces: resource attribute deployment.environment), and a dashboard shows one at a time:
// the template variable `environment` selects it, and every query of the dashboard filters on it. A dashboard that is
// not about the shop may be exempted here, with the reason (a stale entry fails).
const ENV_VAR = 'environment';
const ENV_EXEMPT = new Map([
  // ['<dashboard uid>', '<why its queries do not filter by environment>'],
  ['argocd', 'one Argo CD deploys every environment and the shared stack, which belongs to none: the dashboard shows '
    + 'all Applications at once, each row with the environment its destination namespace gives it'],
]);
// Rule files whose series carry no environment (components outside the environments, e.g. cluster-wide controllers),
// so their `by (...)` need not keep one, with the reason (a stale entry fails).
const ENV_EXEMPT_RULES = new Map([
  // ['<rule file name>', '<why its series have no environment label>'],
]);
// The values the overlays and compose give the label (issue 11's convention); compose's is also read from compose.yaml.
const ENVIRONMENTS = new Set(['compose', 'kind', 'staging', 'production']);
// Loki stream labels: each value multiplies the streams, so the set stays small and fixed (ids are structured metadata).
const LOKI_STREAM_LABELS = new Set(['service', 'environment', 'level', 'pod']);
const ENV_MATCH = `"$${ENV_VAR}"`;

// Values the dashboards' Grafana macros get for parsing and for the live evaluation. $__rate_interval must be
// at least four scrape intervals of the live run (5 s); one minute keeps a rate() over several samples.
const MACROS = { __rate_interval: '1m', __interval: '1m', __range: '1h', __auto: '1m' };

function substitute(expr, vars) {
  const all = { ...MACROS, ...vars };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (m, a, b) => {
    const name = a || b;
    if (!(name in all)) { throw new Error(`unknown variable $${name}`); }
    return all[name];
  });
}

// ---- parsing -------------------------------------------------------------------------------------------------
function syntaxErrors(parser, text) {
  const tree = parser.parse(text);
  const bad = [];
  tree.iterate({ enter: (n) => { if (n.type.isError) bad.push(n.from); } });
  return bad.map((pos) => `syntax error at ${pos}: ...${text.slice(Math.max(0, pos - 20), pos + 20)}...`);
}

// Metric names (with the label names of their own matchers) and grouping/matching label names of a PromQL query.
function promqlNames(text) {
  const tree = promqlParser.parse(text);
  const selectors = [];
  const grouping = new Set();
  tree.iterate({
    enter: (n) => {
      if (n.name === 'VectorSelector') {
        const sel = { metric: null, labels: [] };
        const c = n.node.cursor();
        if (c.firstChild()) {
          do {
            if (c.name === 'Identifier') sel.metric = text.slice(c.from, c.to);
            if (c.name === 'LabelMatchers') {
              const m = c.node.cursor();
              m.iterate((x) => { if (x.name === 'LabelName') sel.labels.push(text.slice(x.from, x.to)); });
            }
          } while (c.nextSibling());
        }
        selectors.push(sel);
        return false;
      }
      if (n.name === 'GroupingLabels') {
        n.node.cursor().iterate((x) => { if (x.name === 'LabelName') grouping.add(text.slice(x.from, x.to)); });
        return false;
      }
      return undefined;
    },
  });
  return { selectors, grouping: [...grouping] };
}

// The modifiers of a PromQL expression that decide which labels its result keeps: { keeps (true: by/on, only the
// labels listed; false: without/ignoring, all but those), labels, text }. Aggregations' by/without, and on/ignoring of
// binary operations other than and/or/unless (one-to-one arithmetic and comparisons keep only the `on` labels; the
// set operations keep the left side's labels whatever they match on). group_left/group_right labels are not listed.
function labelModifiers(text) {
  const out = [];
  promqlParser.parse(text).iterate({
    enter: (n) => {
      const matching = n.name === 'MatchingModifierClause';
      if (n.name !== 'AggregateModifier' && !matching) return undefined;
      if (matching) {
        const op = n.node.parent && n.node.parent.name === 'BinaryExpr'
          && ['And', 'Or', 'Unless'].some((name) => n.node.parent.getChild(name));
        if (op) return false;
      }
      const mod = { keeps: false, labels: [], text: text.slice(n.from, n.to) };
      const c = n.node.cursor();
      c.firstChild();
      do {
        if (c.name === 'By' || c.name === 'On') mod.keeps = true;
        if (c.name === 'GroupingLabels') {
          c.node.cursor().iterate((x) => { if (x.name === 'LabelName') mod.labels.push(text.slice(x.from, x.to)); });
          break; // the first list: by/on's (a group_left list may follow)
        }
      } while (c.nextSibling());
      out.push(mod);
      return false;
    },
  });
  return out;
}

// Vector selectors of a PromQL expression without the matcher environment=~"$environment" (or ="$environment"),
// other than of the metrics in `exempt`; returns their metric names (or the selector's text when it has none).
function unfilteredSelectors(text, exempt) {
  const missing = [];
  promqlParser.parse(text).iterate({
    enter: (n) => {
      if (n.name !== 'VectorSelector') return undefined;
      let metric = null;
      let filtered = false;
      n.node.cursor().iterate((x) => {
        if (x.name === 'Identifier' && metric === null) metric = text.slice(x.from, x.to);
        if (x.name === 'UnquotedLabelMatcher') {
          const m = /^(\w+)\s*(=~|=)\s*("[^"]*")$/s.exec(text.slice(x.from, x.to));
          if (m && m[1] === ENV_VAR && m[3] === ENV_MATCH) filtered = true;
        }
      });
      if (!filtered && !exempt.has(metric)) missing.push(metric || text.slice(n.from, n.to));
      return false;
    },
  });
  return missing;
}

// ---- datasources (provisioned by the Grafana provisioning files) ----------------------------------------------
const dsDir = path.join(obs, 'grafana/provisioning/datasources');
const datasources = {};
for (const f of listFiles(dsDir, /\.ya?ml$/)) {
  for (const ds of (yaml.load(fs.readFileSync(f, 'utf8')) || {}).datasources || []) {
    if (ds.uid) datasources[ds.uid] = ds.type;
  }
}
if (Object.keys(datasources).length === 0) fail(`no datasource with a uid in ${rel(dsDir)}/*.yaml`);

// ---- dashboards -----------------------------------------------------------------------------------------------
const queries = [];
const dashUids = new Set();
const dashDir = path.join(obs, 'grafana/dashboards');
const dashFiles = listFiles(dashDir, /\.json$/);
if (dashFiles.length === 0) fail(`no dashboards in ${rel(dashDir)}`);
const uids = new Set();
let panelCount = 0;
// Dashboard queries that must filter by environment, checked once the rules tell which metrics carry no such label.
const envQueries = [];

function checkDatasource(where, ds) {
  if (!ds || typeof ds !== 'object' || !ds.uid) { fail(`${where}: datasource must be an object with a fixed uid`); return null; }
  if (!(ds.uid in datasources)) fail(`${where}: datasource uid "${ds.uid}" is not provisioned in ${rel(dsDir)}`);
  else if (datasources[ds.uid] !== ds.type) fail(`${where}: datasource "${ds.uid}" has type ${ds.type}, provisioned as ${datasources[ds.uid]}`);
  return ds;
}

function addQuery(q) {
  const kind = q.kind;
  let text;
  try { text = substitute(q.raw, q.vars || {}); } catch (e) { fail(`${q.where}: ${e.message}`); return; }
  const parser = { promql: promqlParser, logql: logqlParser, traceql: traceqlParser }[kind];
  for (const e of syntaxErrors(parser, text)) fail(`${q.where}: ${kind} ${e}`);
  const item = { where: q.where, panel: q.panel || null, kind, raw: q.raw, expr: text };
  if (q.datasource) item.datasource = q.datasource;
  if (kind === 'promql') Object.assign(item, promqlNames(text));
  if (q.labelValues) item.label_values = q.labelValues;
  // A variable's saved value: the one every other query of the manifest was given (verify_live.py checks that Grafana
  // would keep it, i.e. that the variable's own query offers it).
  if (q.current !== undefined) item.current = q.current;
  if (q.rule) item.rule = q.rule;
  queries.push(item);
}

for (const file of dashFiles) {
  const name = path.basename(file);
  let dash;
  try { dash = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { fail(`${name}: invalid JSON: ${e.message}`); continue; }
  if (!dash.uid || !dash.title) fail(`${name}: uid and title are required`);
  dashUids.add(dash.uid);
  if (uids.has(dash.uid)) fail(`${name}: duplicate dashboard uid ${dash.uid}`);
  uids.add(dash.uid);

  const vars = {};
  const varList = (dash.templating && dash.templating.list) || [];
  for (const v of varList) {
    let cur = v.current && v.current.value;
    if (Array.isArray(cur)) cur = cur[0];
    vars[v.name] = cur === '$__all' || cur === undefined ? (v.allValue || '.*') : cur;
  }
  const envCheck = !ENV_EXEMPT.has(dash.uid);
  for (const required of ['service', 'instance', ...(envCheck ? [ENV_VAR] : [])]) {
    if (!varList.some((v) => v.name === required)) fail(`${name}: template variable "${required}" is missing`);
  }
  // The queries are checked with $environment left in place (everything else substituted as for parsing).
  const envVars = { ...vars, [ENV_VAR]: `$${ENV_VAR}` };
  for (const v of varList) {
    if (v.type !== 'query') continue;
    const where = `${dash.uid} variable ${v.name}`;
    const ds = checkDatasource(where, v.datasource);
    const q = typeof v.query === 'string' ? v.query : v.query && v.query.query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec((q || '').trim());
    if (!ds || ds.type !== 'prometheus' || !m) { fail(`${where}: expected a Prometheus label_values(selector, label) query`); continue; }
    if (v.definition && v.definition !== q) fail(`${where}: definition and query differ`);
    addQuery({ where, panel: `${dash.uid}/variable ${v.name}`, kind: 'promql', raw: m[1], vars, labelValues: m[2],
      current: vars[v.name] });
    if (v.name === ENV_VAR) {
      if (m[2] !== ENV_VAR) fail(`${where}: expected label_values(<a shop metric>, ${ENV_VAR}), not of label ${m[2]}`);
      if (!/service="shop"/.test(m[1])) fail(`${where}: the environments offered must be those of a shop metric (service="shop"), not ${m[1]}`);
      if (v.multi || v.includeAll) fail(`${where}: one environment at a time (multi and includeAll off): the SLO panels show one value each`);
    } else if (envCheck) envQueries.push({ where, kind: 'promql', raw: m[1], vars: envVars });
  }

  const ids = new Set();
  const panels = [];
  for (const p of dash.panels || []) { panels.push(p); for (const c of p.panels || []) panels.push(c); }
  for (const p of panels) {
    if (ids.has(p.id)) fail(`${name}: duplicate panel id ${p.id}`);
    ids.add(p.id);
    if (p.type === 'row') continue;
    panelCount += 1;
    const where = `${dash.uid} panel "${p.title}"`;
    if (!p.gridPos) fail(`${where}: gridPos missing`);
    checkDatasource(where, p.datasource);
    if (!(p.targets || []).length) fail(`${where}: no queries`);
    for (const t of p.targets || []) {
      const ds = checkDatasource(`${where} ${t.refId}`, t.datasource || p.datasource);
      if (!ds) continue;
      const panelKey = `${dash.uid}/${p.title}`;
      const tw = `${where} ${t.refId}`;
      if (envCheck) envQueries.push({ where: tw, kind: ds.type, raw: (ds.type === 'tempo' ? t.query : t.expr) || '', vars: envVars });
      if (ds.type === 'prometheus') {
        addQuery({ where: tw, panel: panelKey, kind: 'promql', raw: t.expr || '', vars });
        // Latency panels built from the request histogram must ask for exemplars (the link to the trace).
        if (/histogram_quantile\(.*http_server_requests_seconds_bucket/s.test(t.expr || '') && t.exemplar !== true
            && p.type === 'timeseries') fail(`${tw}: latency query without "exemplar": true`);
      }
      else if (ds.type === 'loki') addQuery({ where: tw, panel: panelKey, kind: 'logql', raw: t.expr || '', vars, datasource: ds.uid });
      else if (ds.type === 'tempo') addQuery({ where: tw, panel: panelKey, kind: 'traceql', raw: t.query || '', vars, datasource: ds.uid });
      else fail(`${tw}: unexpected datasource type ${ds.type}`);
    }
  }
}

// ---- rules, runbook, tests ------------------------------------------------------------------------------------
const promDir = path.join(obs, 'prometheus');
const runbook = fs.readFileSync(path.join(promDir, 'RUNBOOK.md'), 'utf8');
// GitHub heading anchors: lower case, spaces to dashes, punctuation dropped.
const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1].trim().toLowerCase()
  .replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
const alertNames = new Set();
const alwaysFiring = new Set();
let recordCount = 0;
// Recording rules that read no series (the SLO objectives, vector(...)): their series have no environment.
const noEnvMetrics = new Set();
let byClauses = 0;
for (const file of listFiles(path.join(promDir, 'rules'), /\.ya?ml$/)) {
  const doc = yaml.load(fs.readFileSync(file, 'utf8'));
  for (const g of doc.groups || []) {
    for (const r of g.rules || []) {
      const where = `${path.basename(file)} ${r.alert || r.record}`;
      // One Prometheus watches every environment: an aggregation or a vector match that drops `environment` mixes
      // them, or loses which one an alert is about (staging's errors would spend production's budget and page for it).
      for (const a of labelModifiers(String(r.expr))) {
        byClauses += 1;
        if (a.keeps !== a.labels.includes(ENV_VAR) && !ENV_EXEMPT_RULES.has(path.basename(file))) {
          fail(`${where}: "${a.text}" drops the ${ENV_VAR} label: every rule keeps it (one series per environment; `
            + `a rule file whose series have no ${ENV_VAR} may be listed in ENV_EXEMPT_RULES with the reason)`);
        }
      }
      if (r.record && promqlNames(String(r.expr)).selectors.length === 0) noEnvMetrics.add(r.record);
      if (r.record) {
        recordCount += 1;
        if (r.record.split(':').length !== 3) fail(`${where}: recording rule names follow level:metric:operations`);
        addQuery({ where, kind: 'promql', raw: r.expr, rule: { type: 'record', name: r.record } });
        continue;
      }
      alertNames.add(r.alert);
      const sev = r.labels && r.labels.severity;
      // A heartbeat (expr vector(1), the Watchdog) always fires: severity none, and no quiet test is possible.
      const heartbeat = String(r.expr).trim() === 'vector(1)';
      if (heartbeat) alwaysFiring.add(r.alert);
      if (heartbeat ? sev !== 'none' : !['page', 'ticket'].includes(sev)) {
        fail(`${where}: severity must be ${heartbeat ? 'none for an always-firing heartbeat' : 'page or ticket'}, not ${sev}`);
      }
      for (const a of ['summary', 'description', 'runbook_url']) {
        if (!(r.annotations && r.annotations[a])) fail(`${where}: annotation ${a} missing`);
      }
      const url = (r.annotations && r.annotations.runbook_url) || '';
      const [doc2, anchor] = url.split('#');
      if (!doc2.endsWith('observability/prometheus/RUNBOOK.md') || !anchors.has(anchor)) {
        fail(`${where}: runbook_url ${url} is not a section of observability/prometheus/RUNBOOK.md`);
      }
      if (anchor !== r.alert.toLowerCase()) fail(`${where}: runbook anchor should be #${r.alert.toLowerCase()}`);
      addQuery({ where, kind: 'promql', raw: r.expr, rule: { type: 'alert', name: r.alert } });
    }
  }
}
for (const m of runbook.matchAll(/^## (\w+)$/gm)) {
  if (m[1] !== 'Severities' && !alertNames.has(m[1])) fail(`RUNBOOK.md: section ${m[1]} has no alert`);
}
const firing = new Set();
const quiet = new Set();
let testCount = 0;
for (const file of listFiles(path.join(promDir, 'tests'), /\.ya?ml$/)) {
  for (const t of yaml.load(fs.readFileSync(file, 'utf8')).tests || []) {
    testCount += 1;
    for (const a of t.alert_rule_test || []) {
      ((a.exp_alerts || []).length ? firing : quiet).add(a.alertname);
    }
  }
}
for (const a of alertNames) {
  if (!firing.has(a)) fail(`alert ${a}: no promtool test where it fires`);
  if (!quiet.has(a) && !alwaysFiring.has(a)) fail(`alert ${a}: no promtool test where it stays quiet`);
}

if (byClauses === 0) fail('no by/on modifier found in the rules: the environment check of their labels checked nothing');

// ---- dashboards: every query filters by the selected environment ----------------------------------------------
for (const [uid] of ENV_EXEMPT) if (!dashUids.has(uid)) fail(`ENV_EXEMPT names dashboard ${uid}, which does not exist`);
for (const [name] of ENV_EXEMPT_RULES) {
  if (!fs.existsSync(path.join(promDir, 'rules', name))) fail(`ENV_EXEMPT_RULES names rules/${name}, which does not exist`);
}
if (envQueries.length === 0) fail('no dashboard query to check for the environment filter');
for (const q of envQueries) {
  let text;
  try { text = substitute(q.raw, q.vars); } catch (e) { continue; } // reported by the parsing above
  const hint = `filter it with ${ENV_VAR}=~${ENV_MATCH}, or list the dashboard in ENV_EXEMPT with the reason`;
  if (q.kind === 'prometheus' || q.kind === 'promql') {
    const missing = unfilteredSelectors(text, noEnvMetrics);
    if (missing.length) fail(`${q.where}: ${missing.join(', ')} not filtered by the selected environment: ${hint}`);
  } else if (q.kind === 'loki') {
    const selector = (/\{[^}]*\}/.exec(text) || [''])[0];
    if (!new RegExp(`\\b${ENV_VAR}\\s*=~?\\s*"\\$${ENV_VAR}"`).test(selector)) {
      fail(`${q.where}: stream selector ${selector || '(none)'} not filtered by the selected environment: ${hint}`);
    }
  } else if (q.kind === 'tempo') {
    if (!/\bresource\.deployment\.environment\s*=~?\s*"\$environment"/.test(text)) {
      fail(`${q.where}: TraceQL ${text} not filtered by the selected environment: `
        + 'add resource.deployment.environment=~"$environment" (the attribute DEPLOYMENT_ENVIRONMENT sets)');
    }
  }
}

// Trace -> logs in Grafana stays in the trace's environment: the Tempo data source maps deployment.environment to
// the Loki stream label `environment` (next to service.name -> service).
{
  const tempo = listFiles(dsDir, /\.ya?ml$/).flatMap((f) => (yaml.load(fs.readFileSync(f, 'utf8')) || {}).datasources || [])
    .find((ds) => ds.type === 'tempo');
  const tags = (((tempo || {}).jsonData || {}).tracesToLogsV2 || {}).tags || [];
  if (!tags.some((t) => t.key === 'deployment.environment' && t.value === ENV_VAR)) {
    fail(`grafana datasources: Tempo's tracesToLogsV2 does not map deployment.environment to the Loki label ${ENV_VAR}: `
      + 'a trace would link to the logs of every environment');
  }
}

// ---- where each deployment gives its telemetry the environment -------------------------------------------------
// Compose: one value for every target and log stream, the one compose.yaml gives the shop as DEPLOYMENT_ENVIRONMENT
// (its traces' deployment.environment). Kubernetes: the pod label `environment` the overlays set on pod templates.
const composeFile = path.resolve(obs, '..', 'compose/compose.yaml');
const composeShop = ((yaml.load(fs.readFileSync(composeFile, 'utf8')) || {}).services || {}).shop || {};
const composeEnv = (composeShop.environment || {}).DEPLOYMENT_ENVIRONMENT;
if (!ENVIRONMENTS.has(composeEnv)) fail(`${rel(composeFile)}: the shop's DEPLOYMENT_ENVIRONMENT is ${composeEnv}, not one of ${[...ENVIRONMENTS].join(', ')}`);
const POD_LABEL = '__meta_kubernetes_pod_label_environment';

// The environment a scrape job gives its targets: a relabel rule writing it (from source labels or a fixed value),
// or a label on every static target group.
function jobEnvironment(job) {
  const rule = (job.relabel_configs || []).find((r) => r.target_label === ENV_VAR);
  if (rule) return rule.source_labels ? { sources: rule.source_labels } : { values: [rule.replacement] };
  const groups = job.static_configs || [];
  const values = groups.map((g) => (g.labels || {})[ENV_VAR]);
  return groups.length && values.every(Boolean) ? { values } : null;
}
const composeProm = yaml.load(fs.readFileSync(path.join(obs, 'prometheus/prometheus.yml'), 'utf8'));
if (!(composeProm.scrape_configs || []).length) fail('prometheus.yml: no scrape jobs');
for (const job of composeProm.scrape_configs || []) {
  const env = jobEnvironment(job);
  if (!env || !env.values || env.values.some((v) => v !== composeEnv)) {
    fail(`prometheus.yml job ${job.job_name}: its targets get ${env ? JSON.stringify(env) : 'no environment label'}; `
      + `every compose target carries environment="${composeEnv}" (compose.yaml's DEPLOYMENT_ENVIRONMENT)`);
  }
}
// The Kubernetes configurations: the kind overlay's (one namespace) and the environments' shared stack's.
const K8S_PROMETHEUS = ['prometheus/prometheus-k8s.yml', 'environments/prometheus.yml'];
const k8sConfigs = Object.fromEntries(K8S_PROMETHEUS.map((f) => [f, yaml.load(fs.readFileSync(path.join(obs, f), 'utf8'))]));
for (const file of K8S_PROMETHEUS) {
  const config = k8sConfigs[file];
  const jobs = config.scrape_configs || [];
  if (!jobs.some((j) => j.kubernetes_sd_configs)) fail(`${file}: no job discovers pods`);
  for (const job of jobs) {
    const where = `${file} job ${job.job_name}`;
    if (job.kubernetes_sd_configs && job.honor_labels) {
      // kube-state-metrics: its series describe other objects; the environment comes from their namespace.
      if (!(job.metric_relabel_configs || []).some((r) => r.target_label === ENV_VAR && (r.source_labels || []).includes('namespace'))) {
        fail(`${where}: its series keep their own labels (honor_labels) and get no ${ENV_VAR} from their namespace (metric_relabel_configs)`);
      }
    } else if (job.kubernetes_sd_configs) {
      const env = jobEnvironment(job);
      if (!env || !env.sources || env.sources.join() !== POD_LABEL) {
        fail(`${where}: ${ENV_VAR} is not relabeled from the pod label (source_labels [${POD_LABEL}])`);
      }
    } else if (job.metrics_path === '/probe') {
      // A probe of the shop says which environment's shop it probes; the stack's own (Grafana) may serve them all.
      for (const g of job.static_configs || []) {
        const labels = g.labels || {};
        if (labels.target_service === 'shop' ? !ENVIRONMENTS.has(labels[ENV_VAR]) : labels[ENV_VAR] && !ENVIRONMENTS.has(labels[ENV_VAR])) {
          fail(`${where}: probe ${(g.targets || []).join(', ')} must carry the ${ENV_VAR} of the shop it probes `
            + `(one of ${[...ENVIRONMENTS].join(', ')}), not ${labels[ENV_VAR]}`);
        }
      }
    }
  }
}
// The environments' stack runs every job of the kind overlay's configuration with the same relabeling: only the
// namespaces discovered and the probed URLs differ (rules and dashboards rely on the labels being the same).
function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}
function jobShape(job) {
  const copy = JSON.parse(JSON.stringify(job));
  for (const sd of copy.kubernetes_sd_configs || []) delete sd.namespaces;
  if (copy.metrics_path === '/probe') delete copy.static_configs;
  return sortedJson(copy);
}
{
  const [kindFile, envFile] = K8S_PROMETHEUS;
  const kindConfig = k8sConfigs[kindFile];
  const envConfig = k8sConfigs[envFile];
  for (const key of ['global', 'storage', 'rule_files', 'alerting']) {
    if (sortedJson(kindConfig[key]) !== sortedJson(envConfig[key])) fail(`${envFile}: \`${key}\` differs from ${kindFile}'s`);
  }
  const kindJobs = kindConfig.scrape_configs || [];
  if (kindJobs.length === 0) fail(`${kindFile}: no scrape jobs`);
  // The kind overlay runs everything in one namespace and its Role grants nothing else.
  for (const job of kindJobs) {
    for (const sd of job.kubernetes_sd_configs || []) {
      const ns = sd.namespaces || {};
      if (!ns.own_namespace || (ns.names || []).length) {
        fail(`${kindFile} job ${job.job_name}: discovers ${JSON.stringify(ns)}, not its own namespace only; a job for `
          + `other namespaces (the environments, Argo CD, Argo Rollouts) belongs in ${envFile}`);
      }
    }
  }
  for (const job of kindJobs) {
    const other = (envConfig.scrape_configs || []).find((j) => j.job_name === job.job_name);
    if (!other) fail(`${envFile}: job ${job.job_name} of ${kindFile} is missing: the environments' stack would not scrape it`);
    else if (jobShape(job) !== jobShape(other)) {
      fail(`${envFile}: job ${job.job_name} differs from ${kindFile}'s in more than the namespaces it discovers and `
        + 'the URLs it probes: change both files together');
    }
  }
}

// The environments' Alloy tails the pods of the namespaces its Prometheus scrapes (SHOP_LOG_NAMESPACES, set by the
// component in environments/kustomization.yaml, read by alloy/config-k8s.alloy).
{
  const component = yaml.load(fs.readFileSync(path.join(obs, 'environments/kustomization.yaml'), 'utf8')) || {};
  const env = (component.patches || []).flatMap((p) => {
    const doc = yaml.load(p.patch || '') || {};
    return ((((doc.spec || {}).template || {}).spec || {}).containers || []).flatMap((c) => c.env || []);
  }).find((e) => e.name === 'SHOP_LOG_NAMESPACES');
  const pods = (k8sConfigs['environments/prometheus.yml'].scrape_configs || []).find((j) => j.job_name === 'kubernetes-pods') || {};
  const scraped = ((pods.kubernetes_sd_configs || [])[0] || { namespaces: {} }).namespaces.names || [];
  let logged = null;
  try { logged = JSON.parse(env ? env.value : 'null'); } catch (e) { logged = `not JSON: ${env.value}`; }
  if (scraped.length === 0) fail('environments/prometheus.yml: job kubernetes-pods discovers no application namespace');
  if (JSON.stringify(logged) !== JSON.stringify(scraped)) {
    fail(`environments/kustomization.yaml: Alloy's SHOP_LOG_NAMESPACES is ${JSON.stringify(logged)}, the namespaces `
      + `environments/prometheus.yml scrapes are ${JSON.stringify(scraped)}: logs and metrics must come from the same`);
  }
  if (!/sys\.env\("SHOP_LOG_NAMESPACES"\)/.test(fs.readFileSync(path.join(obs, 'alloy/config-k8s.alloy'), 'utf8'))) {
    fail('alloy/config-k8s.alloy: its discovery does not read SHOP_LOG_NAMESPACES, the environments\' namespaces');
  }
}

// ---- metric names of components that do not run in the live check, against their upstream lists ---------------
// kube-state-metrics runs on kind only. Its metric families and label names come from the project's own docs at the
// version the kind stack deploys (third-party/kube-state-metrics-<version>/metrics.tsv, see third-party/README.md);
// every kube_* name a dashboard or rule uses must be one of them, enabled by the deployed --resources flag.
// Target labels Prometheus adds (environment: kube-state-metrics' series get it from their namespace, prometheus-k8s.yml).
const TARGET_LABELS = new Set(['job', 'instance', 'service', 'environment']);
const ksmDirs = fs.readdirSync(path.join(here, 'third-party')).filter((d) => d.startsWith('kube-state-metrics-'));
const ksmManifest = path.resolve(obs, '..', 'k8s/base/kube-state-metrics.yaml');
const ksmDocs = yaml.loadAll(fs.readFileSync(ksmManifest, 'utf8')).filter(Boolean);
const ksmContainer = ksmDocs.flatMap((d) => ((((d.spec || {}).template || {}).spec || {}).containers || []))
  .find((c) => /kube-state-metrics:/.test(c.image || ''));
const ksmVersion = ksmContainer ? ksmContainer.image.split(':').pop() : null;
const ksmResources = new Set(((ksmContainer && ksmContainer.args) || []).filter((a) => a.startsWith('--resources='))
  .flatMap((a) => a.slice('--resources='.length).split(',')));
const ksm = new Map();
if (ksmDirs.length !== 1) fail(`expected one third-party/kube-state-metrics-<version>/ folder, found ${ksmDirs.length}`);
else if (`kube-state-metrics-${ksmVersion}` !== ksmDirs[0]) {
  fail(`third-party/${ksmDirs[0]} does not match the deployed image ${ksmContainer ? ksmContainer.image : '(none)'} `
    + `in ${rel(ksmManifest)}: derive the list again (third-party/README.md)`);
} else {
  for (const line of fs.readFileSync(path.join(here, 'third-party', ksmDirs[0], 'metrics.tsv'), 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , resource, labels] = line.split('\t');
    ksm.set(name, { resource, labels: new Set(labels ? labels.split(',') : []) });
  }
  if (ksm.size === 0) fail(`third-party/${ksmDirs[0]}/metrics.tsv lists no metric`);
  if (ksmResources.size === 0) fail(`${rel(ksmManifest)}: kube-state-metrics has no --resources flag to check against`);
}
let ksmRefs = 0;
for (const q of queries.filter((x) => x.kind === 'promql')) {
  const kube = q.selectors.filter((sel) => sel.metric && sel.metric.startsWith('kube_'));
  const known = new Set(TARGET_LABELS);
  for (const sel of kube) {
    ksmRefs += 1;
    const m = ksm.get(sel.metric);
    if (!m) { fail(`${q.where}: ${sel.metric} is not a kube-state-metrics ${ksmVersion} metric (third-party/${ksmDirs[0]}/metrics.tsv)`); continue; }
    if (!ksmResources.has(m.resource)) fail(`${q.where}: ${sel.metric} needs --resources=${m.resource}, which ${rel(ksmManifest)} does not enable`);
    for (const l of m.labels) known.add(l);
    const missing = sel.labels.filter((l) => !m.labels.has(l) && !TARGET_LABELS.has(l));
    if (missing.length) fail(`${q.where}: ${sel.metric} has no label(s) ${missing.join(', ')} in kube-state-metrics ${ksmVersion} (it has ${[...m.labels].join(', ')})`);
  }
  if (kube.length && kube.length === q.selectors.filter((sel) => sel.metric).length) {
    const missing = q.grouping.filter((l) => !known.has(l));
    if (missing.length) fail(`${q.where}: grouping label(s) ${missing.join(', ')} exist on none of its kube-state-metrics metrics`);
  }
}

// CloudNativePG runs on kind only (k8s/components/cloudnative-pg). Its instances' metric names are derived from the
// release CNPG_VERSION in k8s/k8s.mk pins (third-party/cloudnative-pg-<version>/metrics.txt, see third-party/README.md);
// every cnpg_* name a dashboard or rule uses must be one of them.
const cnpgDirs = fs.readdirSync(path.join(here, 'third-party')).filter((d) => d.startsWith('cloudnative-pg-'));
const cnpgPin = (/^CNPG_VERSION\s*\??=\s*(\S+)/m.exec(fs.readFileSync(path.resolve(obs, '..', 'k8s/k8s.mk'), 'utf8')) || [])[1];
const cnpg = new Set();
if (cnpgDirs.length !== 1) fail(`expected one third-party/cloudnative-pg-<version>/ folder, found ${cnpgDirs.length}`);
else if (cnpgDirs[0] !== `cloudnative-pg-v${cnpgPin}`) {
  fail(`third-party/${cnpgDirs[0]} does not match CNPG_VERSION ${cnpgPin} in k8s/k8s.mk: derive the list again (third-party/README.md)`);
} else {
  for (const line of fs.readFileSync(path.join(here, 'third-party', cnpgDirs[0], 'metrics.txt'), 'utf8').split('\n')) {
    if (line && !line.startsWith('#')) cnpg.add(line.trim());
  }
  if (cnpg.size === 0) fail(`third-party/${cnpgDirs[0]}/metrics.txt lists no metric`);
}
let cnpgRefs = 0;
for (const q of queries.filter((x) => x.kind === 'promql')) {
  for (const sel of q.selectors.filter((x) => x.metric && x.metric.startsWith('cnpg_'))) {
    cnpgRefs += 1;
    if (!cnpg.has(sel.metric)) fail(`${q.where}: ${sel.metric} is not a CloudNativePG v${cnpgPin} metric (third-party/${cnpgDirs[0]}/metrics.txt)`);
  }
}

// ---- LogQL labels against what the Alloy pipeline writes --------------------------------------------------------
// Stream labels, structured metadata and normalised values come from the .alloy files (alloy_labels.mjs). A stream
// selector may only use stream labels; label filters and `by` may also use structured metadata, or anything once a
// parser stage (| json, | logfmt, ...) has extracted fields; `label="value"` on a label whose values a stage.template
// normalises must use one of the values that template writes.
const alloyDir = path.join(obs, 'alloy');
const alloyFiles = listFiles(alloyDir, /\.alloy$/);
if (alloyFiles.length === 0) fail(`no .alloy files in ${rel(alloyDir)}`);
let pipeline = { streamLabels: new Map(), metadata: new Map(), values: new Map() };
try {
  pipeline = alloyLogLabels(alloyFiles.map((f) => ({ file: path.basename(f), text: fs.readFileSync(f, 'utf8') })));
} catch (e) { fail(`${rel(alloyDir)}: cannot read the pipeline: ${e.message}`); }
if (pipeline.streamLabels.size === 0) fail(`${rel(alloyDir)}: found no stream label the pipeline writes`);
for (const [label, where] of pipeline.streamLabels) {
  if (!LOKI_STREAM_LABELS.has(label)) {
    fail(`${where}: stream label "${label}" is not one of ${[...LOKI_STREAM_LABELS].join(', ')}: every value multiplies `
      + 'Loki\'s streams; keep ids and other many-valued fields as structured metadata');
  }
}
// Each deployment's entry file gives every stream its environment (compose: the fixed value; kind: the pod label).
for (const [file, want] of [['config.alloy', { values: [composeEnv] }], ['config-k8s.alloy', { sources: [POD_LABEL] }]]) {
  const text = fs.readFileSync(path.join(alloyDir, file), 'utf8');
  const rules = alloyRelabelRules(text).filter((r) => r.target_label === ENV_VAR && r.action === 'replace');
  const got = rules.map((r) => (r.source_labels ? { sources: r.source_labels } : { values: [r.replacement] }));
  if (got.length !== 1 || JSON.stringify(got[0]) !== JSON.stringify(want)) {
    fail(`alloy/${file}: log streams must get ${ENV_VAR} from ${JSON.stringify(want)}, the rules write ${JSON.stringify(got)}`);
  }
}
const PARSERS = new Set(['LabelParser', 'JsonExpressionParser', 'LogfmtParser', 'LogfmtExpressionParser']);
let logqlLabelRefs = 0;
for (const q of queries.filter((x) => x.kind === 'logql')) {
  const tree = logqlParser.parse(q.expr);
  let parsed = false;
  tree.iterate({ enter: (n) => { if (PARSERS.has(n.name)) parsed = true; } });
  tree.iterate({
    enter: (n) => {
      if (n.name !== 'Matcher' && n.name !== 'Labels') return undefined;
      const inSelector = n.node.parent && n.node.parent.parent && n.node.parent.parent.name === 'Selector'
        || (n.node.parent && n.node.parent.name === 'Selector');
      const names = [];
      n.node.cursor().iterate((x) => { if (x.name === 'Identifier') names.push([x.from, x.to]); });
      for (const [from, to] of names) {
        const label = q.expr.slice(from, to);
        logqlLabelRefs += 1;
        if (inSelector && !pipeline.streamLabels.has(label)) {
          const meta = pipeline.metadata.has(label) ? ' (it is structured metadata: filter it after the selector)' : '';
          fail(`${q.where}: stream selector label "${label}" is not written by the Alloy pipeline${meta}; `
            + `stream labels: ${[...pipeline.streamLabels.keys()].join(', ')}`);
        } else if (!inSelector && !parsed && !pipeline.streamLabels.has(label) && !pipeline.metadata.has(label)) {
          fail(`${q.where}: label "${label}" is neither a stream label nor structured metadata of the Alloy pipeline`);
        }
      }
      if (n.name === 'Matcher') {
        const c = n.node;
        const op = c.getChild('Eq') ? '=' : c.getChild('Neq') ? '!=' : null;
        const str = c.getChild('String');
        const label = names.length ? q.expr.slice(names[0][0], names[0][1]) : null;
        const norm = label && pipeline.values.get(label);
        if (op && str && norm) {
          const value = JSON.parse(q.expr.slice(str.from, str.to).replace(/^`|`$/g, '"'));
          if (!norm.literals.includes(value)) {
            fail(`${q.where}: ${label}${op}"${value}" never matches: ${norm.where} writes ${label} as one of `
              + `${norm.literals.join(', ')}`);
          }
        }
      }
      return false;
    },
  });
}

// ---- report ---------------------------------------------------------------------------------------------------
const byKind = (k) => queries.filter((q) => q.kind === k).length;
console.log(`check_queries: ${dashFiles.length} dashboards, ${panelCount} panels; ${recordCount} recording rules, `
  + `${alertNames.size} alerts, ${testCount} promtool tests; parsed ${byKind('promql')} PromQL, ${byKind('logql')} LogQL, `
  + `${byKind('traceql')} TraceQL queries; datasources: ${Object.keys(datasources).join(', ')}; `
  + `${ksmRefs} kube_* references checked against ${ksm.size} kube-state-metrics ${ksmVersion} metrics; `
  + `${cnpgRefs} cnpg_* references checked against ${cnpg.size} CloudNativePG v${cnpgPin} metrics; `
  + `${logqlLabelRefs} LogQL label references checked against the Alloy pipeline (stream labels `
  + `${[...pipeline.streamLabels.keys()].join(', ')}; structured metadata ${[...pipeline.metadata.keys()].join(', ')})`);
if (manifestPath) fs.writeFileSync(manifestPath, JSON.stringify({ queries }, null, 2));
if (stackQueriesPath) {
  // Panels listed in live-exclusions.tsv for a component that only the compose stack runs.
  const stackPanels = new Set(fs.readFileSync(path.join(here, 'live-exclusions.tsv'), 'utf8').split('\n')
    .map((l) => l.split('\t')).filter((c) => c[0] === 'panel' && STACK_COMPONENTS.has(c[2])).map((c) => c[1]));
  const stack = queries.filter((q) => stackPanels.has(q.panel))
    .map((q) => ({ panel: q.panel, where: q.where, kind: q.kind, datasource: q.datasource, expr: q.expr }));
  const missing = [...stackPanels].filter((p) => !stack.some((q) => q.panel === p));
  if (missing.length) fail(`live-exclusions.tsv lists ${missing.join(', ')} for the compose stack, but no dashboard has them`);
  if (stack.length === 0) fail('no dashboard query is left to the compose stack: --stack-queries would check nothing');
  fs.writeFileSync(stackQueriesPath, JSON.stringify(stack, null, 2));
}
if (errors.length) {
  for (const e of errors) console.error(`FAIL ${e}`);
  console.error(`check_queries: ${errors.length} problem(s)`);
  process.exit(1);
}
console.log('check_queries: all static checks passed');
