// The release flow offline: which image tags release.yml pushes, how its runs queue, and (below) the scripts that
// move staging and production to an image digest. Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { commentAbove, concurrencyGroup, metadataTags } from './lib/release.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const fixtures = path.join(here, 'fixtures');
const releaseFile = path.join(repoRoot, '.github/workflows/release.yml');
const releaseText = readFileSync(releaseFile, 'utf8');
const release = parse(releaseText);
const metaStep = () => release.jobs.publish.steps.find((s) => String(s.uses).startsWith('docker/metadata-action@'));

describe('release.yml image tags', () => {
  test('a tag v1.2.3 pushes exactly 1.2.3 and 1.2, as the READMEs promise: no latest', () => {
    const tags = metadataTags(metaStep().with, 'v1.2.3');
    assert.deepEqual(tags, ['1.2.3', '1.2']);
    // The promise itself, in both places it is made.
    assert.match(readFileSync(path.join(repoRoot, '.github/workflows/README.md'), 'utf8'), /tags `X\.Y\.Z` and `X\.Y` from the git tag/);
    assert.match(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'), /tags `X\.Y\.Z` and `X\.Y` only/);
  });

  test('a pre-release v2.0.0-rc.1 pushes only 2.0.0-rc.1', () => {
    assert.deepEqual(metadataTags(metaStep().with, 'v2.0.0-rc.1'), ['2.0.0-rc.1']);
  });

  test('the model follows the action: without flavor latest=false, semver tags bring latest along', () => {
    const { tags } = metaStep().with;
    assert.deepEqual(metadataTags({ tags }, 'v1.2.3'), ['1.2.3', '1.2', 'latest']);
    assert.deepEqual(metadataTags({ tags, flavor: 'latest=auto' }, 'v1.2.3'), ['1.2.3', '1.2', 'latest']);
    assert.deepEqual(metadataTags({ tags: 'type=raw,value=edge', flavor: 'latest=auto' }, 'v1.2.3'), ['edge']);
    assert.throws(() => metadataTags({ tags: 'type=sha' }, 'v1.2.3'), /type sha is not modelled/);
    assert.throws(() => metadataTags({ tags, flavor: 'prefix=x-' }, 'v1.2.3'), /flavor prefix is not modelled/);
  });

  test('the build pushes the tags and labels the metadata step computed', () => {
    const build = release.jobs.publish.steps.find((s) => String(s.uses).startsWith('docker/build-push-action@'));
    assert.equal(build.with.tags, '${{ steps.meta.outputs.tags }}');
    assert.equal(metaStep().id, 'meta');
  });
});

describe('release.yml concurrency', () => {
  const group = (ref) => concurrencyGroup(release.concurrency.group, { workflow: 'release', ref });

  test('each tag has a group of its own: tags run side by side, a re-run of one tag waits', () => {
    assert.notEqual(group('refs/tags/v1.2.3'), group('refs/tags/v1.2.4'));
    assert.equal(group('refs/tags/v1.2.3'), group('refs/tags/v1.2.3'));
    assert.equal(release.concurrency['cancel-in-progress'], false);
  });

  test('the comment above concurrency says what the group does', () => {
    const comment = commentAbove(releaseText, 'concurrency');
    assert.ok(comment.length > 0, 'release.yml has no comment above concurrency');
    const perTag = group('refs/tags/v1.2.3') !== group('refs/tags/v1.2.4');
    if (perTag) {
      assert.match(comment, /One group per tag/);
      assert.match(comment, /side by side/);
      assert.doesNotMatch(comment, /waits for the first/, 'the comment claims tags queue behind each other, but each tag has its own group');
    } else {
      assert.match(comment, /one group for all tags/i);
    }
  });

  test('the group model evaluates only what it knows', () => {
    assert.equal(concurrencyGroup('${{ github.workflow }}-${{ github.ref }}', { workflow: 'Release', ref: 'refs/tags/v1' }), 'release-refs/tags/v1');
    assert.throws(() => concurrencyGroup('${{ github.sha }}', { ref: 'x' }), /github.sha is not modelled/);
    assert.throws(() => concurrencyGroup('${{ inputs.x }}', {}), /cannot evaluate/);
  });
});

// ------------------------------------------------------------------ moving staging and production by pull request
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const OTHER = `sha256:${'fedcba9876543210'.repeat(4)}`;
const realOverlays = ['staging', 'production'].every((e) => existsSync(path.join(repoRoot, 'k8s/overlays', e, 'kustomization.yaml')));

/**
 * A scratch clone to run release-pr.sh in: the scripts, the yaml package, environment overlays (the fixture ones, or
 * the real k8s/ and observability/ trees), a bare `origin` to push to, and a gh stub that logs its calls and says
 * whether a pull request is open already (`openPr`).
 */
function scratch({ real = false, openPr = '' } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'release-pr-'));
  const work = path.join(root, 'work');
  mkdirSync(path.join(work, '.github/scripts'), { recursive: true });
  mkdirSync(path.join(work, '.github/tests'), { recursive: true });
  for (const f of ['release-pr.sh', 'kustomize-image.mjs']) cpSync(path.join(repoRoot, '.github/scripts', f), path.join(work, '.github/scripts', f));
  cpSync(path.join(here, 'package.json'), path.join(work, '.github/tests/package.json'));
  symlinkSync(path.join(here, 'node_modules'), path.join(work, '.github/tests/node_modules'));
  writeFileSync(path.join(work, '.gitignore'), 'node_modules\n');
  if (real) {
    for (const d of ['k8s', 'observability']) {
      cpSync(path.join(repoRoot, d), path.join(work, d), { recursive: true, filter: (src) => !/node_modules|[/\\]tests[/\\]/.test(src) });
    }
  } else {
    cpSync(path.join(fixtures, 'release/overlays'), path.join(work, 'k8s/overlays'), { recursive: true });
  }
  const git = (cwd, ...args) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
  git(root, 'init', '-q', '--bare', 'origin.git');
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'base');
  git(work, 'remote', 'add', 'origin', path.join(root, 'origin.git'));
  git(work, 'push', '-q', 'origin', 'main');
  const bin = path.join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'gh'), `#!/usr/bin/env bash\nprintf '%s\\n' "gh $*" >> "${root}/gh.log"\ncase "$1 $2" in "pr list") echo -n '${openPr}' ;; esac\n`);
  chmodSync(path.join(bin, 'gh'), 0o755);
  const run = (...args) => {
    const r = spawnSync('bash', [path.join(work, '.github/scripts/release-pr.sh'), ...args], {
      cwd: work, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RELEASE_BASE_BRANCH: 'main' },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const ghLog = () => (existsSync(path.join(root, 'gh.log')) ? readFileSync(path.join(root, 'gh.log'), 'utf8') : '');
  const overlay = (env) => readFileSync(path.join(work, 'k8s/overlays', env, 'kustomization.yaml'), 'utf8');
  const onOrigin = (branch, file) => git(root, '--git-dir=origin.git', 'show', `${branch}:${file}`);
  const changedOn = (branch) => git(root, '--git-dir=origin.git', 'diff', '--name-only', 'main', branch).trim().split('\n').filter(Boolean);
  return { root, work, git, run, ghLog, overlay, onOrigin, changedOn };
}

const imageOf = (work, env) =>
  [...execFileSync('kubectl', ['kustomize', path.join(work, 'k8s/overlays', env)], { encoding: 'utf8' }).matchAll(/^\s*-?\s*image:\s*(\S*shop[@:]\S+)$/gm)].map((m) => m[1]);
/** imagePullPolicy of every container (in any pod template) running the shop image in an overlay's build. */
const pullPolicyOf = (work, env) => {
  const policies = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    if (typeof node.image === 'string' && /(^|\/)shop[@:]/.test(node.image)) policies.push(node.imagePullPolicy ?? 'IfNotPresent');
    Object.values(node).forEach(walk);
  };
  parseAllDocuments(execFileSync('kubectl', ['kustomize', path.join(work, 'k8s/overlays', env)], { encoding: 'utf8' })).forEach((d) => walk(d.toJS()));
  return policies;
};

describe('release-pr.sh staging: the release moves staging to the digest it published', () => {
  test('edits only the staging overlay, pushes a branch, opens the pull request, dispatches ci.yml on it', () => {
    const s = scratch();
    const r = s.run('staging', `ghcr.io/Acme/shop@${DIGEST}`, 'v1.2.3');
    assert.equal(r.code, 0, r.err);
    const branch = 'release/staging-v1.2.3';
    const staged = s.onOrigin(branch, 'k8s/overlays/staging/kustomization.yaml');
    assert.match(staged, new RegExp(`- name: shop\\n\\s+newName: ghcr.io/acme/shop\\n\\s+digest: ${DIGEST}\\n`), 'owner lower-cased, pinned by digest');
    assert.doesNotMatch(staged, /newTag/);
    assert.match(staged, /^# The image this environment runs/m, 'comments are kept');
    assert.deepEqual(s.changedOn(branch), ['k8s/overlays/staging/kustomization.yaml']);
    assert.deepEqual(imageOf(s.work, 'staging'), [`ghcr.io/acme/shop@${DIGEST}`]);
    const gh = s.ghLog();
    assert.match(gh, new RegExp(`^gh pr create --base main --head ${branch} --title Deploy v1.2.3 to staging`, 'm'));
    assert.match(gh, new RegExp(`^gh workflow run ci.yml --ref ${branch}$`, 'm'));
  });

  test('a re-run updates the branch of the open pull request instead of opening a second', () => {
    const s = scratch({ openPr: '7' });
    const r = s.run('staging', `ghcr.io/acme/shop@${DIGEST}`, 'v1.2.3');
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(s.ghLog(), /pr create/);
    assert.match(r.out, /open already/);
  });

  test('bad input is refused with one clear line, and nothing is pushed', () => {
    const s = scratch();
    let r = s.run('staging', 'ghcr.io/acme/shop:1.2.3', 'v1.2.3');
    assert.equal(r.code, 2);
    assert.match(r.err, /is not registry\/repository@sha256:<64 hex>/);
    r = s.run('staging', `ghcr.io/acme/shop@${DIGEST}`, 'latest');
    assert.equal(r.code, 1);
    assert.match(r.err, /VERSION latest is not a semantic version/);
    r = s.run('canary');
    assert.equal(r.code, 2);
    assert.match(r.err, /usage:/);
    r = s.run('production');
    assert.equal(r.code, 1);
    assert.match(r.err, /staging runs no image pinned by digest: nothing to promote/);
    assert.equal(s.ghLog(), '');
  });
});

describe('release-pr.sh production: promotion copies the digest staging runs', () => {
  test('after the staging pull request is merged, production gets the same digest by a pull request of its own', () => {
    const s = scratch();
    assert.equal(s.run('staging', `ghcr.io/acme/shop@${DIGEST}`, 'v1.2.3').code, 0);
    s.git(s.work, 'switch', '-q', 'main');
    s.git(s.work, 'merge', '-q', '--ff-only', 'release/staging-v1.2.3');
    const r = s.run('production');
    assert.equal(r.code, 0, r.err);
    const branch = `release/production-${DIGEST.slice(7, 19)}`;
    s.git(s.work, 'fetch', '-q', 'origin');
    const diff = s.git(s.work, 'diff', '--name-only', 'main', `origin/${branch}`).trim().split('\n');
    assert.deepEqual(diff, ['k8s/overlays/production/kustomization.yaml'], 'the promotion touches production only');
    assert.match(s.git(s.work, 'show', `origin/${branch}:k8s/overlays/production/kustomization.yaml`), new RegExp(`newName: ghcr.io/acme/shop\\n\\s+digest: ${DIGEST}`));
    assert.match(s.ghLog(), new RegExp(`gh pr create --base main --head ${branch} --title Promote staging's image sha256:${DIGEST.slice(7, 19)} to production`));
    // Once production runs it, another promotion has nothing to do.
    s.git(s.work, 'switch', '-q', 'main');
    s.git(s.work, 'merge', '-q', '--ff-only', `origin/${branch}`);
    const again = s.run('production');
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /production already runs/);
  });
});

describe('kustomize-image.mjs', () => {
  const edit = (...args) => spawnSync('node', [path.join(repoRoot, '.github/scripts/kustomize-image.mjs'), ...args], { encoding: 'utf8' });
  const file = (text) => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'kimg-')), 'kustomization.yaml');
    writeFileSync(f, text);
    return f;
  };
  test('set adds an images: list when there is none, then get reads it back; a second set with the same ref changes nothing', () => {
    const f = file('# top\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml # keep me\n');
    assert.equal(edit('set', f, 'shop', `ghcr.io/acme/shop@${OTHER}`).stdout, 'changed\n');
    assert.match(readFileSync(f, 'utf8'), /# keep me/);
    assert.equal(edit('get', f, 'shop').stdout, `ghcr.io/acme/shop@${OTHER}\n`);
    assert.equal(edit('set', f, 'shop', `ghcr.io/acme/shop@${OTHER}`).stdout, 'unchanged\n');
  });
  test('errors: not a Kustomization, an image by tag, a missing entry, usage', () => {
    let r = edit('get', file('kind: Deployment\n'), 'shop');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not a Kustomization/);
    r = edit('get', file('kind: Kustomization\nimages:\n  - name: shop\n    newTag: 1.0.0\n'), 'shop');
    assert.match(r.stderr, /not pinned by digest \(newTag: 1.0.0\)/);
    r = edit('get', file('kind: Kustomization\n'), 'shop');
    assert.match(r.stderr, /has no images: entry named shop/);
    r = edit('frobnicate');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage:/);
  });
});

describe('the real environment overlays', { skip: realOverlays ? false : 'k8s/overlays/staging and production do not exist yet' }, () => {
  test('release and promotion move the shop image of the rendered staging, then production manifests', () => {
    const s = scratch({ real: true });
    assert.equal(s.run('staging', `ghcr.io/acme/shop@${DIGEST}`, 'v1.2.3').code, 0);
    const staging = imageOf(s.work, 'staging');
    assert.ok(staging.length > 0, 'staging renders no shop container');
    assert.deepEqual([...new Set(staging)], [`ghcr.io/acme/shop@${DIGEST}`]);
    s.git(s.work, 'switch', '-q', 'main');
    s.git(s.work, 'merge', '-q', '--ff-only', 'release/staging-v1.2.3');
    assert.equal(s.run('production').code, 0);
    assert.deepEqual([...new Set(imageOf(s.work, 'production'))], [`ghcr.io/acme/shop@${DIGEST}`]);
  });

  test('both environments may pull the released image: no imagePullPolicy Never on the shop', () => {
    for (const env of ['staging', 'production']) {
      const policies = pullPolicyOf(repoRoot, env);
      assert.ok(policies.length > 0, `${env} renders no shop container`);
      assert.ok(!policies.includes('Never'), `${env}: imagePullPolicy Never would refuse ghcr.io/<owner>/shop@sha256:... on any node that has not got it (${policies})`);
    }
  });
});

describe('the workflows run the release scripts through make', () => {
  const mk = readFileSync(path.join(repoRoot, '.github/github.mk'), 'utf8');
  const recipe = (target) => new RegExp(`^${target}:.*\\n\\t(.*)$`, 'm').exec(mk)?.[1] ?? '';
  test('release.yml: after publish, the staging job passes the pushed digest to make release-staging-pr', () => {
    const job = release.jobs.staging;
    assert.deepEqual(job.needs, 'publish');
    assert.equal(release.jobs.publish.outputs.digest, '${{ steps.build.outputs.digest }}');
    const step = job.steps.find((st) => st.run);
    assert.equal(step.run, 'make release-staging-pr');
    assert.equal(step.env.RELEASE_IMAGE_REF, 'ghcr.io/${{ github.repository_owner }}/shop@${{ needs.publish.outputs.digest }}');
    assert.equal(step.env.GH_TOKEN, '${{ github.token }}');
    assert.match(recipe('release-staging-pr'), /release-pr\.sh staging "\$\$RELEASE_IMAGE_REF" "\$\$RELEASE_VERSION"$/);
  });
  test('both pull-request jobs edit the default branch, keep the checkout credentials for the push, and say which branch', () => {
    const promote = parse(readFileSync(path.join(repoRoot, '.github/workflows/promote.yml'), 'utf8'));
    const jobs = { 'release.yml/staging': release.jobs.staging, 'promote.yml/production': promote.jobs.production };
    for (const [name, job] of Object.entries(jobs)) {
      const checkout = job.steps.find((st) => String(st.uses).startsWith('actions/checkout@'));
      assert.equal(checkout.with?.ref, '${{ github.event.repository.default_branch }}', `${name}: the pull request targets the default branch, so that is what must be checked out`);
      assert.notEqual(checkout.with?.['persist-credentials'], false, `${name}: release-pr.sh pushes with the checkout's credentials`);
      const run = job.steps.find((st) => st.run);
      assert.equal(run.env.RELEASE_BASE_BRANCH, '${{ github.event.repository.default_branch }}', name);
    }
  });

  test('promote.yml: by hand only, make promote-pr', () => {
    const promote = parse(readFileSync(path.join(repoRoot, '.github/workflows/promote.yml'), 'utf8'));
    assert.deepEqual(Object.keys(promote.on), ['workflow_dispatch']);
    const steps = Object.values(promote.jobs).flatMap((j) => j.steps.filter((st) => st.run));
    assert.deepEqual(steps.map((st) => st.run), ['make promote-pr']);
    assert.match(recipe('promote-pr'), /release-pr\.sh production$/);
  });
});
