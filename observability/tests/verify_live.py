#!/usr/bin/env python3
"""Live verification: the dashboards' and rules' queries return data on a real Prometheus after real traffic.

    python3 observability/tests/verify_live.py --manifest FILE

FILE comes from check_queries.mjs (every query with the dashboard variables replaced, its metric and label names).
Steps, all on loopback, all stopped at the end (only the processes started here):
  1. src/test/scripts/local-service.sh start: the packaged service on a throwaway PostgreSQL;
  2. Debian's prometheus-postgres-exporter against that PostgreSQL (if installed);
  3. Debian's Prometheus with a config derived from observability/prometheus/prometheus.yml by gen_local_config.py
     (targets rewritten to 127.0.0.1, 5 s intervals, the repository's rule files), exemplar storage on;
  4. traffic: product CRUD, orders (201, 409, 422), validation errors, then chaos latency and chaos errors
     (PUT :MGMT_PORT/chaos) so that slow and 5xx series exist, and a forced GC so GC pause series exist;
  5. checks: every dashboard and recording-rule query returns data (except panels listed in
     live-exclusions.tsv), every alert expression is accepted by Prometheus, exemplars with trace_id are stored for
     http_server_requests_seconds_bucket, an exemplar of a 5xx bucket names a trace whose ERROR line is in the
     service's JSON log (the metrics -> trace -> logs chain), the service answers Prometheus 3.x's Accept header
     with OpenMetrics, every rule is healthy, and every metric and label name used exists in the real /q/metrics
     output or in a listed exporter.
Only the Python standard library. Prometheus HTTP API: https://prometheus.io/docs/prometheus/latest/querying/api/
"""
import argparse
import http.server as httpserver
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
API_PORT = int(os.environ.get("API_PORT", "18080"))
MGMT_PORT = int(os.environ.get("MGMT_PORT", "19000"))
PG_PORT = int(os.environ.get("PG_PORT", "15433"))
PROM_PORT = int(os.environ.get("PROM_PORT", "19090"))
PGEXP_PORT = int(os.environ.get("PGEXP_PORT", "19187"))
SHIM_PORT = int(os.environ.get("SHIM_PORT", "19001"))
API = f"http://127.0.0.1:{API_PORT}"
MGMT = f"http://127.0.0.1:{MGMT_PORT}"
PROM = f"http://127.0.0.1:{PROM_PORT}"
# The Accept header Prometheus 3.x sends with scrape_protocols [OpenMetricsText1.0.0, OpenMetricsText0.0.1,
# PrometheusText0.0.4] (3.x adds escaping=... to the 1.0.0 formats): the service must still answer OpenMetrics.
ACCEPT_3X = ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
             "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
# Labels Prometheus adds to every scraped series (target labels), and labels recording rules keep.
TARGET_LABELS = {"job", "instance", "service", "environment"}


def log(msg):
    print(f"verify_live: {msg}", flush=True)


def http(method, url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def prom(path, **params):
    url = f"{PROM}{path}?{urllib.parse.urlencode(params)}"
    status, _, body = http("GET", url, timeout=30)
    doc = json.loads(body or b"{}")
    if status != 200 or doc.get("status") != "success":
        return None, doc.get("error", f"HTTP {status}")
    return doc["data"], None


def wait_for(what, fn, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if fn():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(1)
    raise SystemExit(f"verify_live: {what} not reached within {seconds} s")


# ---- traffic ------------------------------------------------------------------------------------------------
class Traffic:
    """Exercise every API route; counts responses per status so the run can be judged."""

    def __init__(self, local_dir):
        self.statuses = {}
        # The keys local-service.sh made for this run (compose/scripts/api-keys.sh): writes authenticate.
        self.keys = {}
        for role in ("admin", "client"):
            with open(os.path.join(local_dir, "auth", "credentials", role), encoding="utf-8") as f:
                self.keys[role] = f.read().strip()
        self.run_id = str(int(time.time()))
        self.seq = 0

    def call(self, method, path, body=None, role=None, token=None):
        token = token or (self.keys[role] if role else None)
        status, _, data = http(method, API + path, body, {"Authorization": f"Bearer {token}"} if token else None)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def round(self):
        self.seq += 1
        sku = f"LIVE-{self.run_id}-{self.seq}"
        status, p = self.call("POST", "/api/products", {"sku": sku, "name": f"Item {self.seq}",
                                                        "description": "live verification", "priceCents": 250,
                                                        "stock": 3}, role="admin")
        if status != 201 or not p:
            return
        pid = p["id"]
        self.call("GET", f"/api/products/{pid}")
        self.call("GET", "/api/products?page=0&size=5&q=Item")
        self.call("PUT", f"/api/products/{pid}", {"sku": sku, "name": f"Item {self.seq} v2", "priceCents": 300,
                                                   "stock": 3}, role="admin")
        status, order = self.call("POST", "/api/orders", {"lines": [{"productId": pid, "quantity": 2}]}, role="client")
        if status == 201 and order:
            self.call("GET", f"/api/orders/{order['id']}")
        self.call("POST", "/api/orders", {"lines": [{"productId": pid, "quantity": 50}]}, role="client")       # 409
        self.call("POST", "/api/orders", {"lines": [{"productId": 987654321, "quantity": 1}]}, role="client")  # 422
        self.call("POST", "/api/products", {"sku": "", "name": "", "priceCents": -1, "stock": -1}, role="admin")  # 400
        self.call("GET", "/api/products/987654321")                                             # 404
        # Refused writes, one of each shop_auth_failures_total reason: 401 missing, malformed, unknown_key; 403.
        self.call("DELETE", f"/api/products/{pid}")
        self.call("DELETE", f"/api/products/{pid}", token="not-a-key")
        self.call("DELETE", f"/api/products/{pid}", token="shop_" + secrets.token_urlsafe(32))
        self.call("DELETE", f"/api/products/{pid}", role="client")
        if self.seq % 3 == 0:
            self.call("DELETE", f"/api/products/{pid}", role="admin")

    def run_for(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.round()


def chaos(settings):
    if settings is None:
        status, _, body = http("DELETE", f"{MGMT}/chaos")
    else:
        status, _, body = http("PUT", f"{MGMT}/chaos", settings)
    if status != 200:
        raise SystemExit(f"verify_live: chaos {settings} answered HTTP {status}: {body[:300]!r}")


# ---- Prometheus < 2.43 ---------------------------------------------------------------------------------------
class ExemplarShim(httpserver.ThreadingHTTPServer):
    """Scrape shim for Prometheus older than 2.43 (Debian bookworm ships 2.42).

    Before v2.43 (prometheus/prometheus#11984) Prometheus fails the whole scrape when an OpenMetrics exemplar sits on
    a sample other than *_bucket or *_total, and the service's Micrometer registry also puts one on each histogram's
    *_count. The shim forwards the scrape (same Accept header, so OpenMetrics negotiation is still the service's) and
    drops only those exemplars; the *_bucket exemplars reach Prometheus unchanged. The compose and kind stacks run
    Prometheus 3.x and need nothing of the kind.
    """

    daemon_threads = True
    dropped = 0

    def __init__(self, port, upstream):
        self.upstream = upstream
        shim = self

        class Handler(httpserver.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                status, headers, body = http("GET", shim.upstream + self.path,
                                             headers={"Accept": self.headers.get("Accept", "*/*")})
                lines = []
                for line in body.decode().split("\n"):
                    name = re.split(r"[{ ]", line, maxsplit=1)[0]
                    if " # {" in line and not line.startswith("#") and not name.endswith(("_bucket", "_total")):
                        line = line[: line.index(" # {")]
                        shim.dropped += 1
                    lines.append(line)
                out = "\n".join(lines).encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)


def stop_started(started):
    """Stop the processes a test started itself ((name, Popen) pairs), newest first: SIGTERM, then SIGKILL after 20 s."""
    for _, proc in reversed(started):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def prometheus_version():
    out = subprocess.run(["prometheus", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


# ---- exposition -----------------------------------------------------------------------------------------------
def exposition_names(text):
    """Metric names and their label names as the service exposes them (sample lines of the text formats)."""
    names = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?", line)
        if m:
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
            names.setdefault(m.group(1), set()).update(labels)
    return names


def load_ksm_list():
    """kube-state-metrics metric -> label names, from the list derived upstream (third-party/README.md)."""
    names = {}
    folder = os.path.join(HERE, "third-party")
    for d in sorted(os.listdir(folder)):
        if d.startswith("kube-state-metrics-"):
            with open(os.path.join(folder, d, "metrics.tsv"), encoding="utf-8") as f:
                for line in f:
                    if line.strip() and not line.startswith("#"):
                        metric, _, _, labels = line.rstrip("\n").split("\t")[:4]
                        names[metric] = set(labels.split(",")) if labels else set()
    return names


def load_exclusions(path):
    panels, prefixes = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            kind, key, component, reason = line.rstrip("\n").split("\t")
            (panels if kind == "panel" else prefixes)[key] = (component, reason)
    return panels, prefixes


# ---- main -----------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (Prometheus data, logs)")
    args = ap.parse_args()
    with open(args.manifest, encoding="utf-8") as f:
        queries = json.load(f)["queries"]
    excluded_panels, exporter_prefixes = load_exclusions(os.path.join(HERE, "live-exclusions.tsv"))

    work = tempfile.mkdtemp(prefix="obs-live-")
    os.chmod(work, 0o755)  # as root, local-service.sh runs PostgreSQL as user postgres, which must enter it
    env = dict(os.environ, API_PORT=str(API_PORT), MGMT_PORT=str(MGMT_PORT), PG_PORT=str(PG_PORT),
               LOCAL_DIR=os.path.join(work, "local"))
    service_script = os.path.join(ROOT, "src/test/scripts/local-service.sh")
    started = []  # (name, Popen) of the processes this script started itself
    shim = None
    try:
        log(f"starting the service (API {API_PORT}, management {MGMT_PORT}, PostgreSQL {PG_PORT}) in {work}")
        if subprocess.run([service_script, "start"], env=env, check=False, cwd=ROOT).returncode != 0:
            # local-service.sh has printed why (the service log's last lines); keep the whole log, no traceback.
            log(f"the service did not start (local-service.sh start failed); its log is kept in {work}/local")
            args.keep = True
            return 1

        targets = {"shop:9000": f"127.0.0.1:{MGMT_PORT}", "localhost:9090": f"127.0.0.1:{PROM_PORT}"}
        version = prometheus_version()
        if version < (2, 43):
            shim = ExemplarShim(SHIM_PORT, MGMT)
            threading.Thread(target=shim.serve_forever, daemon=True).start()
            targets["shop:9000"] = f"127.0.0.1:{SHIM_PORT}"
            log(f"Prometheus {version[0]}.{version[1]} < 2.43: scraping the service through the exemplar shim "
                f"on port {SHIM_PORT} (see ExemplarShim)")
        exporter = shutil.which("prometheus-postgres-exporter")
        if exporter:
            dsn = f"postgresql://shop:shop@127.0.0.1:{PG_PORT}/shop?sslmode=disable"
            p = subprocess.Popen([exporter, f"--web.listen-address=127.0.0.1:{PGEXP_PORT}"],
                                 env=dict(os.environ, DATA_SOURCE_NAME=dsn),
                                 stdout=open(os.path.join(work, "postgres-exporter.log"), "w"),
                                 stderr=subprocess.STDOUT)
            started.append(("postgres-exporter", p))
            targets["postgres-exporter:9187"] = f"127.0.0.1:{PGEXP_PORT}"
        else:
            raise SystemExit("verify_live: prometheus-postgres-exporter is not installed (make obs-tools installs it): "
                             "the pg_* names of the dashboards and rules cannot be checked against it")

        config = os.path.join(work, "prometheus.yml")
        cmd = [sys.executable, os.path.join(HERE, "gen_local_config.py"),
               os.path.join(ROOT, "observability/prometheus/prometheus.yml"), "--interval", "5s", "-o", config]
        for k, v in targets.items():
            cmd += ["--target", f"{k}={v}"]
        subprocess.run(cmd, check=True)
        # The same feature flags as the compose Prometheus (see the header of prometheus.yml).
        p = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                              f"--web.listen-address=127.0.0.1:{PROM_PORT}", "--enable-feature=exemplar-storage",
                              "--web.enable-remote-write-receiver", "--storage.tsdb.retention.time=1d"],
                             stdout=open(os.path.join(work, "prometheus.log"), "w"), stderr=subprocess.STDOUT)
        started.append(("prometheus", p))
        wait_for("Prometheus ready", lambda: http("GET", f"{PROM}/-/ready")[0] == 200, 60)
        log(f"Prometheus {PROM} ready; scraping {', '.join(targets.values())}")

        failures = []
        passed = 0  # checks that passed; failures holds the others

        # Content negotiation as Prometheus 3.x does it, read directly (the 2.42 scrape is proven by exemplars).
        status, headers, body = http("GET", f"{MGMT}/q/metrics", headers={"Accept": ACCEPT_3X})
        ctype = headers.get("Content-Type", "")
        if status != 200 or not ctype.startswith("application/openmetrics-text"):
            failures.append(f"/q/metrics answered {status} {ctype!r} to Prometheus 3.x's Accept header")
        else:
            log(f"Prometheus 3.x Accept header -> {ctype}")
            passed += 1

        traffic = Traffic(env["LOCAL_DIR"])
        log("traffic: normal CRUD and orders")
        traffic.run_for(15)
        log("traffic: chaos latency 300 ms on half of the API requests")
        chaos({"latencyMs": 300, "latencyRate": 0.5, "errorRate": 0})
        traffic.run_for(10)
        log("traffic: chaos errors on 40 % of the API requests")
        chaos({"latencyMs": 0, "latencyRate": 0, "errorRate": 0.4})
        traffic.run_for(10)
        chaos(None)
        pid_file = os.path.join(env["LOCAL_DIR"], "service.pid")
        if shutil.which("jcmd") and os.path.exists(pid_file):
            with open(pid_file, encoding="utf-8") as f:
                subprocess.run(["jcmd", f.read().strip(), "GC.run"], check=False, stdout=subprocess.DEVNULL)
        traffic.run_for(10)
        log(f"traffic done: responses by status {dict(sorted(traffic.statuses.items()))}")
        for code in (200, 201, 401, 403, 409, 422, 500):
            if not traffic.statuses.get(code):
                failures.append(f"traffic produced no HTTP {code}")

        # Let scrapes and rule evaluations catch up: the 5m SLI recording rule must exist.
        wait_for("recording rules evaluated", lambda: prom("/api/v1/query",
                 query="service:slo_latency_slow:ratio_rate5m")[0]["result"], 60)
        time.sleep(6)
        _, _, raw = http("GET", f"{MGMT}/q/metrics", headers={"Accept": ACCEPT_3X})
        exposed = exposition_names(raw.decode())
        with open(os.path.join(work, "metrics.txt"), "wb") as f:
            f.write(raw)

        # ---- evaluate every query ----
        rule_names = {q["rule"]["name"] for q in queries if q.get("rule", {}).get("type") == "record"}
        counts = {"evaluated": 0, "with_data": 0, "excluded": 0, "alerts_parsed": 0}
        excluded_reasons = {}
        seen_panels = set()
        label_cache = {}

        # ---- where each metric name must exist: the real scrape output of the component that serves it ----
        # The service (/q/metrics), the real postgres-exporter (its /metrics), Prometheus itself (series it writes:
        # up, ALERTS), and for kube-state-metrics (not run here) the list derived from its docs at the deployed tag
        # (third-party/). Components not run here and without such a list (blackbox) are named in the report.
        pg_exposed = {}
        if exporter:
            _, _, pg_raw = http("GET", f"http://127.0.0.1:{PGEXP_PORT}/metrics")
            pg_exposed = exposition_names(pg_raw.decode())
        ksm_names = load_ksm_list()
        name_sources = {"service /q/metrics": exposed, "postgres-exporter /metrics": pg_exposed,
                        "kube-state-metrics list (third-party)": ksm_names}
        for source, names in name_sources.items():
            if not names:
                failures.append(f"no metric names from the {source}: nothing to check queries against")
        name_checks = {}   # component -> metric references checked
        unchecked = {}     # component -> metric names no scrape or list here can confirm

        def prometheus_series_labels(metric):
            if metric not in label_cache:
                data, _ = prom("/api/v1/series", **{"match[]": metric, "start": str(time.time() - 3600)})
                label_cache[metric] = set().union(*[set(x) for x in data]) - {"__name__"} if data else set()
            return label_cache[metric]

        def served_labels(q, metric):
            """Label names of `metric` as its real source serves them, or None (failure recorded / not checkable)."""
            if metric in rule_names:
                # A recording rule's labels are those of its series on this Prometheus; a rule fed by a component
                # not run here has none, and its labels cannot be checked.
                name_checks["recording rules"] = name_checks.get("recording rules", 0) + 1
                labels = prometheus_series_labels(metric)
                if not labels:
                    unchecked.setdefault("recording rules fed by such a component", set()).add(metric)
                    return None
                return labels
            if metric in exposed:
                name_checks["service"] = name_checks.get("service", 0) + 1
                return exposed[metric] | TARGET_LABELS
            prefix = next((p for p in sorted(exporter_prefixes, key=len, reverse=True)
                           if metric == p or (p.endswith("_") and metric.startswith(p))), None)
            component = exporter_prefixes[prefix][0] if prefix else None
            if component is None:
                failures.append(f"{q['where']}: metric {metric} is neither in the service's /q/metrics nor a "
                                "recording rule nor from a component listed in live-exclusions.tsv")
                return None
            name_checks[component] = name_checks.get(component, 0) + 1
            if component == "postgres-exporter":
                if metric not in pg_exposed:
                    failures.append(f"{q['where']}: {metric} is not served by the real postgres-exporter "
                                    f"(its /metrics has {len(pg_exposed)} names, e.g. "
                                    f"{', '.join(sorted(n for n in pg_exposed if n.startswith(metric[:9]))[:5])})")
                    return None
                return pg_exposed[metric] | TARGET_LABELS
            if component == "prometheus":
                labels = prometheus_series_labels(metric)
                if not labels:
                    failures.append(f"{q['where']}: Prometheus holds no {metric} series (it writes up and ALERTS "
                                    "itself; a renamed name matches nothing)")
                    return None
                return labels
            if component == "kube-state-metrics":
                if metric not in ksm_names:
                    failures.append(f"{q['where']}: {metric} is not a metric of the deployed kube-state-metrics "
                                    "(observability/tests/third-party/)")
                    return None
                return ksm_names[metric] | TARGET_LABELS
            unchecked.setdefault(component, set()).add(metric)
            return None

        def check_names(q):
            """Every metric and label exists where its component serves it (see served_labels)."""
            expr_labels = set()
            for sel in q.get("selectors", []):
                metric = sel["metric"]
                if not metric:
                    continue
                known = served_labels(q, metric)
                if known is None:
                    expr_labels = None
                    continue
                missing = [lbl for lbl in sel["labels"] if lbl not in known]
                if missing:
                    failures.append(f"{q['where']}: {metric} has no label(s) {missing} (it has {sorted(known)})")
                if expr_labels is not None:
                    expr_labels |= known
            if expr_labels is not None:
                missing = [lbl for lbl in q.get("grouping", []) if lbl not in expr_labels]
                if missing:
                    failures.append(f"{q['where']}: grouping label(s) {missing} exist on none of its metrics")

        for q in queries:
            # Rules are keyed rule/<name>, so live-exclusions.tsv can list those fed by a component not run here.
            panel = q.get("panel") or (f"rule/{q['rule']['name']}" if q.get("rule") else None)
            if panel:
                seen_panels.add(panel)
            if panel in excluded_panels:
                counts["excluded"] += 1
                component, reason = excluded_panels[panel]
                excluded_reasons.setdefault(f"{component}: {reason}", []).append(q["where"])
                if q["kind"] == "promql":
                    check_names(q)  # not evaluated here, but its names must still exist where they are served
                continue
            if q["kind"] != "promql":
                failures.append(f"{q['where']}: {q['kind']} query in a panel not listed in live-exclusions.tsv")
                continue
            if q.get("rule", {}).get("type") == "alert":
                _, err = prom("/api/v1/query", query=q["expr"])
                if err:
                    failures.append(f"{q['where']}: Prometheus rejects the alert expression: {err}")
                else:
                    counts["alerts_parsed"] += 1
                    passed += 1
                check_names(q)
                continue
            expr = q["expr"]
            if q.get("label_values"):
                expr = f"group by ({q['label_values']}) ({expr})"
            counts["evaluated"] += 1
            data, err = prom("/api/v1/query", query=expr)
            if err:
                failures.append(f"{q['where']}: query error {err}: {expr}")
                continue
            result = data["result"]
            if q.get("label_values"):
                result = [r for r in result if r["metric"].get(q["label_values"])]
                # Grafana keeps a variable's saved value only when its query offers it (else it takes the first
                # offered): the manifest's queries were given the saved value, so it must be one of those offered.
                offered = sorted({r["metric"][q["label_values"]] for r in result})
                current = q.get("current")
                if result and current is not None and current != ".*" and current not in offered:
                    failures.append(f"{q['where']}: Grafana would not keep the saved value {current!r} (offered: "
                                    f"{offered}); the queries were evaluated with it")
            if result:
                counts["with_data"] += 1
                passed += 1
            else:
                failures.append(f"{q['where']}: no data for {expr}")

            check_names(q)

        for panel in excluded_panels:
            if panel not in seen_panels:
                failures.append(f"live-exclusions.tsv lists {panel}, which no dashboard has")

        # ---- exemplars ----
        now = time.time()
        data, err = prom("/api/v1/query_exemplars", query='http_server_requests_seconds_bucket{service="shop"}',
                         start=str(now - 600), end=str(now))
        exemplars = [e for s in (data or []) for e in s.get("exemplars", [])
                     if re.fullmatch(r"[0-9a-f]{32}", e.get("labels", {}).get("trace_id", ""))]
        if not exemplars:
            failures.append(f"Prometheus stored no exemplar with a trace_id for http_server_requests_seconds_bucket "
                            f"({err or 'empty result'})")
        else:
            log(f"exemplars: {len(exemplars)} with trace_id stored, e.g. trace_id={exemplars[0]['labels']['trace_id']}")
            passed += 1

        # ---- metrics -> exemplar -> trace id -> logs: the chain the dashboards link, on real data ----
        # The "Error logs" panel selects {service="shop", level="ERROR"} (Loki labels from the JSON keys) and links
        # the traceId field to Tempo. The service's own log must have such lines, and an exemplar on a 5xx bucket
        # must name a trace whose ERROR line is in that log.
        error_traces = set()
        with open(os.path.join(env["LOCAL_DIR"], "service.log"), encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("level") == "ERROR" and rec.get("service") == "shop" and rec.get("traceId"):
                    error_traces.add(rec["traceId"])
        data, err = prom("/api/v1/query_exemplars", start=str(now - 600), end=str(now),
                         query='http_server_requests_seconds_bucket{service="shop", status=~"5.."}')
        error_exemplars = {e["labels"].get("trace_id") for s_ in (data or []) for e in s_.get("exemplars", [])}
        joined = error_exemplars & error_traces
        if not error_traces:
            failures.append("the service logged no ERROR line with service=shop and a traceId during chaos errors")
        elif not joined:
            failures.append(f"no exemplar of a 5xx bucket ({len(error_exemplars)}) names a trace of an ERROR log line "
                            f"({len(error_traces)})")
        else:
            passed += 1
            log(f"exemplar -> logs: {len(joined)} trace id(s) of 5xx exemplars found in ERROR log lines, "
                f"e.g. {sorted(joined)[0]}")

        # ---- the shop target must be healthy (a failing scrape would make everything above "no data") ----
        data, _ = prom("/api/v1/targets")
        for t in (data or {}).get("activeTargets", []):
            if t["health"] != "up":
                failures.append(f"target {t['labels'].get('job')} {t['scrapeUrl']} is {t['health']}: {t['lastError']}")
            else:
                passed += 1
        # ---- every rule evaluates without error on real data (e.g. no many-to-many matching at run time) ----
        data, _ = prom("/api/v1/rules")
        rules = [r for g in (data or {}).get("groups", []) for r in g["rules"]]
        for r in rules:
            if r.get("health") != "ok":
                failures.append(f"rule {r['name']} evaluates with health {r.get('health')}: {r.get('lastError')}")
            else:
                passed += 1
        log(f"rules loaded by Prometheus: {len(rules)}, healthy: {sum(r.get('health') == 'ok' for r in rules)}")
        if shim:
            log(f"exemplar shim: dropped {shim.dropped} exemplars on *_count samples over all scrapes")

        # ---- report ----
        log(f"{counts['evaluated']} expressions evaluated (dashboard panels, variables, recording rules), "
            f"{counts['with_data']} with data, {counts['excluded']} excluded; "
            f"{counts['alerts_parsed']} alert expressions accepted by Prometheus")
        log("metric references checked where they are served: "
            + ", ".join(f"{k} {v}" for k, v in sorted(name_checks.items())))
        for component, names in sorted(unchecked.items()):
            log(f"  not checkable here ({component}: not run in this test): {', '.join(sorted(names))}")
        for component in ("service", "postgres-exporter", "prometheus"):
            if not name_checks.get(component):
                failures.append(f"no query references a metric of {component}: the name check of that component "
                                "ran on nothing (did the manifest or live-exclusions.tsv change?)")
        for reason, where in sorted(excluded_reasons.items()):
            log(f"  excluded {len(where)} ({reason}): {'; '.join(where)}")
        alerts, _ = prom("/api/v1/alerts")
        active = sorted({(a["labels"]["alertname"], a["state"]) for a in (alerts or {}).get("alerts", [])})
        log(f"alerts active after the chaos phases: {active or 'none'}")
        for f_ in failures:
            print(f"FAIL {f_}", flush=True)
        print(f"verify_live: {passed} passed, {len(failures)} failed", flush=True)
        if failures:
            log(f"{len(failures)} failure(s); Prometheus data and logs kept in {work}")
            args.keep = True
            return 1
        log("all live checks passed")
        return 0
    finally:
        if shim:
            shim.shutdown()
        stop_started(started)
        subprocess.run([service_script, "stop"], env=env, check=False, cwd=ROOT)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
