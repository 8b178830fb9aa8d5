#!/usr/bin/env python3
"""Live proof of the canary analysis: the AnalysisTemplates' queries, run as Argo Rollouts runs them, on a real
Prometheus scraping the real packaged service, pass without faults and cross the abort threshold with them.

    python3 observability/tests/verify_canary.py        (make obs-canary-live)

The queries, arguments, conditions and timing come from k8s/components/canary/analysis-templates.yaml, unchanged:
  1. src/test/scripts/local-service.sh start: the packaged service on a throwaway PostgreSQL, on loopback;
  2. Debian's Prometheus scrapes it every 5 s; the scrape config labels the target as Kubernetes discovery labels a
     canary pod (prometheus-k8s.yml): service="shop", namespace, and a synthetic rollouts_pod_template_hash, new for
     every phase (a reload), so each phase's series are those of a new canary, as after each release;
  3. phases, each as long as an analysis needs to fail a canary (initialDelay + failureLimit x interval), with a
     measurement of every template at each of its measurement times:
       clean    no faults                                   -> every measurement passes
       errors   the service restarted with SHOP_CHAOS_ERROR_RATE in its environment (how make kind-canary BAD=1
                releases a bad revision)                    -> the availability analysis fails
       latency  DELETE then PUT /chaos: a delay on a share of requests (the chaos endpoint)
                                                            -> the latency analysis fails, availability passes
  4. each query is sent with {{args.*}} substituted the way Argo Rollouts does (utils/template/template.go at the
     pinned tag: every {{ args.NAME }} tag, spaces trimmed; an unknown tag is an error), and judged by the template's
     successCondition `len(result) == 1 && result[0] <= X` (the only form k8s/tests/canary.test.mjs allows).
The measured values are printed. Only the processes started here are stopped at the end.
Prometheus HTTP API: https://prometheus.io/docs/prometheus/latest/querying/api/
Argo Rollouts analysis: https://argo-rollouts.readthedocs.io/en/stable/features/analysis/
"""
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import verify_live as live  # noqa: E402  (ports come from the environment, read at import)

TEMPLATES = os.path.join(ROOT, "k8s/components/canary/analysis-templates.yaml")
NAMESPACE = "shop-production"
CONDITION = re.compile(r"^len\(result\) == 1 && result\[0\] <= (\d+(?:\.\d+)?)$")
DURATION = re.compile(r"^(\d+)(s|m)$")
# Faults of the two bad phases: errors well above the 1.44 % threshold but far from "everything fails", and a delay
# on 30 % of the requests (threshold 14.4 % slower than 250 ms).
ERROR_RATE = os.environ.get("CANARY_LIVE_ERROR_RATE", "0.05")
LATENCY = {"latencyMs": 300, "latencyRate": 0.3, "errorRate": 0}


def log(msg):
    print(f"verify_canary: {msg}", flush=True)


def seconds(text):
    m = DURATION.match(str(text))
    if not m:
        raise SystemExit(f"verify_canary: not a duration: {text!r}")
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def load_templates():
    """The templates' metrics: name, query, threshold, initialDelay, interval, failureLimit."""
    with open(TEMPLATES, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    metrics = []
    for t in docs:
        for m in t["spec"]["metrics"]:
            cond = CONDITION.match(m.get("successCondition", ""))
            if not cond:
                raise SystemExit(f"verify_canary: {t['metadata']['name']}: successCondition {m.get('successCondition')!r} "
                                 "is not len(result) == 1 && result[0] <= X")
            metrics.append({"template": t["metadata"]["name"], "metric": m["name"],
                            "args": [a["name"] for a in t["spec"].get("args", [])],
                            "query": m["provider"]["prometheus"]["query"], "threshold": float(cond.group(1)),
                            "initial": seconds(m.get("initialDelay", "0s")), "interval": seconds(m["interval"]),
                            "failure_limit": int(m.get("failureLimit", 0))})
    if len(metrics) < 2:
        raise SystemExit(f"verify_canary: {TEMPLATES}: {len(metrics)} metrics (want availability and latency)")
    return metrics


def resolve_args(query, args):
    """{{args.NAME}} -> value, as Argo Rollouts substitutes a metric; any other or unknown tag is an error."""
    def sub(m):
        tag = m.group(1).strip()
        if not tag.startswith("args.") or tag[5:] not in args:
            raise SystemExit(f"verify_canary: failed to resolve {{{{{m.group(1)}}}}} in {query!r}")
        return args[tag[5:]]
    return re.sub(r"\{\{(.*?)\}\}", sub, query)


def measure(metric, args):
    """One measurement: (value list, passed) as the template's successCondition judges the query's result."""
    query = resolve_args(metric["query"], args)
    data, err = live.prom("/api/v1/query", query=query)
    if err:
        raise SystemExit(f"verify_canary: Prometheus rejects {metric['template']}: {err}\n{query}")
    if data["resultType"] != "vector":
        raise SystemExit(f"verify_canary: {metric['template']}: result type {data['resultType']} (want vector)")
    values = [float(r["value"][1]) for r in data["result"]]
    passed = len(values) == 1 and not math.isnan(values[0]) and values[0] <= metric["threshold"]
    return values, passed


class Load:
    """API traffic in a background thread (verify_live's rounds: every route, 2xx and 4xx), a short pause per round."""

    def __init__(self, local_dir):
        self.traffic = live.Traffic(local_dir)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.traffic.round()
            except OSError:
                time.sleep(0.5)  # the service is restarting
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


class Shim(live.ExemplarShim):
    """verify_live's exemplar shim, quiet while the service restarts (that scrape just fails, as a pod's would)."""

    def handle_error(self, request, client_address):
        pass


def write_config(path, target, pod_hash):
    config = {
        "global": {"scrape_interval": "5s", "scrape_timeout": "5s", "evaluation_interval": "5s"},
        "scrape_configs": [{
            "job_name": "shop", "metrics_path": "/q/metrics",
            # The labels prometheus-k8s.yml gives a canary pod: service (prometheus.io/job), namespace, environment
            # (pod label), and the pod label rollouts-pod-template-hash as rollouts_pod_template_hash.
            "static_configs": [{"targets": [target],
                                "labels": {"service": "shop", "namespace": NAMESPACE, "environment": "production",
                                           "rollouts_pod_template_hash": pod_hash}}],
        }],
    }
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Generated by observability/tests/verify_canary.py; do not edit.\n")
        yaml.safe_dump(config, f, sort_keys=False)


def main():
    metrics = load_templates()
    by_template = {m["template"]: m for m in metrics}
    availability = next(m for m in metrics if "availability" in m["template"])
    latency = next(m for m in metrics if "latency" in m["template"])
    work = tempfile.mkdtemp(prefix="obs-canary-")
    os.chmod(work, 0o755)  # as root, local-service.sh runs PostgreSQL as user postgres, which must enter it
    env = dict(os.environ, API_PORT=str(live.API_PORT), MGMT_PORT=str(live.MGMT_PORT), PG_PORT=str(live.PG_PORT),
               LOCAL_DIR=os.path.join(work, "local"))
    env.pop("SHOP_CHAOS_ERROR_RATE", None)
    # Flyway's first connection at start-up waits for the pool like any request (3 s); on a machine busy with other
    # builds that can fail the start. Longer here only: the phases never exhaust the pool, so no SLI depends on it.
    env["QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT"] = "20S"
    # Two starts of the service (the errors phase restarts it): on a busy 2-core machine one took over 60 s.
    env.setdefault("READY_TIMEOUT", "240")
    service = os.path.join(ROOT, "src/test/scripts/local-service.sh")
    started, shim, passed = [], None, False
    failures, table = [], []
    try:
        log(f"starting the service (API {live.API_PORT}, management {live.MGMT_PORT}) in {work}")
        subprocess.run([service, "start"], env=env, check=True, cwd=ROOT)
        target = f"127.0.0.1:{live.MGMT_PORT}"
        if live.prometheus_version() < (2, 43):
            shim = Shim(live.SHIM_PORT, live.MGMT)
            threading.Thread(target=shim.serve_forever, daemon=True).start()
            target = f"127.0.0.1:{live.SHIM_PORT}"
        config = os.path.join(work, "prometheus.yml")
        write_config(config, target, "warmup")
        prom = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                                 f"--web.listen-address=127.0.0.1:{live.PROM_PORT}"],
                                stdout=open(os.path.join(work, "prometheus.log"), "w"), stderr=subprocess.STDOUT)
        started.append(("prometheus", prom))
        live.wait_for("Prometheus ready", lambda: live.http("GET", f"{live.PROM}/-/ready")[0] == 200, 60)

        def new_canary(pod_hash):
            """A new synthetic pod template hash on the target: the series of a new canary."""
            write_config(config, target, pod_hash)
            prom.send_signal(signal.SIGHUP)
            live.wait_for(f"a scrape with rollouts_pod_template_hash={pod_hash}", lambda: (live.prom(
                "/api/v1/query", query=f'up{{rollouts_pod_template_hash="{pod_hash}"}} == 1')[0] or {}).get("result"), 60)

        def phase(name, pod_hash, expect):
            """Measures every template at its measurement times; expect: template -> True (passes) | False (fails)."""
            new_canary(pod_hash)
            args = {"canary-hash": pod_hash, "namespace": NAMESPACE}
            for m in metrics:
                missing = [a for a in m["args"] if a not in args]
                if missing:
                    raise SystemExit(f"verify_canary: {m['template']} needs argument(s) {missing}")
            start = time.time()
            # The measurement times of a run that fails a canary failing every measurement:
            # initialDelay, then every interval until failureLimit + 1 measurements.
            times = sorted({m["initial"] + k * m["interval"] for m in metrics for k in range(m["failure_limit"] + 1)})
            results = {m["template"]: [] for m in metrics}
            for at in times:
                time.sleep(max(0.0, start + at - time.time()))
                for m in metrics:
                    if at in {m["initial"] + k * m["interval"] for k in range(m["failure_limit"] + 1)}:
                        values, passed = measure(m, args)
                        results[m["template"]].append((at, values, passed))
                        shown = ", ".join(f"{v:.4f}" for v in values) or "no series"
                        log(f"  {name:8s} +{at:3d}s {m['template']:28s} {shown} (abort above {m['threshold']}) "
                            f"-> {'pass' if passed else 'FAIL'}")
            for template, want in expect.items():
                m = by_template[template]
                fails = sum(1 for _, _, ok in results[template] if not ok)
                run_failed = fails > m["failure_limit"]
                verdict = "failed (the rollout would abort)" if run_failed else "passed"
                table.append((name, template, [v for _, v, _ in results[template]], verdict))
                if want is None:
                    continue
                if want and fails:
                    failures.append(f"{name}: {template} failed {fails} measurement(s) without a fault that it measures")
                if not want and not run_failed:
                    failures.append(f"{name}: {template} failed only {fails} measurement(s); the run needs "
                                    f"{m['failure_limit'] + 1} to abort the canary")

        with Load(env["LOCAL_DIR"]) as load:
            log("warm-up: 20 s of traffic (JIT), not judged")
            time.sleep(20)
            log("phase clean: no faults")
            phase("clean", "clean0001", {availability["template"]: True, latency["template"]: True})

            log(f"phase errors: the service restarted with SHOP_CHAOS_ERROR_RATE={ERROR_RATE} in its environment")
            subprocess.run([service, "service-restart"], env=dict(env, SHOP_CHAOS_ERROR_RATE=ERROR_RATE),
                           check=True, cwd=ROOT)
            status, _, body = live.http("GET", f"{live.MGMT}/chaos")
            if status != 200 or f'"errorRate":{float(ERROR_RATE)}' not in body.decode().replace(" ", ""):
                failures.append(f"after a start with SHOP_CHAOS_ERROR_RATE={ERROR_RATE}, GET /chaos answered {status} {body[:200]!r}")
            # Latency after a restart is a cold JVM's: reported, not judged.
            phase("errors", "errors0001", {availability["template"]: False, latency["template"]: None})

            log(f"phase latency: DELETE /chaos, then PUT /chaos {LATENCY}")
            live.chaos(None)
            live.chaos(LATENCY)
            phase("latency", "latency0001", {availability["template"]: True, latency["template"]: False})
            live.chaos(None)
            statuses = dict(sorted(load.traffic.statuses.items()))
        log(f"traffic: responses by status {statuses}")
        if not statuses.get(500):
            failures.append("no HTTP 500 answered during the errors phase")

        log("analysis results (values of each measurement; 'failed' = more failed measurements than failureLimit):")
        for name, template, values, verdict in table:
            shown = " ".join("[" + ", ".join(f"{v:.4f}" for v in vs) + "]" for vs in values)
            log(f"  {name:8s} {template:28s} {shown:40s} {verdict}")
        for f_ in failures:
            print(f"FAIL {f_}", flush=True)
        if failures:
            log(f"{len(failures)} failure(s); Prometheus data and logs kept in {work}")
            return 1
        log("the analysis queries pass a clean canary and fail one with injected errors, and one with injected latency")
        passed = True
        return 0
    finally:
        if shim:
            shim.shutdown()
        live.stop_started(started)
        subprocess.run([service, "stop"], env=env, check=False, cwd=ROOT)
        if passed:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
