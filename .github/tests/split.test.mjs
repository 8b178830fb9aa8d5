// What runs where: checks that leave `make test` for a job of their own must still run somewhere. Every live
// check (a make target named *-live) is reached from `make test` or from a target a workflow job calls, and the
// README's "What runs where" table matches the Makefile and ci.yml: its `make test` row lists exactly TEST_PARTS,
// every other row's target runs in the CI job the row names, and each target a row says it holds is reached from
// that row's target. Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { makeCalls, makeRules, runSteps, workflowFiles } from './lib/workflows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const rules = makeRules(repoRoot);

/** The Makefile's TEST_PARTS, as make expands it (the parts toolchain/test.sh runs for `make test`). */
function testParts() {
  const env = { ...process.env };
  delete env.MAKEFLAGS;
  delete env.MFLAGS;
  delete env.MAKELEVEL;
  const r = spawnSync('make', ['-s', '-C', repoRoot, '--eval', 'print-test-parts: ; @echo $(TEST_PARTS)', 'print-test-parts'],
    { encoding: 'utf8', env });
  assert.equal(r.status, 0, `make could not print TEST_PARTS: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/).filter(Boolean);
}
const parts = testParts();

/** Targets reached from `roots` through prerequisites; `test` reaches its parts (its recipe runs them). */
function reached(roots) {
  const seen = new Set();
  const todo = [...roots];
  while (todo.length) {
    const t = todo.pop();
    if (seen.has(t)) continue;
    seen.add(t);
    todo.push(...(rules.get(t) ?? []), ...(t === 'test' ? parts : []));
  }
  return seen;
}

/** Per workflow job ("file:job"), the make targets its steps call. */
function jobTargets() {
  const jobs = new Map();
  for (const file of workflowFiles(path.join(repoRoot, '.github/workflows'))) {
    for (const { jobId, run } of runSteps(parse(readFileSync(file, 'utf8')))) {
      const key = `${path.basename(file)}:${jobId}`;
      for (const c of makeCalls(run).calls) jobs.set(key, [...(jobs.get(key) ?? []), ...c.targets]);
    }
  }
  return jobs;
}
const jobs = jobTargets();

/** Rows of the README's "What runs where" table: { target, job, holds: [backticked names of the third cell] }. */
function whereRows() {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('What runs where');
  assert.ok(start >= 0, 'README.md has no "What runs where" table');
  const rows = [];
  for (const line of readme.slice(start).split('\n').slice(1)) {
    if (rows.length && !line.startsWith('|')) break;
    const m = /^\| `make ([a-z0-9-]+)` \| CI's `([a-z0-9-]+)` job[^|]*\| (.*) \|$/.exec(line);
    if (m) rows.push({ target: m[1], job: m[2], holds: [...m[3].matchAll(/`([a-z0-9-]+)`/g)].map((x) => x[1]) });
  }
  return rows;
}

describe('what runs where', () => {
  test('every live check runs in make test or in a CI job', () => {
    const live = [...rules.keys()].filter((t) => /^[a-z0-9-]+-live$/.test(t));
    assert.ok(live.length > 0, 'no *-live target found: the make database was not read');
    const ci = reached([...jobs.values()].flat());
    for (const t of live) assert.ok(ci.has(t), `make ${t} runs neither in make test nor in any CI job`);
  });

  test("the README's table: each target runs in the job it names and holds what it says", () => {
    const rows = whereRows();
    assert.ok(rows.length >= 2, 'the "What runs where" table has no rows of the form | `make X` | CI\'s `job` job | ... |');
    for (const { target, job, holds } of rows) {
      const called = jobs.get(`ci.yml:${job}`) ?? [];
      assert.ok(called.includes(target), `README: make ${target} in CI's ${job} job, but ci.yml's ${job} job calls ${called.join(', ') || 'no make target'}`);
      const inside = reached([target]);
      for (const name of holds.filter((n) => rules.has(n))) {
        assert.ok(inside.has(name), `README: make ${target} holds ${name}, but ${name} is not among its prerequisites`);
      }
    }
    const testRow = rows.find((r) => r.target === 'test');
    assert.ok(testRow, 'the table has no row for make test');
    assert.deepEqual(testRow.holds.filter((n) => parts.includes(n) || /^test-/.test(n)), parts,
      "README: the make test row must list the Makefile's TEST_PARTS, in order");
  });
});
