// The canary release (k8s/components/canary): the Rollout, its AnalysisTemplates, and what they imply.
// - analysisQueryFromRule: the analysis query a recording rule's expression gives (same SLI, the canary's pods only);
// - fastBurnThreshold: the bad-event ratio at which the rules page (factor x budget of the shortest window);
// - canaryProblems: the Rollout, HPA, PDB and templates of one build against each other;
// - replicaSplit / canaryTimeline: the canary's share of pods per step and how long each step can serve, as Argo
//   Rollouts computes them (utils/replicaset/canary.go and the AnalysisRun's initialDelay/interval/count/failureLimit
//   semantics at the pinned tag; k8s/components/canary/README.md).
// Argo Rollouts: https://argo-rollouts.readthedocs.io/en/stable/features/canary/
//                https://argo-rollouts.readthedocs.io/en/stable/features/analysis/
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { matchesSelector, podOf } from "./policy.mjs";
import { REPO } from "./render.mjs";

export const RULES_DIR = join(REPO, "observability/prometheus/rules");
/** The pod label Argo Rollouts puts on every pod it owns, as Prometheus keeps it (prometheus-k8s.yml relabels it). */
export const HASH_LABEL = "rollouts_pod_template_hash";
/** The analysis arguments: which pods, and in which namespace. */
export const ARGS = { hash: "canary-hash", namespace: "namespace" };
/** The annotation naming the recording rule an AnalysisTemplate's query is derived from. */
export const DERIVED_FROM = "shopwatch.dev/derived-from";
/** The only success condition form the live check (observability/tests/verify_canary.py) evaluates. */
export const CONDITION = /^len\(result\) == 1 && result\[0\] <= (\d+(?:\.\d+)?)$/;

/** Every rule of the SLO rule files (shop-slo*.yml), as { file, record|alert, expr }. */
export function sloRules(dir = RULES_DIR) {
  const files = readdirSync(dir).filter((f) => /^shop-slo.*\.ya?ml$/.test(f)).sort();
  return files.flatMap((file) => (parse(readFileSync(join(dir, file), "utf8")).groups ?? []).flatMap((g) => g.rules.map((r) => ({ file, ...r }))));
}

/** Recording rules that are SLIs at the shortest window: service:slo_<sli>:ratio_rate5m. */
export function sliRules(rules) {
  return rules.filter((r) => /^service:slo_\w+:ratio_rate5m$/.test(r.record ?? ""));
}

/** Collapses whitespace so that layout never counts. */
export const normalise = (expr) => expr.replace(/\s+/g, " ").replace(/([({]) /g, "$1").replace(/ ([)}])/g, "$1").trim();

/**
 * The analysis query a recording rule's expression gives: every selector also matches the canary's pods
 * (rollouts_pod_template_hash) and namespace, and every range becomes `window`. Nothing else changes.
 */
export function analysisQueryFromRule(ruleExpr, window) {
  const extra = `namespace="{{args.${ARGS.namespace}}}", ${HASH_LABEL}="{{args.${ARGS.hash}}}"`;
  const withMatchers = ruleExpr.replace(/\{([^{}]*)\}/g, (_, inner) => `{${inner.trim() ? `${inner.trim()}, ` : ""}${extra}}`);
  return normalise(withMatchers.replace(/\[\d+[smhdw]\]/g, `[${window}]`));
}

/** The ranges `[..]` of a query. */
export const rangesOf = (query) => [...query.matchAll(/\[(\d+[smhdw])\]/g)].map((m) => m[1]);

/** "1m", "30s", "90s" -> seconds. */
export function seconds(duration) {
  const m = /^(\d+)(s|m|h)$/.exec(String(duration ?? ""));
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2]];
}

/**
 * The paging threshold of an SLI rule: the alert comparing it as `record > (factor * budget)` (the fast-burn page's
 * short window); throws unless exactly one alert does.
 */
export function fastBurnThreshold(rules, record) {
  const found = [];
  const pattern = new RegExp(`${record.replace(/[.:]/g, "\\$&")}\\s*>\\s*\\(\\s*(\\d+(?:\\.\\d+)?)\\s*\\*\\s*(\\d+(?:\\.\\d+)?)\\s*\\)`, "g");
  for (const r of rules.filter((x) => x.alert)) {
    for (const m of r.expr.matchAll(pattern)) found.push({ alert: r.alert, factor: Number(m[1]), budget: Number(m[2]) });
  }
  if (found.length !== 1) throw new Error(`${record}: ${found.length} alert comparisons of the form "> (factor * budget)" (want 1)`);
  return { ...found[0], threshold: found[0].factor * found[0].budget };
}

const named = (o) => `${o.kind}/${o.metadata?.name}`;

/** The AnalysisTemplates of a build by name. */
export const templatesOf = (objects) => new Map(objects.filter((o) => o.kind === "AnalysisTemplate").map((t) => [t.metadata.name, t]));

/** The Rollout shop of a build, or undefined. */
export const rolloutOf = (objects) => objects.find((o) => o.kind === "Rollout" && o.metadata.name === "shop");

/** Problems of the canary resources of one build (empty when it has no Rollout). */
export function canaryProblems(objects, rules = sloRules()) {
  const rollout = rolloutOf(objects);
  if (!rollout) return [];
  const problems = [];
  const p = (msg) => problems.push(`${named(rollout)}: ${msg}`);
  const spec = rollout.spec ?? {};
  const ref = spec.workloadRef;
  const deploy = objects.find((o) => o.kind === ref?.kind && o.apiVersion === ref?.apiVersion && o.metadata.name === ref?.name);
  if (!deploy) return [`${named(rollout)}: workloadRef ${ref?.apiVersion} ${ref?.kind}/${ref?.name} is not in this build`];
  const template = podOf(deploy);
  if (JSON.stringify(spec.selector) !== JSON.stringify(deploy.spec.selector)) p(`selector ${JSON.stringify(spec.selector)} is not the Deployment's ${JSON.stringify(deploy.spec.selector)}`);
  if (!matchesSelector(spec.selector, template.meta.labels)) p("selector does not match the Deployment's pod template");
  if (spec.replicas !== undefined) p("sets replicas although the autoscaler owns them");
  // The Deployment must not keep running pods next to the Rollout's: either Argo Rollouts scales it down, or it is 0.
  if (!["progressively", "onsuccess"].includes(ref.scaleDown) && deploy.spec.replicas !== 0) p(`workloadRef.scaleDown ${ref.scaleDown}: the Deployment keeps its own pods`);

  // Autoscaling and disruption budget: on what runs.
  const scalers = objects.filter((o) => ["HorizontalPodAutoscaler", "ScaledObject"].includes(o.kind));
  const onRollout = scalers.filter((o) => o.spec.scaleTargetRef?.kind === "Rollout" && o.spec.scaleTargetRef?.name === "shop" && o.spec.scaleTargetRef?.apiVersion === "argoproj.io/v1alpha1");
  const onDeploy = scalers.filter((o) => (o.spec.scaleTargetRef?.kind ?? "Deployment") === "Deployment" && o.spec.scaleTargetRef?.name === "shop");
  if (onRollout.length !== 1) p(`${onRollout.length} autoscalers target the Rollout (want 1)`);
  if (onDeploy.length) p(`${onDeploy.map(named).join(", ")} still scales the Deployment, which runs no pods`);
  const canaryPod = { ...template.meta.labels, "rollouts-pod-template-hash": "0123456789" };
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget" && matchesSelector(o.spec?.selector, canaryPod));
  if (pdbs.length !== 1) p(`${pdbs.length} PodDisruptionBudgets select the Rollout's pods (want 1)`);

  // Strategy: a canary without a traffic router (the share is the share of pods), every weight gated by analysis.
  const canary = spec.strategy?.canary;
  if (!canary) return [...problems, `${named(rollout)}: no canary strategy`];
  if (canary.trafficRouting) p("trafficRouting: this cluster has no router; shares below assume the replica ratio");
  if (canary.analysis) p("background analysis: use analysis steps, so that each weight is gated");
  const steps = canary.steps ?? [];
  if (!steps.length) p("no steps: a new release would go to 100 % at once");
  let lastWeight = 0;
  let gated = true;
  for (const [i, step] of steps.entries()) {
    if (step.setWeight !== undefined) {
      if (!gated) p(`step ${i}: setWeight ${step.setWeight} follows setWeight ${lastWeight} without an analysis in between`);
      if (!(step.setWeight > lastWeight && step.setWeight < 100)) p(`step ${i}: setWeight ${step.setWeight} (want increasing, below 100)`);
      lastWeight = step.setWeight;
      gated = false;
    } else if (step.analysis) gated = true;
  }
  if (!gated) p(`the last weight (${lastWeight} %) is promoted to 100 % without an analysis`);

  // Analysis steps: existing templates, the canary's pods, the SLO queries.
  const templates = templatesOf(objects);
  const sliNames = sliRules(rules).map((r) => r.record);
  if (sliNames.length < 2) problems.push(`observability rules: ${sliNames.length} SLI recording rules at 5m (want availability and latency)`);
  for (const [i, step] of steps.entries()) {
    if (!step.analysis) continue;
    const names = step.analysis.templates.map((t) => t.templateName);
    const args = new Map((step.analysis.args ?? []).map((a) => [a.name, a]));
    if (args.get(ARGS.hash)?.valueFrom?.podTemplateHashValue !== "Latest") p(`step ${i}: argument ${ARGS.hash} is not podTemplateHashValue: Latest (the canary's pods)`);
    if (args.get(ARGS.namespace)?.valueFrom?.fieldRef?.fieldPath !== "metadata.namespace") p(`step ${i}: argument ${ARGS.namespace} is not the Rollout's metadata.namespace`);
    const covered = new Set();
    for (const name of names) {
      const t = templates.get(name);
      if (!t) {
        p(`step ${i}: AnalysisTemplate ${name} is not in this build`);
        continue;
      }
      covered.add(t.metadata.annotations?.[DERIVED_FROM]);
      for (const a of t.spec.args ?? []) if (a.value === undefined && !args.has(a.name)) p(`step ${i}: ${name} needs argument ${a.name}`);
    }
    for (const sli of sliNames) if (!covered.has(sli)) p(`step ${i}: no AnalysisTemplate derived from ${sli}`);
  }
  for (const t of templates.values()) problems.push(...templateProblems(t, rules, objects));
  return problems;
}

/** One AnalysisTemplate against the recording rule it names, the paging threshold and the Prometheus Service. */
export function templateProblems(t, rules, objects = []) {
  const problems = [];
  const p = (msg) => problems.push(`${named(t)}: ${msg}`);
  const record = t.metadata.annotations?.[DERIVED_FROM];
  const rule = record && rules.find((r) => r.record === record);
  if (!rule) return [`${named(t)}: annotation ${DERIVED_FROM} ${record} names no recording rule of ${RULES_DIR}`];
  const metrics = t.spec.metrics ?? [];
  if (metrics.length !== 1) p(`${metrics.length} metrics (want 1: the SLI of ${record})`);
  for (const m of metrics) {
    const prom = m.provider?.prometheus;
    if (!prom) {
      p(`metric ${m.name}: not a Prometheus query`);
      continue;
    }
    const address = /^http:\/\/prometheus\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)$/.exec(prom.address ?? "");
    const localProm = objects.find((o) => o.kind === "Service" && o.metadata.name === "prometheus" && o.metadata.namespace === address?.[1]);
    // The shared stack's Prometheus (namespace observability), or one in the same build.
    if (!address || (address[1] !== "observability" && !localProm) || address[2] !== "9090") p(`metric ${m.name}: address ${prom.address} is not the Prometheus Service (observability or this build, port 9090)`);
    const ranges = rangesOf(prom.query);
    if (new Set(ranges).size !== 1) p(`metric ${m.name}: ranges ${ranges.join(", ")} (want one window throughout)`);
    const window = ranges[0];
    const want = analysisQueryFromRule(rule.expr, window);
    if (normalise(prom.query) !== want) p(`metric ${m.name}: query differs from ${record} restricted to the canary:\n  query: ${normalise(prom.query)}\n  rule:  ${want}`);
    // Every selector must carry both canary matchers (the derivation covers this; said plainly for the reader).
    for (const sel of prom.query.match(/\{[^{}]*(?:\{\{[^}]*\}\}[^{}]*)*\}/g) ?? []) {
      if (!sel.includes(`${HASH_LABEL}="{{args.${ARGS.hash}}}"`)) p(`metric ${m.name}: selector ${sel} is not restricted to the canary's pods`);
    }
    const cond = CONDITION.exec(m.successCondition ?? "");
    if (!cond) p(`metric ${m.name}: successCondition ${JSON.stringify(m.successCondition)} is not "len(result) == 1 && result[0] <= X" (no data must fail)`);
    if (m.failureCondition || m.inconclusiveLimit !== undefined) p(`metric ${m.name}: failureCondition/inconclusive: a measurement passes or fails, never pauses the rollout`);
    try {
      const burn = fastBurnThreshold(rules, record);
      if (cond && Math.abs(Number(cond[1]) - burn.threshold) > 1e-12) p(`metric ${m.name}: threshold ${cond[1]}, ${burn.alert} pages at ${burn.factor} x ${burn.budget} = ${burn.threshold}`);
    } catch (e) {
      p(e.message);
    }
    if (!(m.count >= 2)) p(`metric ${m.name}: count ${m.count}: the run would never end or judge one sample`);
    if (!(m.failureLimit >= 0 && m.failureLimit < m.count)) p(`metric ${m.name}: failureLimit ${m.failureLimit} of ${m.count} measurements can never fail the run`);
    if (m.failureLimit > 1) p(`metric ${m.name}: failureLimit ${m.failureLimit}: more than one bad measurement forgiven`);
    try {
      if (seconds(m.initialDelay) < seconds(window)) p(`metric ${m.name}: initialDelay ${m.initialDelay} shorter than the window ${window}: the first measurement sees less than a window of canary traffic`);
      if (seconds(window) < 60) p(`metric ${m.name}: window ${window} under 4 scrape intervals (15 s)`);
    } catch (e) {
      p(`metric ${m.name}: ${e.message}`);
    }
  }
  return problems;
}

/**
 * How Argo Rollouts splits `replicas` pods for a weight without a traffic router (approximateWeightedCanaryStableReplicaCounts
 * in utils/replicaset/canary.go at the pinned tag, re-implemented from its documented behaviour): the canary count is
 * the floor or the ceiling of replicas x weight, with or without one surge pod, whichever share comes closest to
 * the weight; ties go to the larger canary; zero canary pods only when the weight is 0 or 100.
 */
export function replicaSplit(replicas, weight, maxSurge) {
  const exact = (replicas * weight) / 100;
  const tied = (n) => ((n * weight) / 100) % 1 === 0.5;
  const zeroAllowed = weight === 0 || weight === 100 || (replicas === 1 && maxSurge === 0);
  const ceil = Math.ceil(exact);
  const floor = Math.floor(exact);
  const options = [];
  if (ceil < replicas || zeroAllowed) options.push([ceil, replicas]);
  if (!tied(replicas) && (floor !== 0 || zeroAllowed)) options.push([floor, replicas]);
  if (maxSurge > 0) {
    options.push([ceil, replicas + 1]);
    if (!tied(replicas + 1) && (floor !== 0 || zeroAllowed)) options.push([floor, replicas + 1]);
  }
  let best = options[0];
  for (const o of options.slice(1)) if (Math.abs((o[0] * 100) / o[1] - weight) < Math.abs((best[0] * 100) / best[1] - weight)) best = o;
  return { canary: best[0], stable: best[1] - best[0] };
}

/**
 * The canary timeline of a build: per setWeight the canary's share of the pods (and so of the requests) for every
 * replica count the autoscaler allows, and per analysis step how long it runs when it passes and when it aborts a
 * release that fails every measurement. Durations exclude the canary pods' start-up (the setWeight step waits for them).
 */
export function canaryTimeline(objects) {
  const rollout = rolloutOf(objects);
  const templates = templatesOf(objects);
  const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec.scaleTargetRef?.kind === "Rollout");
  const replicas = [];
  for (let n = hpa.spec.minReplicas; n <= hpa.spec.maxReplicas; n++) replicas.push(n);
  const surge = rollout.spec.strategy.canary.maxSurge ?? 1;
  const rows = [];
  let weight = 0;
  for (const step of rollout.spec.strategy.canary.steps) {
    if (step.setWeight !== undefined) {
      weight = step.setWeight;
      rows.push({ kind: "weight", weight, shares: replicas.map((n) => ({ n, ...replicaSplit(n, weight, typeof surge === "number" ? surge : 1) })) });
    } else if (step.analysis) {
      const metrics = step.analysis.templates.flatMap((t) => templates.get(t.templateName)?.spec.metrics ?? []);
      // A run ends after its last measurement: initialDelay + (count - 1) x interval. It fails at the measurement
      // that makes failures exceed failureLimit; a release failing every one: initialDelay + failureLimit x interval.
      const passes = Math.max(...metrics.map((m) => seconds(m.initialDelay ?? "0s") + (m.count - 1) * seconds(m.interval)));
      const abortsAfter = Math.min(...metrics.map((m) => seconds(m.initialDelay ?? "0s") + m.failureLimit * seconds(m.interval)));
      rows.push({ kind: "analysis", weight, passes, abortsAfter, metrics: metrics.length });
    } else if (step.pause) {
      rows.push({ kind: "pause", weight, passes: step.pause.duration ? seconds(step.pause.duration) : Infinity });
    }
  }
  const analyses = rows.filter((r) => r.kind !== "weight");
  const longest = analyses.reduce((s, r) => s + r.passes, 0);
  const firstAbort = analyses.find((r) => r.kind === "analysis")?.abortsAfter;
  const maxShare = Math.max(...rows.filter((r) => r.kind === "weight").flatMap((r) => r.shares.map((s) => s.canary / (s.canary + s.stable))));
  return { replicas, rows, longest, firstAbort, maxShare };
}

const pct = (x) => `${Math.round(x * 100)} %`;

/** The timeline as the Markdown block k8s/components/canary/README.md carries between its canary-timeline markers. */
export function timelineMarkdown(objects) {
  const t = canaryTimeline(objects);
  const lines = [`| Step | Canary pods : stable pods (share of requests) at ${t.replicas.join(" / ")} replicas | Lasts (after the canary pods are ready) |`, "|---|---|---|"];
  let i = 0;
  for (const r of t.rows) {
    i += 1;
    if (r.kind === "weight") {
      lines.push(`| ${i}. setWeight ${r.weight} | ${r.shares.map((s) => `${s.canary}:${s.stable} (${pct(s.canary / (s.canary + s.stable))})`).join(" / ")} | until the canary pods are available |`);
    } else if (r.kind === "analysis") {
      lines.push(`| ${i}. analysis (${r.metrics} SLIs) | as above | ${r.passes} s when it passes; a canary failing every measurement is aborted after ${r.abortsAfter} s |`);
    } else {
      lines.push(`| ${i}. pause | as above | ${r.passes} s |`);
    }
  }
  lines.push(`| end | promoted: 100 % | the old pods are scaled down |`);
  lines.push("");
  lines.push(`A release that fails every measurement is aborted **${t.firstAbort} s** after its first canary pods are ready. The longest a bad release can serve is **${t.longest} s** (plus the canary pods' start-up at each step): one that fails only the last measurements of the last analysis, at no more than **${pct(t.maxShare)}** of the requests.`);
  return lines.join("\n");
}
