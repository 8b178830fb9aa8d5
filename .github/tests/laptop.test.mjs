// Tests of what lets `make test` run on a laptop as it runs in CI: the throwaway PostgreSQL of
// src/test/scripts/local-service.sh from a private folder, the tool table (toolchain/tools.tsv) with
// `make doctor`, and the dispatch of `make test` (toolchain/test.sh) on Debian as root, with Docker, or with
// neither, and `make up` without a Docker engine, run against stubbed commands on a PATH the test builds.
// Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, copyFileSync, chmodSync, existsSync, readFileSync, writeFileSync, symlinkSync, statSync, rmSync } from 'node:fs';
import YAML from 'yaml';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

// A port nothing listens on now: the drill and other checkouts may run this same test at the same time.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Every temporary folder a test makes, removed when the file's tests end.
const scratch = [];
function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

describe('local-service.sh from a private folder', () => {
  // As root the script runs PostgreSQL as user postgres; a clone inside a 0700 folder (like /root) is closed to it.
  // Only root can show this: an ordinary user runs PostgreSQL as itself and may enter its own folders.
  const isRoot = process.getuid?.() === 0;
  test('as root, PostgreSQL starts, answers and is cleaned up although postgres cannot enter the clone', { skip: !isRoot && 'needs root (CI runs as root)' }, async () => {
    const port = String(await freePort());
    const priv = tempDir('laptop-priv-');
    chmodSync(priv, 0o700);
    const clone = path.join(priv, 'clone');
    const scripts = path.join(clone, 'src/test/scripts');
    mkdirSync(scripts, { recursive: true });
    copyFileSync(path.join(repoRoot, 'src/test/scripts/local-service.sh'), path.join(scripts, 'local-service.sh'));
    const script = path.join(scripts, 'local-service.sh');
    const localDir = path.join(clone, 'target/local-test');
    const env = { ...process.env, LOCAL_DIR: localDir, PG_PORT: port };
    try {
      const up = sh('bash', [script, 'start-db'], { env, cwd: clone });
      assert.equal(up.code, 0, up.out + up.err);
      assert.doesNotMatch(up.out + up.err, /Permission denied|could not change directory/);
      const pgDir = sh('cat', [path.join(localDir, 'pg-dir')]).out.trim();
      assert.ok(pgDir && !pgDir.startsWith(priv), `PostgreSQL's files must live outside the private folder, not in ${pgDir}`);
      const psql = sh('bash', ['-c', `psql -h 127.0.0.1 -p ${port} -U shop -d shop -tAc "SELECT 40 + 2"`], { env: { ...env, PGPASSWORD: 'shop' } });
      assert.equal(psql.out.trim(), '42', psql.err);
      // Nothing in the clone was handed to postgres.
      const foreign = sh('find', [clone, '!', '-uid', '0']).out.trim();
      assert.equal(foreign, '', `files in the clone not owned by root: ${foreign}`);
      const down = sh('bash', [script, 'stop'], { env, cwd: clone });
      assert.equal(down.code, 0, down.err);
      assert.equal(existsSync(pgDir), false, `${pgDir} is left behind`);
      assert.ok(existsSync(path.join(localDir, 'postgres.log')), 'the server log is kept in LOCAL_DIR');
    } finally {
      sh('bash', [script, 'stop'], { env, cwd: clone });
      rmSync(priv, { recursive: true, force: true });
    }
  });
});

// ---- stubbed systems --------------------------------------------------------------------------------------------
// A PATH of one folder: the real basics the scripts use, linked in, and fake id/uname/docker/apt-get/brew/dnf/make
// that record their calls in `calls`. Only what a case puts there exists on that "machine".
const BASICS = ['bash', 'env', 'sed', 'awk', 'grep', 'cat', 'mkdir', 'mktemp', 'rm', 'sort', 'paste', 'wc', 'tr',
  'dirname', 'find', 'chown', 'chmod', 'head', 'tail', 'ls', 'cp', 'touch', 'date'];
const realPath = (cmd) => sh('bash', ['-c', `command -v ${cmd}`]).out.trim();
const realPython = sh('python3', ['-c', 'import sys; print(sys.executable)']).out.trim();

function fakeSystem({ uid = 1000, uname = 'Linux', apt = false, dnf = false, brew = false, docker = null, tools = [], makeFails = [], makeMissing = {}, makeBurns = [] } = {}) {
  const bin = tempDir('laptop-bin-');
  const calls = path.join(bin, 'calls');
  writeFileSync(calls, '');
  for (const b of BASICS) symlinkSync(realPath(b), path.join(bin, b));
  symlinkSync(realPython, path.join(bin, 'python3'));
  const fake = (name, body) => {
    writeFileSync(path.join(bin, name), `#!${realPath('bash')}\necho "${name} $*" >> '${calls}'\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  fake('id', `case "$1" in -u) echo ${uid} ;; -g) echo ${uid} ;; *) echo "uid=${uid}" ;; esac`);
  fake('uname', `echo ${uname}`);
  if (apt) {
    // "Installs" a package by putting its commands on PATH (Debian's prometheus package brings promtool too).
    fake('apt-get', `[ "$1" = install ] || exit 0
for p in "$@"; do
  case "$p" in -*|install) continue ;; prometheus) cmds="prometheus promtool" ;; *) cmds=$p ;; esac
  for c in $cmds; do printf '#!/bin/sh\\necho "%s 9.9.9"\\n' "$c" > "$(dirname "$0")/$c"; chmod +x "$(dirname "$0")/$c"; done
done`);
    fake('apt-cache', 'exit 0');
  }
  if (dnf) fake('dnf', 'exit 0');
  if (brew) fake('brew', 'exit 0');
  if (docker) fake('docker', `[ "$1" = info ] && exit ${docker.info ? 0 : 1}; exit 0`);
  for (const t of tools) fake(t, `echo "${t} version 1.2.3"`);
  // make PART: fails for the parts in makeFails; for makeMissing[PART] it records tools as toolchain/tools.sh would;
  // for the parts in makeBurns a child uses 1.2 s of CPU (process time, however loaded the machine) and passes.
  const missingCases = Object.entries(makeMissing).map(([p, t]) => `*" ${p}") echo ${t} >> "$TOOLCHAIN_MISSING_FILE"; exit 2 ;;`).join('\n');
  const failCases = makeFails.map((p) => `*" ${p}") exit 2 ;;`).join('\n');
  const burnCases = makeBurns.map((p) => `*" ${p}") python3 -c 'import time\nwhile time.process_time() < 1.2: pass' ;;`).join('\n');
  fake('make', `case " $*" in\n${missingCases}\n${failCases}\n${burnCases}\nesac\nexit 0`);
  const log = () => readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  return { bin, log, env: { PATH: bin, HOME: bin, TERM: 'dumb' } };
}

const testSh = path.join(repoRoot, 'toolchain/test.sh');
const toolsPy = path.join(repoRoot, 'toolchain/tools.py');
const dispatch = (sys, parts, env = {}) => sh(realPath('bash'), [testSh, ...parts], { env: { ...sys.env, MAKE: 'make', ...env } });
const tools = (sys, args, env = {}) => sh(realPython, [toolsPy, ...args], { env: { ...sys.env, ...env } });

// What ci.yml's test job really says, read with a YAML parser (test.sh reads it with awk).
function ciTestJob(file = path.join(repoRoot, '.github/workflows/ci.yml')) {
  const job = YAML.parse(readFileSync(file, 'utf8')).jobs.test;
  const step = (prefix) => job.steps.find((s) => String(s.uses ?? '').startsWith(prefix))?.with ?? {};
  return {
    image: job.container.image,
    java: String(step('actions/setup-java@')['java-version']),
    distribution: step('actions/setup-java@').distribution,
    node: String(step('actions/setup-node@')['node-version']),
    kubectl: step('Azure/setup-kubectl@').version,
  };
}

describe('make test dispatch (toolchain/test.sh)', () => {
  test("with Docker and not root: every part runs in ci.yml's image, repo mounted, caches in named volumes, files handed back", () => {
    const sys = fakeSystem({ uid: 501, uname: 'Darwin', brew: true, docker: { info: true } });
    const r = dispatch(sys, ['test-java', 'test-k8s']);
    assert.equal(r.code, 0, r.out + r.err);
    const ci = ciTestJob();
    assert.ok(ci.image && ci.java && ci.node && ci.kubectl, JSON.stringify(ci));
    assert.equal(ci.distribution, 'temurin');
    const build = sys.log().find((l) => l.startsWith('docker build'));
    assert.ok(build, sys.log().join('\n'));
    for (const arg of [`CI_IMAGE=${ci.image}`, `JDK_IMAGE=eclipse-temurin:${ci.java}-jdk`, `NODE_IMAGE=node:${ci.node}-bookworm-slim`,
      `KUBECTL_IMAGE=registry.k8s.io/kubectl:${ci.kubectl}`, '-f toolchain/ci-image.Dockerfile', '-t shopwatch-test:local']) {
      assert.ok(build.includes(arg), `docker build lacks ${arg}: ${build}`);
    }
    const run = sys.log().find((l) => l.startsWith('docker run'));
    assert.ok(run, sys.log().join('\n'));
    for (const arg of [`-v ${repoRoot}:/workspace`, '-w /workspace', '-v shopwatch-m2:/root/.m2', '-v shopwatch-npm:/root/.npm',
      '-e TEST_MODE=native', '-e TEST_CHOWN=501:501', '--rm']) {
      assert.ok(run.includes(arg), `docker run lacks ${arg}: ${run}`);
    }
    assert.ok(run.endsWith('shopwatch-test:local bash toolchain/test.sh test-java test-k8s'), run);
    // Nothing ran or was installed on the host.
    assert.equal(sys.log().filter((l) => /^(make|apt-get|brew) /.test(l)).length, 0, sys.log().join('\n'));
  });

  test("the image's Dockerfile is built on exactly the images test.sh passes, so ci.yml stays the one place they are named", () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'toolchain/ci-image.Dockerfile'), 'utf8');
    for (const arg of ['CI_IMAGE', 'JDK_IMAGE', 'NODE_IMAGE', 'KUBECTL_IMAGE']) {
      assert.match(dockerfile, new RegExp(`^FROM \\$\\{${arg}\\}`, 'm'), `no FROM \${${arg}}`);
      assert.match(dockerfile, new RegExp(`^ARG ${arg}$`, 'm'), `${arg} has a default of its own`);
    }
    assert.doesNotMatch(dockerfile, /^FROM (?!\$\{)/m, 'an image named in the Dockerfile itself');
  });

  test("a change of ci.yml's container image changes the image make test builds on", () => {
    const dir = tempDir('laptop-ci-');
    const file = path.join(dir, 'ci.yml');
    const ci = ciTestJob();
    writeFileSync(file, readFileSync(path.join(repoRoot, '.github/workflows/ci.yml'), 'utf8').replace(`image: ${ci.image}`, 'image: debian:12.99'));
    assert.equal(ciTestJob(file).image, 'debian:12.99');
    const sys = fakeSystem({ docker: { info: true } });
    const r = dispatch(sys, ['test-java'], { CI_WORKFLOW: file });
    assert.equal(r.code, 0, r.err);
    assert.match(sys.log().find((l) => l.startsWith('docker build')), /CI_IMAGE=debian:12\.99 /);
  });

  test('Debian as root: every part runs here (the parts install what they miss), Docker or not', () => {
    const sys = fakeSystem({ uid: 0, apt: true, docker: { info: true } });
    const r = dispatch(sys, ['test-java', 'test-k8s']);
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(sys.log().filter((l) => l.startsWith('make ')), ['make -k test-java', 'make -k test-k8s']);
    assert.equal(sys.log().filter((l) => l.startsWith('docker')).length, 0);
    assert.match(r.out, /^parts: 2 passed, 0 failed, in \d+ s, \d+ CPU s$/m);
    assert.match(r.out, /make test: all checks passed\s*$/);
  });

  test('neither Docker nor root: a part lacking a tool is NOT RUN with the tool named, the others run, and make test fails', () => {
    const sys = fakeSystem({ uid: 501, uname: 'Darwin', brew: true, makeMissing: { 'test-k8s': 'kubectl' } });
    const r = dispatch(sys, ['test-java', 'test-k8s', 'test-workflows']);
    assert.equal(r.code, 1, r.out + r.err);
    assert.deepEqual(sys.log().filter((l) => l.startsWith('make ')), ['make -k test-java', 'make -k test-k8s', 'make -k test-workflows']);
    assert.match(r.out, /^ {2}passed {3}test-java {2}\(\d+ s, \d+ CPU s\)$/m);
    assert.match(r.out, /^ {2}NOT RUN {2}test-k8s \(missing kubectl\)$/m);
    assert.match(r.out, /^parts: 2 passed, 1 failed, in \d+ s, \d+ CPU s$/m);
    assert.doesNotMatch(r.out, /all checks passed/);
    assert.match(r.err, /could not run here, so this is not CI's result/);
  });

  test("each part's line gives its own CPU seconds (its processes', not the machine's), the summary their sum", () => {
    const sys = fakeSystem({ uid: 0, apt: true, makeBurns: ['test-java'] });
    const r = dispatch(sys, ['test-java', 'test-k8s']);
    assert.equal(r.code, 0, r.out + r.err);
    const cpu = (re) => Number(re.exec(r.out)?.[1]);
    assert.equal(cpu(/^ {2}passed {3}test-java {2}\(\d+ s, (\d+) CPU s\)$/m), 1, r.out);
    assert.equal(cpu(/^ {2}passed {3}test-k8s {2}\(\d+ s, (\d+) CPU s\)$/m), 0, r.out);
    assert.equal(cpu(/^parts: 2 passed, 0 failed, in \d+ s, (\d+) CPU s$/m), 1, r.out);
  });

  test('make up without a running Docker engine says so in one line and exits non-zero, no stack trace', () => {
    const sys = fakeSystem({ docker: { info: false } });
    // The real make on this PATH (fakeSystem's records calls): the recipe itself must refuse.
    rmSync(path.join(sys.bin, 'make'));
    symlinkSync(realPath('make'), path.join(sys.bin, 'make'));
    // UP_TIMEOUT bounds the wait for healthy containers should the refusal ever be skipped.
    const r = sh(path.join(sys.bin, 'make'), ['-C', repoRoot, 'up', 'UP_TIMEOUT=5'], { env: sys.env });
    assert.notEqual(r.code, 0, r.out + r.err);
    assert.match(r.err, /^error: Docker is not running \(`docker info` failed\)/m);
    assert.doesNotMatch(r.out + r.err, /Traceback|^\s+at /m);
    assert.deepEqual(sys.log().filter((l) => l.startsWith('docker ')), ['docker info']);
  });

  test('a Docker client without a running engine counts as no Docker', () => {
    const sys = fakeSystem({ docker: { info: false }, makeFails: ['test-k8s'] });
    const r = dispatch(sys, ['test-java', 'test-k8s']);
    assert.equal(r.code, 1);
    assert.ok(sys.log().includes('docker info'));
    assert.equal(sys.log().filter((l) => /^docker (run|build)/.test(l)).length, 0);
    assert.match(r.out, /^ {2}FAILED {3}test-k8s {2}\(\d+ s, \d+ CPU s\)$/m);
  });

  test('inside the container, files the run created in the tree go back to the host user', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, () => {
    const repo = tempDir('laptop-repo-');
    mkdirSync(path.join(repo, 'toolchain'));
    copyFileSync(testSh, path.join(repo, 'toolchain/test.sh'));
    const sys = fakeSystem({ uid: 0, apt: true });
    // This make writes into the tree as root, as the Java build does.
    writeFileSync(path.join(sys.bin, 'make'), `#!${realPath('bash')}\nmkdir -p target/classes && touch target/classes/A.class\n`);
    const r = sh(realPath('bash'), [path.join(repo, 'toolchain/test.sh'), 'test-java'], { env: { ...sys.env, TEST_MODE: 'native', TEST_CHOWN: '4321:4321' } });
    assert.equal(r.code, 0, r.out + r.err);
    for (const f of ['target', 'target/classes', 'target/classes/A.class', 'toolchain/test.sh']) {
      assert.equal(statSync(path.join(repo, f)).uid, 4321, `${f} is not the host user's`);
    }
    rmSync(repo, { recursive: true, force: true });
  });
});

describe('tool table (toolchain/tools.tsv) and make doctor', () => {
  const table = readFileSync(path.join(repoRoot, 'toolchain/tools.tsv'), 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));

  test('lists every tool the targets use, each line complete', () => {
    assert.ok(table.length > 0);
    for (const row of table) assert.equal(row.length, 8, row.join(' | '));
    const names = table.map((r) => r[0]);
    for (const tool of ['java', 'mvn', 'node', 'npm', 'python3', 'PyYAML', 'kubectl', 'promtool', 'prometheus',
      'prometheus-postgres-exporter', 'PostgreSQL server', 'docker-compose', 'yamllint', 'shellcheck', 'jq', 'curl', 'git',
      'amtool', 'alertmanager', 'prometheus-blackbox-exporter', 'pgbackrest', 'wrk']) {
      assert.ok(names.includes(tool), `${tool} is not in the table`);
    }
  });

  test("every target the table names exists, and every target's require call is answered by the table", () => {
    const makeDb = sh('make', ['-C', repoRoot, '-qp'], { env: { ...process.env, MAKEFLAGS: '' } }).out;
    const targets = new Set([...makeDb.matchAll(/^([a-zA-Z0-9_.-]+):/gm)].map((m) => m[1]));
    const named = new Set(table.flatMap((r) => (r[3] === '-' ? [] : r[3].split(','))));
    assert.ok(named.size > 0);
    for (const t of named) assert.ok(targets.has(t), `the table names ${t}, which is no make target`);
    // Every `$(REQUIRE) X` in a recipe (X = the target itself when $@) and every `tools.sh require X` in a script.
    const files = sh('git', ['-C', repoRoot, 'ls-files', '*.mk', 'Makefile', '*.sh']).out.trim().split('\n')
      .filter((f) => existsSync(path.join(repoRoot, f)));
    const asked = [];
    for (const f of files) {
      const text = readFileSync(path.join(repoRoot, f), 'utf8');
      for (const m of text.matchAll(/^([a-zA-Z0-9_.-]+):[^\n]*\n(?:\t[^\n]*\n)*?\t@?\$\(REQUIRE\) (\S+)/gm)) asked.push(m[2] === '$@' ? m[1] : m[2]);
      for (const m of text.matchAll(/tools\.sh require ([a-z0-9-]+)/g)) asked.push(m[1]);
    }
    assert.ok(asked.length >= 8, asked.join(' '));
    for (const t of asked) assert.ok(named.has(t), `${t} asks for its tools, but no line of the table names it`);
  });

  test('doctor: every tool with found or not, where, version and the targets that need it', () => {
    const sys = fakeSystem({ tools: ['kubectl', 'jq'] });
    const r = tools(sys, ['doctor']);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.split('\n').filter((l) => /^\S/.test(l) && !/^tool\s/.test(l) && !/tools found/.test(l));
    assert.equal(rows.length, table.length, r.out);
    assert.match(r.out, new RegExp(`^kubectl\\s+yes\\s+${sys.bin}/kubectl\\s+1\\.2\\.3\\s+(\\S+,)?test-k8s(,\\S+)?$`, 'm'));
    assert.match(r.out, /^shellcheck\s+NO\s+-\s+-\s+(\S+,)?test-k8s(,\S+)?$/m);
    assert.match(r.out, /tools found \(system: other\)/);
  });

  const cases = [
    ['macOS', { uname: 'Darwin', brew: true }, /^missing: shellcheck \(needed by test-k8s\): brew install shellcheck$/m, /^missing: kubectl \(needed by test-k8s\): brew install kubernetes-cli@1\.32$/m],
    ['Debian/Ubuntu without root', { apt: true }, /^missing: shellcheck \(needed by test-k8s\): sudo apt-get install shellcheck$/m, /^missing: kubectl \(needed by test-k8s\): kubectl 1\.32, which carries kustomize; no Debian package: https:/m],
    ['Fedora', { dnf: true }, /^missing: shellcheck \(needed by test-k8s\): sudo dnf install ShellCheck$/m, /^missing: kubectl \(needed by test-k8s\): sudo dnf install kubernetes-client$/m],
  ];
  for (const [name, opts, shellcheck, kubectl] of cases) {
    test(`${name}: one line per missing tool saying how to get it there, exit 1, and the tools recorded for make test`, () => {
      const sys = fakeSystem({ ...opts, tools: ['node', 'npm', 'yamllint'] });
      const record = path.join(sys.bin, 'missing');
      const r = tools(sys, ['require', 'test-k8s'], { TOOLCHAIN_MISSING_FILE: record });
      assert.equal(r.code, 1, r.out + r.err);
      assert.match(r.err, shellcheck);
      assert.match(r.err, kubectl);
      assert.equal(r.err.trim().split('\n').length, 3, r.err); // kubectl, promtool, shellcheck
      assert.deepEqual(readFileSync(record, 'utf8').trim().split('\n'), ['kubectl', 'promtool', 'shellcheck']);
      assert.equal(sys.log().filter((l) => /^(apt-get|brew|dnf) install/.test(l)).length, 0, 'installed without being root');
    });
  }

  test("without python3, tools.sh names python3 itself and how to get it (the table's own line)", () => {
    const sys = fakeSystem({ uname: 'Darwin', brew: true });
    rmSync(path.join(sys.bin, 'python3'));
    const record = path.join(sys.bin, 'missing');
    const r = sh(realPath('bash'), [path.join(repoRoot, 'toolchain/tools.sh'), 'require', 'test-k8s'], { env: { ...sys.env, TOOLCHAIN_MISSING_FILE: record } });
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /^missing: python3 \(needed by every check and by this script\): brew install python@3\.11$/m);
    assert.equal(readFileSync(record, 'utf8'), 'python3\n');
  });

  test('Debian as root: the missing tools come from one apt-get install of their packages', () => {
    const sys = fakeSystem({ uid: 0, apt: true, tools: ['kubectl', 'node', 'npm'] });
    const r = tools(sys, ['require', 'test-k8s']);
    assert.equal(r.code, 0, r.err);
    const installs = sys.log().filter((l) => l.startsWith('apt-get install'));
    assert.deepEqual(installs, ['apt-get install -y -qq --no-install-recommends prometheus shellcheck yamllint']);
  });
});
