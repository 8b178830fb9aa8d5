// Tests of the scripts the workflows run through make (.github/scripts), against fixtures and a stub
// of the stack's HTTP APIs on 127.0.0.1. Node test runner: https://nodejs.org/docs/latest-v20.x/api/test.html
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, utimesSync, readFileSync, readdirSync, chmodSync } from 'node:fs';
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

describe('gatling_stats.py', () => {
  const results = path.join(fixtures, 'gatling');
  const stats = (args) => {
    const r = spawnSync('python3', [path.join(scripts, 'gatling_stats.py'), ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  before(() => {
    // Oldest first is by modification time: set it, since a checkout gives every file the same time.
    utimesSync(path.join(results, 'shopsimulation-20261123130000000/index.html'), 1_790_000_000, 1_790_000_000);
    utimesSync(path.join(results, 'shopsimulation-20261123130500000/index.html'), 1_790_000_300, 1_790_000_300);
  });

  test('summary reads the All Requests row of Gatling 3.15 HTML reports: requests, errors, RPS, p50, p95, p99', () => {
    const r = stats(['summary', results]);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.trim().split('\n').filter((l) => l.startsWith('|'));
    assert.equal(rows[0], '| Run | Requests | Failed | Error % | Mean RPS | p50 ms | p95 ms | p99 ms | Max ms |');
    assert.equal(rows.length, 4);
    assert.equal(rows[2], '| shopsimulation-20261123130000000 | 272 | 0 | 0 | 20.92 | 12 | 75 | 239 | 353 |');
    assert.equal(rows[3], '| shopsimulation-20261123130500000 | 9000 | 90 | 1 | 150 | 11 | 63 | 154 | 1412 |');
  });

  test("summary adds the load test's own ledger of the last run, with the stress capacity", () => {
    const r = stats(['summary', results]);
    assert.match(r.out, /Last run: profile \*\*stress\*\* against http:\/\/localhost: 41250 requests, p95 480 ms, p99 2210 ms, failed 0\.84%\./);
    assert.match(r.out, /Capacity within the SLO: \*\*312\.4 req\/s\*\* \(step 6 @ 300 rps, p95 188 ms, failed 0\.00%\); limit found: true \(step 7 @ 350 rps: p95 612 ms > 250 ms\)\./);
  });

  test('summary also reads the js/global_stats.json of older Gatling reports', () => {
    const r = stats(['summary', path.join(fixtures, 'gatling-legacy')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\| loadsimulation-20251123130500000 \| 9000 \| 90 \| 1 \| 150 \| 11 \| 63 \| 154 \| 1412 \|/);
  });

  test('summary fails when there is no report', () => {
    const r = stats(['summary', mkdtempSync(path.join(tmpdir(), 'gatling-'))]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no Gatling report/);
  });

  test('a report whose table lacks the 99th percentile is an error, not a blank cell', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatling-'));
    mkdirSync(path.join(dir, 'run-1'));
    const html = readFileSync(path.join(results, 'shopsimulation-20261123130000000/index.html'), 'utf8').replace('99th pct', '98th pct');
    writeFileSync(path.join(dir, 'run-1/index.html'), html);
    const r = stats(['summary', dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no 99th pct in the All Requests row/);
  });

  test('check passes when the newest report is within the error SLO', () => {
    const r = stats(['check', results, '1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /within SLO.*shopsimulation-20261123130500000: 90 of 9000 failed/);
  });

  test('check fails when the newest report failed more than the SLO allows', () => {
    const r = stats(['check', results, '0.5']);
    assert.equal(r.code, 1);
    assert.match(r.err, /above SLO.*90 of 9000 failed/);
  });

  test('check fails on a report with no requests', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatling-'));
    mkdirSync(path.join(dir, 'run-1/js'), { recursive: true });
    writeFileSync(
      path.join(dir, 'run-1/js/global_stats.json'),
      JSON.stringify({ numberOfRequests: { total: 0, ok: 0, ko: 0 }, meanNumberOfRequestsPerSecond: { total: 0 }, percentiles1: { total: 0 }, percentiles3: { total: 0 }, percentiles4: { total: 0 }, maxResponseTime: { total: 0 } }),
    );
    assert.equal(stats(['check', dir, '1']).code, 1);
  });
});

// A stub of Prometheus and of Grafana's datasource proxy, answering what a healthy stack answers.
// Dashboard panel queries (anything but the script's own log and trace queries) get data unless `emptyPanel` matches them.
function stubStack({ logs = true, traceIdInLogs = true, metrics = true, exemplars = true, traces = true, user = 'admin', password = 'stub-password', emptyPanel = null } = {}) {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const requests = [];
  const panelQueries = [];
  const panelAnswer = (q) => { panelQueries.push(q); return !(emptyPanel && emptyPanel.test(q)); };
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
    const expected = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    if (req.headers.authorization !== expected) return json(res, { message: 'Unauthorized' }, 401);
    if (url.pathname === '/api/health') return json(res, { database: 'ok', version: '13.2.0' });
    if (url.pathname === '/api/datasources/proxy/uid/loki/loki/api/v1/query_range'
        && url.searchParams.get('query') !== '{service="shop"} |= "traceId"') {
      const has = panelAnswer(url.searchParams.get('query'));
      return json(res, { status: 'success', data: { resultType: 'streams', result: has ? [{ stream: { service: 'shop', level: 'ERROR' }, values: [['1', '{}']] }] : [] } });
    }
    if (url.pathname === '/api/datasources/proxy/uid/tempo/api/search' && !/resource\.service\.name = "shop"/.test(url.searchParams.get('q'))) {
      return json(res, { traces: panelAnswer(url.searchParams.get('q')) ? [{ traceID: traceId, rootServiceName: 'shop' }] : [] });
    }
    if (url.pathname === '/api/datasources/proxy/uid/loki/loki/api/v1/query_range') {
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
      resolve({ url, requests, panelQueries, traceId, close: () => new Promise((r) => server.close(r)) });
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

  test('make verify-stack logs in to Grafana with the admin user and password compose/.env gives', async () => {
    const repoRoot = path.resolve(here, '../..');
    const env = Object.fromEntries(
      readFileSync(path.join(repoRoot, 'compose/.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const stub = await stubStack({ user: env.GRAFANA_ADMIN_USER, password: env.GRAFANA_ADMIN_PASSWORD });
    try {
      const makeEnv = { ...process.env, GITHUB_STEP_SUMMARY: '' };
      for (const k of ['MAKEFLAGS', 'MAKELEVEL', 'GRAFANA_ADMIN_USER', 'GRAFANA_ADMIN_PASSWORD']) delete makeEnv[k];
      const r = await new Promise((resolve) => {
        const child = spawn('make', ['-C', repoRoot, 'verify-stack', `VERIFY_PROM_URL=${stub.url}`, `VERIFY_GRAFANA_URL=${stub.url}`, 'VERIFY_WAIT_SECONDS=1', 'VERIFY_ERROR_BURST=0'], { env: makeEnv });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => resolve({ code, out }));
      });
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /\| grafana \| pass \|/);
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

// make verify-stack against the stub, as the e2e job runs it (without the fault burst, which needs the real stack).
function makeVerifyStack(stub) {
  const repoRoot = path.resolve(here, '../..');
  const env = { ...process.env, GITHUB_STEP_SUMMARY: '' };
  for (const k of ['MAKEFLAGS', 'MAKELEVEL']) delete env[k];
  return new Promise((resolve) => {
    const child = spawn('make', ['-C', repoRoot, 'verify-stack', `VERIFY_PROM_URL=${stub.url}`, `VERIFY_GRAFANA_URL=${stub.url}`,
      'VERIFY_GRAFANA_USER=admin', 'VERIFY_GRAFANA_PASSWORD=stub-password', 'VERIFY_WAIT_SECONDS=1', 'VERIFY_ERROR_BURST=0'], { env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

// The panels observability/tests/live-exclusions.tsv leaves to the compose stack, and their queries as the dashboards
// hold them (read here independently of check_queries.mjs; $service and $environment are the dashboards' current
// values, shop and compose).
function stackPanels() {
  const repoRoot = path.resolve(here, '../..');
  const listed = readFileSync(path.join(repoRoot, 'observability/tests/live-exclusions.tsv'), 'utf8').split('\n')
    .map((l) => l.split('\t')).filter((c) => c[0] === 'panel' && ['loki', 'tempo'].includes(c[2])).map((c) => c[1]);
  const queries = new Map();
  const dir = path.join(repoRoot, 'observability/grafana/dashboards');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    for (const p of (d.panels || []).flatMap((x) => [x, ...(x.panels || [])])) {
      const key = `${d.uid}/${p.title}`;
      if (listed.includes(key)) {
        queries.set(key, (p.targets || []).map((t) => (t.expr || t.query).replaceAll('$service', 'shop').replaceAll('$environment', 'compose').replaceAll('$__interval', '1m')));
      }
    }
  }
  return { listed, queries };
}

describe('make verify-stack: the dashboards\' Loki and Tempo queries', () => {
  test('evaluates exactly the panels live-exclusions.tsv leaves to the compose stack, with the dashboards\' own queries', async () => {
    const { listed, queries } = stackPanels();
    assert.ok(listed.length > 0, 'live-exclusions.tsv leaves no panel to the compose stack');
    assert.deepEqual([...queries.keys()].sort(), [...listed].sort(), 'every listed panel exists on a dashboard');
    const stub = await stubStack();
    try {
      const r = await makeVerifyStack(stub);
      assert.equal(r.code, 0, r.out);
      const rows = [...r.out.matchAll(/^\| panel (.+?) \| (pass|FAIL) \|/gm)].map((m) => m[1]);
      assert.deepEqual([...rows].sort(), [...listed].sort());
      assert.deepEqual([...new Set(stub.panelQueries)].sort(), [...queries.values()].flat().sort());
    } finally {
      await stub.close();
    }
  });

  test('fails when the Error logs panel\'s query finds no line', async () => {
    const stub = await stubStack({ emptyPanel: /level="ERROR"/ });
    try {
      const r = await makeVerifyStack(stub);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /\| panel shop-overview\/Error logs \| FAIL \|/);
      assert.match(r.out, /\| panel shop-overview\/Log lines by level \| pass \|/);
    } finally {
      await stub.close();
    }
  });

  test('fails when the Recent failed traces panel\'s query finds no trace', async () => {
    const stub = await stubStack({ emptyPanel: /status=error/ });
    try {
      const r = await makeVerifyStack(stub);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /\| panel shop-overview\/Recent failed traces \| FAIL \|/);
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

    // Through make: the compose command line is compose.mk's, with its project directory and env file.
    const viaMake = mkdtempSync(path.join(tmpdir(), 'stacklogs-'));
    writeFileSync(path.join(bin, 'docker'), readFileSync(fake, 'utf8').replace('args="$*"', 'args="$*"\necho "$args" >> "$(dirname "$0")/calls"'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    delete env.MAKEFLAGS;
    delete env.MAKELEVEL;
    const m = spawnSync('make', ['-C', path.resolve(here, '../..'), 'stack-logs-dump', `STACK_LOGS_DIR=${viaMake}`], { encoding: 'utf8', env });
    assert.equal(m.status, 0, m.stdout + m.stderr);
    assert.match(readFileSync(path.join(viaMake, 'shop.log'), 'utf8'), /log of shop/);
    assert.match(readFileSync(path.join(bin, 'calls'), 'utf8'), /^compose --project-directory compose -f compose\/compose\.yaml --env-file compose\/\.env config --services$/m);
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

describe('make sbom', () => {
  test('writes a CycloneDX JSON and XML BOM of the shop build without any change to pom.xml', () => {
    const repoRoot = path.resolve(here, '../..');
    const out = mkdtempSync(path.join(tmpdir(), 'sbom-'));
    const env = { ...process.env };
    delete env.MAKEFLAGS; // run as its own make, whatever flags the outer make had
    delete env.MAKELEVEL;
    // A bound for a loaded 2-core machine (Maven resolves and walks the whole build): the run ends when make does.
    const r = spawnSync('make', ['-C', repoRoot, 'sbom', `SBOM_DIR=${out}`], { encoding: 'utf8', env, timeout: 1_200_000 });
    assert.equal(r.status, 0, r.stdout.slice(-2000) + r.stderr.slice(-2000));
    const bom = JSON.parse(readFileSync(path.join(out, 'bom.json'), 'utf8'));
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.metadata.component.name, 'shop');
    assert.ok(bom.components.some((c) => c.group === 'io.quarkus' && c.name === 'quarkus-core'), 'quarkus-core is not in the BOM');
    assert.ok(readFileSync(path.join(out, 'bom.xml'), 'utf8').includes('xmlns="http://cyclonedx.org/schema/bom/'));
  });
});

describe('hpa-timeline.sh', () => {
  const scaled = path.join(fixtures, 'hpa/scaled.txt');
  const flat = path.join(fixtures, 'hpa/flat.txt');

  test('the fixtures have the layout k8s/scripts/kind-load.sh writes', () => {
    const kindLoad = path.resolve(here, '../../k8s/scripts/kind-load.sh');
    const src = readFileSync(kindLoad, 'utf8');
    // Same printf layout for the header and every sample, and the same closing notes.
    assert.match(src, /printf '%-8s %-9s %-7s %-5s %s\\n' time replicas desired ready "cpu%\/request"/);
    assert.match(src, /kind-load: load finished/);
    assert.match(readFileSync(scaled, 'utf8'), /^time {5}replicas {2}desired ready cpu%\/request\n/);
  });

  test('summary gives the peak and a row per sample, with <unknown> escaped', () => {
    const r = run('hpa-timeline.sh', ['summary', scaled]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Peak replicas: \*\*4\*\* over 6 samples/);
    assert.match(r.out, /\| 13:20:15 \| 3 \| 4 \| 2 \| 88 \|/);
    assert.match(r.out, /\| 13:20:00 \| - \| - \| 0 \| &lt;unknown&gt; \|/);
  });

  test('check passes when the replicas went above minReplicas', () => {
    const r = run('hpa-timeline.sh', ['check', scaled, '2']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /peak 4 replicas > minReplicas 2/);
  });

  test('check fails when the replicas stayed at minReplicas', () => {
    const r = run('hpa-timeline.sh', ['check', flat, '2']);
    assert.equal(r.code, 1);
    assert.match(r.err, /did not scale: peak 2 replicas, minReplicas 2/);
  });

  test('check fails when there is no timeline', () => {
    const r = run('hpa-timeline.sh', ['check', path.join(tmpdir(), 'no-such-timeline.txt'), '2']);
    assert.equal(r.code, 1);
    assert.match(r.err, /no HPA timeline/);
  });

  test('make hpa-check reads the timeline and the floor it is given', () => {
    const repoRoot = path.resolve(here, '../..');
    const env = { ...process.env };
    delete env.MAKEFLAGS;
    delete env.MAKELEVEL;
    const make = (file) => spawnSync('make', ['-C', repoRoot, 'hpa-check', `HPA_TIMELINE=${file}`, 'HPA_MIN_REPLICAS=2'], { encoding: 'utf8', env });
    assert.equal(make(scaled).status, 0);
    assert.notEqual(make(flat).status, 0);
  });
});

describe('kind-diagnostics.sh', () => {
  test('saves objects, events, HPA state and one log file per pod, through make, with the kind context', () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'fakebin-'));
    writeFileSync(
      path.join(bin, 'kubectl'),
      [
        '#!/usr/bin/env bash',
        '# Fake kubectl: records its arguments; lists two pods; fails `top` as a cluster without metrics would.',
        'echo "$*" >> "$(dirname "$0")/calls"',
        'case "$*" in',
        '  *"get pods -o name"*) printf "pod/shop-1\\npod/postgres-0\\n" ;;',
        '  *" top "*) echo "error: Metrics API not available" >&2; exit 1 ;;',
        '  *" logs "*) echo "log of ${*: -1}" ;;',
        '  *) echo "output of $*" ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'kubectl'), 0o755);
    const out = mkdtempSync(path.join(tmpdir(), 'kinddiag-'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    delete env.MAKEFLAGS;
    delete env.MAKELEVEL;
    const m = spawnSync('make', ['-C', path.resolve(here, '../..'), 'kind-diagnostics', `KIND_DIAG_DIR=${out}`], { encoding: 'utf8', env });
    assert.equal(m.status, 0, m.stdout + m.stderr);
    assert.match(readFileSync(path.join(out, 'logs-shop-1.txt'), 'utf8'), /log of pod\/shop-1/);
    assert.match(readFileSync(path.join(out, 'hpa.txt'), 'utf8'), /describe hpa/);
    assert.match(readFileSync(path.join(out, 'cnpg.txt'), 'utf8'), /describe clusters\.postgresql\.cnpg\.io,backups/);
    // A failing command is recorded, not fatal.
    assert.match(readFileSync(path.join(out, 'top-pods.txt'), 'utf8'), /Metrics API not available[\s\S]*\(failed: kubectl -n shop top pods\)/);
    const calls = readFileSync(path.join(bin, 'calls'), 'utf8').trim().split('\n');
    assert.ok(calls.every((c) => c.startsWith('--context kind-shop ')), calls.join('\n'));
    assert.ok(calls.some((c) => c.includes('-n cnpg-system logs deployment/cnpg-controller-manager')), 'the CloudNativePG operator log');
  });
});
