// .github/renovate.json5: valid against the published schema of the pinned renovate package (unknown options
// rejected), and covering every dependency file of the repository — a new package.json folder, pom.xml, workflow,
// Dockerfile, compose/.env image or k8s/ image that Renovate would not scan fails here.
// Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';
import { imageName, manifestImages, regexDeps, scannedFiles } from './lib/renovate.mjs';
import { renovateFacts, strictValidator } from './lib/renovate-schema.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const configFile = path.join(repoRoot, '.github/renovate.json5');
const config = JSON5.parse(readFileSync(configFile, 'utf8'));
const facts = renovateFacts();
// Tracked files and new, not ignored ones: a folder added in the working tree counts before it is committed.
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.includes('node_modules/'));
const read = (f) => readFileSync(path.join(repoRoot, f), 'utf8');
const scanned = scannedFiles(config, facts, files);
const nonEmpty = (list, what) => {
  assert.ok(list.length > 0, `found no ${what}`);
  return list;
};

describe('the Renovate configuration', () => {
  test('is where Renovate looks, and validates against the pinned package schema with unknown options rejected', () => {
    assert.ok(facts.configFileNames.includes('.github/renovate.json5'), 'Renovate does not read .github/renovate.json5');
    const validate = strictValidator();
    assert.equal(validate(config), true, JSON.stringify(validate.errors, null, 1));
  });

  test('the strict validation rejects an unknown option, a misspelt nested one and a wrong type', () => {
    const validate = strictValidator();
    assert.equal(validate({ ...config, enabledManager: ['npm'] }), false);
    assert.match(JSON.stringify(validate.errors), /enabledManager/);
    assert.equal(validate({ ...config, packageRules: [{ matchManagers: ['npm'], rangeStrategie: 'pin' }] }), false);
    assert.match(JSON.stringify(validate.errors), /rangeStrategie/);
    assert.equal(validate({ ...config, prConcurrentLimit: 'five' }), false);
    assert.equal(validate({ ...config, enabledManagers: ['npm', 'no-such-manager'] }), false);
  });

  test('uses no preset: config:recommended would skip every **/tests/** folder, where all package.json files are', () => {
    assert.deepEqual(config.extends ?? [], []);
    assert.ok(facts.presetIgnorePaths[':ignoreModulesAndTests'].includes('**/tests/**'), 'the recorded preset no longer ignores tests folders');
  });
});

describe('every dependency file is scanned', () => {
  test('every package.json folder, by the npm manager', () => {
    const pkgs = nonEmpty(files.filter((f) => path.basename(f) === 'package.json'), 'package.json');
    assert.deepEqual(pkgs.filter((f) => !scanned.npm.includes(f)), [], 'add these to includePaths in .github/renovate.json5');
  });

  test('every pom.xml, by the maven manager', () => {
    const poms = nonEmpty(files.filter((f) => path.basename(f) === 'pom.xml'), 'pom.xml');
    assert.deepEqual(poms.filter((f) => !scanned.maven.includes(f)), []);
  });

  test('every workflow, by the github-actions manager', () => {
    const workflows = nonEmpty(files.filter((f) => /^\.github\/workflows\/.+\.ya?ml$/.test(f)), 'workflows');
    assert.deepEqual(workflows.filter((f) => !scanned['github-actions'].includes(f)), []);
  });

  test('every Dockerfile that names an image, by the dockerfile manager', () => {
    const named = nonEmpty(
      files.filter((f) => /(^|\/|\.)Dockerfile$/.test(f) && /^(?:FROM\s+[a-z0-9]|ARG\s+\w+=[a-z0-9][^\s]*:)/m.test(read(f))),
      'Dockerfiles naming an image',
    );
    assert.deepEqual(named.filter((f) => !scanned.dockerfile.includes(f)), []);
  });

  test('every image of compose/.env, by the regex manager, as a docker dependency with its tag', () => {
    assert.ok(scanned['custom.regex'].includes('compose/.env'), 'compose/.env is not scanned');
    const env = read('compose/.env');
    const lines = nonEmpty([...env.matchAll(/^([A-Z0-9_]+_IMAGE)=(\S+)$/gm)].map((m) => m[2]), 'NAME_IMAGE= lines in compose/.env');
    const deps = regexDeps(config, 'compose/.env', env);
    for (const ref of lines) {
      if (config.ignoreDeps.includes(imageName(ref))) continue;
      const dep = deps.find((d) => `${d.depName}:${d.currentValue}` === ref);
      assert.ok(dep, `compose/.env: ${ref} is not extracted`);
      assert.equal(dep.datasource, 'docker');
    }
  });

  test('every image in k8s/, by the kubernetes manager', () => {
    const manifests = nonEmpty(
      files.filter((f) => /^k8s\/.+\.ya?ml$/.test(f) && !f.startsWith('k8s/tests/third-party/') && manifestImages(read(f)).length > 0),
      'k8s manifests with images',
    );
    assert.deepEqual(manifests.filter((f) => !scanned.kubernetes.includes(f)), []);
    for (const f of manifests) {
      for (const ref of manifestImages(read(f))) {
        if (config.ignoreDeps.includes(imageName(ref))) continue;
        assert.match(ref, /:[^:/@]+(@sha256:[0-9a-f]{64})?$/, `${f}: ${ref} has no tag for Renovate to move`);
        assert.doesNotMatch(ref, /:latest(@|$)/, `${f}: ${ref}`);
      }
    }
  });

  test('every ignored dependency exists, and each is one we build or must not move', () => {
    const names = new Set([
      ...[...read('compose/.env').matchAll(/^[A-Z0-9_]+_IMAGE=(\S+)$/gm)].map((m) => imageName(m[1])),
      ...files.filter((f) => f.startsWith('k8s/') && /\.ya?ml$/.test(f)).flatMap((f) => manifestImages(read(f)).map(imageName)),
    ]);
    for (const dep of config.ignoreDeps) assert.ok(names.has(dep), `ignoreDeps names ${dep}, which no file uses`);
  });
});

describe('the coverage model can fail', () => {
  test('a new package.json folder, a pom.xml, a workflow or a manifest outside the listed paths is reported', () => {
    const extra = ['payments/tests/package.json', 'payments/pom.xml', 'deploy/k8s/app.yaml', 'x/node_modules/y/package.json'];
    const s = scannedFiles(config, facts, [...files, ...extra]);
    assert.ok(!s.npm.includes('payments/tests/package.json'));
    assert.ok(!s.maven.includes('payments/pom.xml'));
    assert.ok(!s.kubernetes.includes('deploy/k8s/app.yaml'));
    assert.ok(!s.npm.includes('x/node_modules/y/package.json'));
    // Without includePaths, Renovate's default patterns alone would scan the new package.json.
    const open = scannedFiles({ ...config, includePaths: [] }, facts, [...files, ...extra]);
    assert.ok(open.npm.includes('payments/tests/package.json'));
  });

  test('the recorded defaults are those of the pinned renovate package', () => {
    const dirs = readdirSync(path.join(here, 'third-party')).filter((d) => d.startsWith('renovate-'));
    assert.deepEqual(dirs, [`renovate-${facts.version}`]);
    const lock = JSON.parse(read('.github/tests/package-lock.json'));
    assert.equal(lock.packages['node_modules/json5']?.version !== undefined, true);
    for (const m of config.enabledManagers.filter((x) => x !== 'custom.regex')) assert.ok(Array.isArray(facts.managers[m]), `no defaults recorded for ${m}`);
  });
});
