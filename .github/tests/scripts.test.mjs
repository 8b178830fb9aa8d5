// Tests of the scripts the workflows run through make (.github/scripts), against fixtures and a stub
// of the stack's HTTP APIs on 127.0.0.1. Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, utimesSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const scripts = path.resolve(here, '../scripts');
const fixtures = path.join(here, 'fixtures');

function run(script, args, env = {}) {
  const r = spawnSync('bash', [path.join(scripts, script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// spawnSync would block the event loop that serves the stub, so the stack check runs asynchronously.
function runAsync(script, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(scripts, script), ...args], {
      env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('gatling-stats.sh', () => {
  const results = path.join(fixtures, 'gatling');
  before(() => {
    // Oldest first is by modification time: set it, since a checkout gives every file the same time.
    utimesSync(path.join(results, 'smokesimulation-20261123130000000/js/global_stats.json'), 1_790_000_000, 1_790_000_000);
    utimesSync(path.join(results, 'loadsimulation-20261123130500000/js/global_stats.json'), 1_790_000_300, 1_790_000_300);
  });

  test('summary prints one markdown row per report with requests, errors, RPS, p50, p95, p99', () => {
    const r = run('gatling-stats.sh', ['summary', results]);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.trim().split('\n');
    assert.match(rows[0], /\| Run \| Requests \| Failed \| Error % \| Mean RPS \| p50 ms \| p95 ms \| p99 ms \| Max ms \|/);
    assert.equal(rows.length, 4);
    assert.equal(rows[2], '| smokesimulation-20261123130000000 | 120 | 0 | 0 | 4 | 8 | 41 | 97 | 188 |');
    assert.equal(rows[3], '| loadsimulation-20261123130500000 | 9000 | 90 | 1 | 150 | 11 | 63 | 154 | 1412 |');
  });

  test('summary fails when there is no report', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'gatling-'));
    const r = run('gatling-stats.sh', ['summary', empty]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no Gatling report/);
  });

  test('check passes when the newest report is within the error SLO', () => {
    const r = run('gatling-stats.sh', ['check', results, '1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /within SLO.*loadsimulation/);
  });

  test('check fails when the newest report failed more than the SLO allows', () => {
    const r = run('gatling-stats.sh', ['check', results, '0.5']);
    assert.equal(r.code, 1);
    assert.match(r.err, /90 of 9000 failed/);
  });

  test('check fails on a report with no requests', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatling-'));
    mkdirSync(path.join(dir, 'run-1/js'), { recursive: true });
    writeFileSync(path.join(dir, 'run-1/js/global_stats.json'), JSON.stringify({ numberOfRequests: { total: 0, ok: 0, ko: 0 } }));
    assert.equal(run('gatling-stats.sh', ['check', dir, '1']).code, 1);
  });
});

// A stub of Prometheus and of Grafana's datasource proxy, answering what a healthy stack answers.
function stubStack({ logs = true, traceIdInLogs = true, metrics = true, exemplars = true, traces = true } = {}) {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const requests = [];
  const json = (res, body, status = 200) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const vector = (v) => ({ status: 'success', data: { resultType: 'vector', result: v === null ? [] : [{ metric: {}, value: [1, String(v)] }] } });
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://stub');
    requests.push(url.pathname + url.search);
    if (url.pathname.startsWith('/api/v1/')) {
      if (url.pathname === '/api/v1/query') return json(res, vector(metrics ? 42 : null));
      if (url.pathname === '/api/v1/query_exemplars') {
        return json(res, { status: 'success', data: exemplars ? [{ seriesLabels: {}, exemplars: [{ labels: { trace_id: traceId }, value: '0.01', timestamp: 1 }] }] : [] });
      }
      return json(res, { status: 'error' }, 404);
    }
    // Everything else is Grafana: it wants the admin login.
    const expected = 'Basic ' + Buffer.from('admin:stub-password').toString('base64');
    if (req.headers.authorization !== expected) return json(res, { message: 'Unauthorized' }, 401);
    if (url.pathname === '/api/health') return json(res, { database: 'ok', version: '13.2.0' });
    if (url.pathname === '/api/datasources/proxy/uid/loki/loki/api/v1/query_range') {
      assert.equal(url.searchParams.get('query'), '{service="shop"}');
      const line = JSON.stringify({ timestamp: '2026-11-23T13:00:00Z', level: 'INFO', message: 'order placed', service: 'shop', ...(traceIdInLogs ? { traceId, spanId: '00f067aa0ba902b7' } : {}) });
      return json(res, { status: 'success', data: { resultType: 'streams', result: logs ? [{ stream: { service: 'shop' }, values: [['1', 'not json'], ['2', line]] }] : [] } });
    }
    if (url.pathname === `/api/datasources/proxy/uid/tempo/api/traces/${traceId}`) {
      return traces ? json(res, { batches: [{ resource: {}, scopeSpans: [] }] }) : json(res, {}, 404);
    }
    if (url.pathname === '/api/datasources/proxy/uid/tempo/api/search') {
      assert.match(url.searchParams.get('q'), /resource\.service\.name = "shop"/);
      return json(res, { traces: traces ? [{ traceID: traceId, rootServiceName: 'shop' }] : [] });
    }
    return json(res, { message: 'not found' }, 404);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, requests, traceId, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

function verify(stub, env = {}) {
  return runAsync('verify-stack.sh', [], {
    PROM_URL: stub.url,
    GRAFANA_URL: stub.url,
    GRAFANA_PASSWORD: 'stub-password',
    WAIT_SECONDS: '1',
    POLL_SECONDS: '1',
    ...env,
  });
}

describe('verify-stack.sh', () => {
  test('passes when metrics, exemplars, JSON logs with a trace id, that trace, and span metrics are there', async () => {
    const stub = await stubStack();
    try {
      const summary = path.join(mkdtempSync(path.join(tmpdir(), 'summary-')), 'summary.md');
      const r = await verify(stub, { GITHUB_STEP_SUMMARY: summary });
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /all checks passed/);
      assert.match(r.out, new RegExp(`trace id followed from the logs: ${stub.traceId}`));
      assert.doesNotMatch(r.out, /FAIL/);
      assert.match(readFileSync(summary, 'utf8'), /\| trace-of-log \| pass \|/);
      // The trace looked up is the one the log line named.
      assert.ok(stub.requests.some((q) => q.startsWith(`/api/datasources/proxy/uid/tempo/api/traces/${stub.traceId}`)));
    } finally {
      await stub.close();
    }
  });

  test('fails when nothing arrived', async () => {
    const stub = await stubStack({ logs: false, metrics: false, exemplars: false, traces: false });
    try {
      const r = await verify(stub);
      assert.equal(r.code, 1);
      for (const name of ['metrics', 'business-metrics', 'logs', 'trace-of-log', 'traces', 'exemplars', 'span-metrics']) {
        assert.match(r.out, new RegExp(`\\| ${name} \\| FAIL \\|`));
      }
      assert.match(r.out, /\| grafana \| pass \|/);
    } finally {
      await stub.close();
    }
  });

  test('fails when the log lines carry no trace id, even though traces exist', async () => {
    const stub = await stubStack({ traceIdInLogs: false });
    try {
      const r = await verify(stub);
      assert.equal(r.code, 1);
      assert.match(r.out, /\| logs \| FAIL \|/);
      assert.match(r.out, /\| trace-of-log \| FAIL \|/);
      assert.match(r.out, /\| traces \| pass \|/);
    } finally {
      await stub.close();
    }
  });

  test('fails with a wrong Grafana password', async () => {
    const stub = await stubStack();
    try {
      const r = await verify(stub, { GRAFANA_PASSWORD: 'wrong' });
      assert.equal(r.code, 1);
      assert.match(r.out, /\| grafana \| FAIL \|/);
    } finally {
      await stub.close();
    }
  });

  test('exemplar and span-metric checks can be turned off', async () => {
    const stub = await stubStack({ exemplars: false });
    try {
      const r = await verify(stub, { CHECK_EXEMPLARS: '0', CHECK_SPANMETRICS: '0' });
      assert.equal(r.code, 0, r.out + r.err);
      assert.doesNotMatch(r.out, /exemplars|span-metrics/);
    } finally {
      await stub.close();
    }
  });
});

describe('stack-logs-dump.sh', () => {
  test('writes one log file per compose service, with a fake docker on PATH', () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'fakebin-'));
    const fake = path.join(bin, 'docker');
    writeFileSync(
      fake,
      [
        '#!/usr/bin/env bash',
        '# Fake docker CLI: lists two services and prints a line of logs for each.',
        'args="$*"',
        'case "$args" in',
        '  *"config --services"*) printf "shop\\nprometheus\\n" ;;',
        '  *" ps "*|*" ps") echo "NAME STATUS" ;;',
        '  *"logs"*) echo "log of ${args##* }" ;;',
        '  *) exit 0 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    const out = mkdtempSync(path.join(tmpdir(), 'stacklogs-'));
    const r = run('stack-logs-dump.sh', [out], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(readFileSync(path.join(out, 'shop.log'), 'utf8'), /log of shop/);
    assert.match(readFileSync(path.join(out, 'prometheus.log'), 'utf8'), /log of prometheus/);
  });
});

describe('verify-action-pins.sh', () => {
  // A local "GitHub" with one action repository: v1.0.0 an annotated tag, v1.1.0 a lightweight one.
  function localGitHub() {
    const root = mkdtempSync(path.join(tmpdir(), 'pins-'));
    const src = path.join(root, 'src');
    const git = (...args) => spawnSync('git', ['-c', 'user.email=ci@example.invalid', '-c', 'user.name=ci', ...args], { cwd: src, encoding: 'utf8' }).stdout.trim();
    mkdirSync(src);
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'one');
    git('tag', '-a', 'v1.0.0', '-m', 'release 1.0.0');
    git('commit', '-q', '--allow-empty', '-m', 'two');
    git('tag', 'v1.1.0');
    mkdirSync(path.join(root, 'base/acme'), { recursive: true });
    spawnSync('git', ['clone', '-q', '--bare', src, path.join(root, 'base/acme/act.git')]);
    return { base: `file://${path.join(root, 'base')}`, v100: git('rev-parse', 'v1.0.0^{commit}'), v110: git('rev-parse', 'v1.1.0'), root };
  }
  const workflow = (root, lines) => {
    const file = path.join(root, 'wf.yml');
    writeFileSync(file, ['jobs:', '  a:', '    steps:', ...lines.map((l) => `      - uses: ${l}`), ''].join('\n'));
    return file;
  };

  test('passes when each SHA is the commit its tag names (annotated tags peeled)', () => {
    const gh = localGitHub();
    const file = workflow(gh.root, [`acme/act@${gh.v100} # v1.0.0`, `acme/act/sub@${gh.v110} # v1.1.0`]);
    const r = run('verify-action-pins.sh', [file], { ACTION_PINS_GIT_BASE: gh.base });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /all 2 action pins match their tags/);
  });

  test('fails on a SHA of another tag and on a tag that does not exist', () => {
    const gh = localGitHub();
    const file = workflow(gh.root, [`acme/act@${gh.v110} # v1.0.0`, `acme/act@${gh.v100} # v9.9.9`]);
    const r = run('verify-action-pins.sh', [file], { ACTION_PINS_GIT_BASE: gh.base });
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`v1.0.0 is ${gh.v100}, the workflows pin ${gh.v110}`));
    assert.match(r.err, /no tag v9.9.9/);
  });
});
