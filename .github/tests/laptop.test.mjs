// Tests of what lets `make test` run on a laptop as it runs in CI: the throwaway PostgreSQL of
// src/test/scripts/local-service.sh from a private folder, the tool table (toolchain/tools.tsv) with
// `make doctor`, and the dispatch of `make test` (toolchain/test.sh) on Debian as root, with Docker, or with
// neither, run against stubbed commands on a PATH the test builds.
// Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, chmodSync, existsSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

describe('local-service.sh from a private folder', () => {
  // As root the script runs PostgreSQL as user postgres; a clone inside a 0700 folder (like /root) is closed to it.
  // Only root can show this: an ordinary user runs PostgreSQL as itself and may enter its own folders.
  const isRoot = process.getuid?.() === 0;
  test('as root, PostgreSQL starts, answers and is cleaned up although postgres cannot enter the clone', { skip: !isRoot && 'needs root (CI runs as root)' }, () => {
    const priv = mkdtempSync(path.join(tmpdir(), 'laptop-priv-'));
    chmodSync(priv, 0o700);
    const clone = path.join(priv, 'clone');
    const scripts = path.join(clone, 'src/test/scripts');
    mkdirSync(scripts, { recursive: true });
    copyFileSync(path.join(repoRoot, 'src/test/scripts/local-service.sh'), path.join(scripts, 'local-service.sh'));
    const script = path.join(scripts, 'local-service.sh');
    const localDir = path.join(clone, 'target/local-test');
    const env = { ...process.env, LOCAL_DIR: localDir, PG_PORT: '15447' };
    try {
      const up = sh('bash', [script, 'start-db'], { env, cwd: clone });
      assert.equal(up.code, 0, up.out + up.err);
      assert.doesNotMatch(up.out + up.err, /Permission denied|could not change directory/);
      const pgDir = sh('cat', [path.join(localDir, 'pg-dir')]).out.trim();
      assert.ok(pgDir && !pgDir.startsWith(priv), `PostgreSQL's files must live outside the private folder, not in ${pgDir}`);
      const psql = sh('bash', ['-c', 'psql -h 127.0.0.1 -p 15447 -U shop -d shop -tAc "SELECT 40 + 2"'], { env: { ...env, PGPASSWORD: 'shop' } });
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
