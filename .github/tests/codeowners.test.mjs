// .github/CODEOWNERS: every tracked path has an owner, every line owns something, the syntax is GitHub's.
// Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownersOf, parseCodeowners, patternRegex } from './lib/codeowners.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const { rules, problems } = parseCodeowners(readFileSync(path.join(repoRoot, '.github/CODEOWNERS'), 'utf8'));
// Tracked files plus new ones not yet committed (not ignored): a folder added in the working tree counts too.
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

test('CODEOWNERS uses only syntax GitHub supports', () => {
  assert.deepEqual(problems, []);
  assert.ok(rules.length > 0, 'CODEOWNERS has no rules');
});

test('every tracked path has an owner (the last matching line names at least one)', () => {
  assert.ok(files.length > 100, `git ls-files found only ${files.length} files`);
  const ownerless = files.filter((f) => !(ownersOf(rules, f)?.owners.length > 0));
  assert.deepEqual(ownerless, [], 'add these paths (or their top-level folder) to .github/CODEOWNERS');
});

test('every top-level folder has a line of its own: no catch-all hides a new folder', () => {
  assert.ok(!rules.some((r) => ['*', '/*', '**', '/**'].includes(r.pattern)), 'a catch-all line would give every new folder an owner unseen');
  const top = [...new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]))];
  assert.ok(top.length >= 8, `only ${top.length} top-level folders`);
  for (const dir of top) assert.ok(rules.some((r) => r.pattern === `/${dir}/`), `no line "/${dir}/" in CODEOWNERS`);
});

test('every line owns at least one tracked path (no stale lines)', () => {
  for (const r of rules) assert.ok(files.some((f) => r.regex.test(f)), `CODEOWNERS:${r.line} ${r.pattern} matches no tracked path`);
});

test('release automation and CODEOWNERS itself need the release managers', () => {
  for (const f of ['.github/workflows/release.yml', '.github/CODEOWNERS']) {
    assert.ok(ownersOf(rules, f).owners.includes('@shopwatch/release'), `${f} is not owned by @shopwatch/release`);
  }
});

test('the pattern model follows gitignore rules as GitHub documents them', () => {
  assert.ok(patternRegex('/src/').test('src/main/A.java'));
  assert.ok(!patternRegex('/src/').test('k8s/src/x'));
  assert.ok(patternRegex('*.js').test('a/b/c.js'));
  assert.ok(patternRegex('docs/*').test('docs/a.md'));
  assert.ok(!patternRegex('docs/*').test('docs/x/a.md'));
  assert.ok(patternRegex('/Makefile').test('Makefile'));
  assert.ok(!patternRegex('/Makefile').test('k8s/Makefile'));
  assert.ok(patternRegex('**/logs').test('a/b/logs/x.txt'));
  const { rules: r, problems: p } = parseCodeowners('/a/ @team/x\n/a/b/\n!c @u\n/d/ not-an-owner\n');
  assert.equal(ownersOf(r, 'a/b/c').owners.length, 0, 'a later line without owners takes the ownership away');
  assert.equal(ownersOf(r, 'a/z').owners[0], '@team/x');
  assert.match(p.join('\n'), /negation/);
  assert.match(p.join('\n'), /"not-an-owner" is not a @user/);
});
