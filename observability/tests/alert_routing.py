#!/usr/bin/env python3
"""Alert routing checks for observability/alertmanager/alertmanager.yml (`make obs-alert-routing`).

1. `amtool check-config` (Debian's amtool 0.25) loads the configuration and its templates, and the templates
   render every notification text with `amtool template render`.
2. Routing table: label set -> expected receiver, one row per route, the Watchdog and the fall-through, each
   resolved by `amtool config routes test` (Alertmanager's own routing code).
3. Every alert in observability/prometheus/rules/*.yml, with the labels its rule sets (alertname, severity, and
   `service` where the rule fixes it), reaches a receiver other than the root's fall-through `unrouted`; every
   receiver is referenced by the routing tree and reached by some alert; timers of each route are what the
   runbook states.
4. Wiring: Prometheus sends alerts to the Alertmanager that compose and kind really run (service / Service
   name and port); the blackbox configuration loads in Debian's blackbox exporter 0.23; every probe job asks
   the exporter that really runs, with a module it has, for URLs that reach the probed service the way clients
   do (compose: the service's own port; kind: its Service, on the API port, never the management port; the
   environments' shared stack, observability/environments/prometheus.yml over k8s/overlays/{observability,staging,
   production}: each environment's Service shop), and a shop probe carries the `environment` of the pods it reaches;
   the shared stack discovers exactly the namespaces the environment overlays deploy the shop into.
5. Inhibition on a real Alertmanager 0.25 (loopback, no receivers reached within the test): alerts are posted
   to its API and /api/v2/alerts reports which ones are inhibited, and by which alert. Every inhibit rule's
   matchers select at least one alert that exists in the rule files.

Alertmanager configuration: https://prometheus.io/docs/alerting/latest/configuration/
amtool: https://github.com/prometheus/alertmanager#amtool
API v2: https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
AM_DIR = os.path.join(ROOT, "observability", "alertmanager")
AM_CONFIG = os.path.join(AM_DIR, "alertmanager.yml")
RULES = sorted(glob.glob(os.path.join(ROOT, "observability", "prometheus", "rules", "*.yml")))
PROM_COMPOSE = os.path.join(ROOT, "observability", "prometheus", "prometheus.yml")
PROM_KIND = os.path.join(ROOT, "observability", "prometheus", "prometheus-k8s.yml")
BLACKBOX = os.path.join(ROOT, "observability", "blackbox", "blackbox.yml")
COMPOSE = os.path.join(ROOT, "compose", "compose.yaml")
KIND_OVERLAY = os.path.join(ROOT, "k8s", "overlays", "kind")
# The environments: the shared stack (its Prometheus configuration comes from observability/environments/) and the
# application overlays it watches.
PROM_ENVS = os.path.join(ROOT, "observability", "environments", "prometheus.yml")
ENV_OVERLAYS = [os.path.join(ROOT, "k8s", "overlays", d) for d in ("observability", "staging", "production")]
# Loopback port of the short-lived Alertmanager of the inhibition check.
AM_PORT = int(os.environ.get("ROUTING_AM_PORT", "19094"))

# Label set -> receiver. One row per child route, the Watchdog, and what must fall through to the root.
ROUTING_TABLE = [
    ({"alertname": "Watchdog", "severity": "none"}, "heartbeat"),
    # The Watchdog's route matches on the name: even a mislabelled Watchdog never pages.
    ({"alertname": "Watchdog", "severity": "page"}, "heartbeat"),
    ({"alertname": "ShopDown", "severity": "page", "service": "shop"}, "pager"),
    ({"alertname": "PostgresDown", "severity": "page", "service": "shop"}, "pager"),
    ({"alertname": "ShopLatencyBudgetBurnSlow", "severity": "ticket", "service": "shop"}, "ticket"),
    ({"alertname": "ObservabilityTargetDown", "severity": "ticket", "service": "loki"}, "ticket"),
    ({"alertname": "SomethingNew", "severity": "critical", "service": "shop"}, "unrouted"),
    ({"alertname": "SomethingNew", "service": "shop"}, "unrouted"),
]

# Timers per receiver's route, as RUNBOOK.md ("Severities") and README state them.
TIMERS = {
    "pager": {"group_wait": "10s", "repeat_interval": "1h"},
    "ticket": {"group_wait": "2m", "repeat_interval": "12h"},
    "heartbeat": {"group_wait": "0s", "repeat_interval": "1m"},
}
GROUP_BY = ["alertname", "service", "environment"]

# (alerts posted together, alert -> the alerts expected to inhibit it). Alerts are named NAME@ENVIRONMENT (NAME when
# they have no environment: the Watchdog). Every alert not listed as a key must stay active (not inhibited).
INHIBITION_CASES = [
    ("database down mutes the shop's SLO burn and probe alerts",
     [{"alertname": "PostgresDown", "environment": "production", "severity": "page", "service": "shop"},
      {"alertname": "ShopAvailabilityBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop", "slo": "availability"},
      {"alertname": "ShopLatencyBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop", "slo": "latency"},
      {"alertname": "ShopAvailabilityBudgetBurnSlow", "environment": "production", "severity": "ticket", "service": "shop", "slo": "availability"},
      {"alertname": "ShopProbeFailing", "environment": "production", "severity": "page", "service": "shop", "instance": "http://shop:8080/api/products?size=1"},
      {"alertname": "ShopDatabasePoolExhausted", "environment": "production", "severity": "ticket", "service": "shop"}],
     {"ShopAvailabilityBudgetBurnFast@production": {"PostgresDown@production"}, "ShopLatencyBudgetBurnFast@production": {"PostgresDown@production"},
      "ShopAvailabilityBudgetBurnSlow@production": {"PostgresDown@production"}, "ShopProbeFailing@production": {"PostgresDown@production"}}),
    ("a cause mutes only its own service (equal: [service])",
     [{"alertname": "ShopDown", "environment": "production", "severity": "page", "service": "shop", "instance": "shop:9000"},
      {"alertname": "PostgresDown", "environment": "production", "severity": "page", "service": "shop"},
      {"alertname": "ShopAvailabilityBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop-canary", "slo": "availability"}],
     {}),
    ("shop target down mutes its SLO burn and probe alerts, not Grafana's probe",
     [{"alertname": "ShopDown", "environment": "production", "severity": "page", "service": "shop", "instance": "shop:9000"},
      {"alertname": "ShopLatencyBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop", "slo": "latency"},
      {"alertname": "ShopAvailabilityBudgetBurnSlow", "environment": "production", "severity": "ticket", "service": "shop", "slo": "availability"},
      {"alertname": "ShopProbeFailing", "environment": "production", "severity": "page", "service": "shop", "instance": "http://shop:8080/api/products?size=1"},
      {"alertname": "GrafanaProbeFailing", "environment": "production", "severity": "ticket", "service": "grafana"}],
     {"ShopLatencyBudgetBurnFast@production": {"ShopDown@production"}, "ShopAvailabilityBudgetBurnSlow@production": {"ShopDown@production"},
      "ShopProbeFailing@production": {"ShopDown@production"}}),
    ("a cause mutes only its own environment (equal: [service, environment]): staging's outage never mutes production",
     [{"alertname": "PostgresDown", "environment": "staging", "severity": "page", "service": "shop"},
      {"alertname": "ShopAvailabilityBudgetBurnFast", "environment": "staging", "severity": "page", "service": "shop", "slo": "availability"},
      {"alertname": "ShopAvailabilityBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop", "slo": "availability"},
      {"alertname": "ShopProbeFailing", "environment": "production", "severity": "page", "service": "shop", "instance": "http://shop.shop-production.svc:8080/api/products?size=1"}],
     {"ShopAvailabilityBudgetBurnFast@staging": {"PostgresDown@staging"}}),
    ("no shop target at all mutes its SLO burn alerts",
     [{"alertname": "ShopMetricsAbsent", "environment": "production", "severity": "page", "service": "shop"},
      {"alertname": "ShopAvailabilityBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop", "slo": "availability"}],
     {"ShopAvailabilityBudgetBurnFast@production": {"ShopMetricsAbsent@production"}}),
    ("symptoms without a cause page as usual; a cause never mutes the Watchdog or other causes",
     [{"alertname": "ShopAvailabilityBudgetBurnFast", "environment": "production", "severity": "page", "service": "shop", "slo": "availability"},
      {"alertname": "Watchdog", "severity": "none"}],
     {}),
    ("PostgreSQL down and the shop down page both (causes are not inhibited by each other)",
     [{"alertname": "PostgresDown", "environment": "production", "severity": "page", "service": "shop"},
      {"alertname": "ShopDown", "environment": "production", "severity": "page", "service": "shop", "instance": "shop:9000"},
      {"alertname": "Watchdog", "severity": "none"}],
     {}),
]

errors = []


def fail(msg):
    errors.append(msg)
    print(f"FAIL {msg}", file=sys.stderr)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


def labels_arg(labels):
    return [f"{k}={v}" for k, v in sorted(labels.items())]


def route_of(config, labels):
    """Receivers `amtool config routes test` resolves for a label set (Alertmanager's routing code)."""
    r = run(["amtool", "config", "routes", "test", f"--config.file={config}", *labels_arg(labels)])
    if r.returncode != 0:
        fail(f"amtool config routes test {labels}: exit {r.returncode}: {r.stderr.strip()}")
        return []
    return [x for x in r.stdout.strip().split(",") if x]


def parse_matcher(text):
    m = re.fullmatch(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*', text)
    if not m:
        raise ValueError(f"cannot read matcher {text!r}")
    return m.groups()


def matches(matchers, labels):
    """Alertmanager matcher semantics: regexes anchored at both ends; a missing label is the empty string."""
    for text in matchers:
        name, op, value = parse_matcher(text)
        got = labels.get(name, "")
        ok = {"=": got == value, "!=": got != value,
              "=~": re.fullmatch(value, got) is not None, "!~": re.fullmatch(value, got) is None}[op]
        if not ok:
            return False
    return True


def rule_alerts():
    """Every alerting rule: its name and the labels the rule itself sets (templated values left out)."""
    alerts = []
    for path in RULES:
        for group in (yaml.safe_load(open(path)) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" not in rule:
                    continue
                labels = {k: str(v) for k, v in (rule.get("labels") or {}).items() if "{{" not in str(v)}
                labels["alertname"] = rule["alert"]
                alerts.append((os.path.relpath(path, ROOT), labels))
    return alerts


def walk(route, depth=0):
    yield route, depth
    for child in route.get("routes") or []:
        yield from walk(child, depth + 1)


def check_config():
    r = run(["amtool", "check-config", AM_CONFIG])
    print(r.stdout.strip())
    if r.returncode != 0:
        fail(f"amtool check-config: {r.stderr.strip() or r.stdout.strip()}")
        return False
    return True


def check_templates(config):
    """Render the notification templates once (firing example data of amtool) and look for their parts."""
    tmpl_globs = [os.path.join(AM_DIR, t) for t in config.get("templates") or []]
    if not tmpl_globs:
        fail("alertmanager.yml: no templates")
        return
    for part, text in (("subject", '{{ template "shop.subject" . }}'), ("text", '{{ template "shop.text" . }}')):
        args = ["amtool", "template", "render", f"--template.text={text}"]
        args += [f"--template.glob={g}" for g in tmpl_globs]
        r = run(args)
        if r.returncode != 0:
            fail(f"template shop.{part}: {r.stderr.strip()}")
            continue
        if part == "text":
            for needle in ("Summary:", "Description:", "Runbook:", "/d/shop-overview", "/explore?", "Silence:"):
                if needle not in r.stdout:
                    fail(f"template shop.text renders without {needle!r}")


def check_routing(config):
    receivers = [r["name"] for r in config.get("receivers", [])]
    root = config["route"]
    for labels, want in ROUTING_TABLE:
        got = route_of(AM_CONFIG, labels)
        status = "ok" if got == [want] else "WRONG"
        print(f"  route {labels_arg(labels)} -> {','.join(got)} ({status})")
        if got != [want]:
            fail(f"routing {labels} -> {got}, expected [{want}]")

    alerts = rule_alerts()
    if not alerts:
        fail("no alerting rules found in observability/prometheus/rules")
    reached = set()
    for path, labels in alerts:
        got = route_of(AM_CONFIG, labels)
        reached.update(got)
        if not got or root["receiver"] in got:
            fail(f"{path} {labels['alertname']} {labels_arg(labels)} reaches {got or 'nothing'}: "
                 f"no route matches it, only the root's fall-through {root['receiver']!r}")
    print(f"  {len(alerts)} alerts in {len(RULES)} rule files reach: {', '.join(sorted(reached))}")

    in_tree = {r.get("receiver") for r, _ in walk(root)} - {None}
    if not receivers:
        fail("alertmanager.yml: no receivers")
    for name in receivers:
        if name not in in_tree:
            fail(f"receiver {name} is not referenced by any route")
        elif name != root["receiver"] and name not in reached:
            fail(f"receiver {name} is reached by no alert in the rule files")

    if root.get("group_by") != GROUP_BY:
        fail(f"root route group_by {root.get('group_by')}, expected {GROUP_BY}")
    for route, depth in walk(root):
        if depth and "group_by" in route:
            fail(f"route to {route.get('receiver')} overrides group_by; alerts are grouped by {GROUP_BY} everywhere")
        want = TIMERS.get(route.get("receiver"))
        if depth and want:
            for key, value in want.items():
                if route.get(key) != value:
                    fail(f"route to {route['receiver']}: {key} {route.get(key)}, expected {value}")
    missing = set(TIMERS) - {r.get("receiver") for r, d in walk(root) if d}
    if missing:
        fail(f"no child route for receiver(s) {sorted(missing)}")


def check_inhibit_rules_select_real_alerts(config):
    rules = config.get("inhibit_rules") or []
    if not rules:
        fail("alertmanager.yml: no inhibit_rules")
    alerts = [labels for _, labels in rule_alerts()]
    for i, rule in enumerate(rules):
        for side in ("source_matchers", "target_matchers"):
            hit = [a["alertname"] for a in alerts if matches(rule.get(side) or [], a)]
            if not hit:
                fail(f"inhibit rule {i + 1}: {side} {rule.get(side)} select no alert of the rule files")
            # Every alternative of an alertname regex must name an alert that exists (a typo mutes nothing).
            for text in rule.get(side) or []:
                name, op, value = parse_matcher(text)
                if name == "alertname" and op in ("=", "=~"):
                    for alt in alternatives(value):
                        if not any(re.fullmatch(alt, a["alertname"]) for a in alerts):
                            fail(f"inhibit rule {i + 1}: {side} alternative {alt!r} matches no alert in the rule files")
        if not rule.get("equal"):
            fail(f"inhibit rule {i + 1}: no `equal` labels: it would mute the targets of every service")


def alternatives(regex):
    """Top-level alternatives of a regex ("A|B(C|D)" -> ["A", "B(C|D)"])."""
    out, depth, cur = [], 0, ""
    for ch in regex:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def am_api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{AM_PORT}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


def start_alertmanager(binary, tmp):
    """A fresh Alertmanager with the project's configuration on loopback; returns the process or None."""
    log_path = os.path.join(tmp, "am.log")
    proc = subprocess.Popen(
        [binary, f"--config.file={AM_CONFIG}", f"--storage.path={tmp}",
         f"--web.listen-address=127.0.0.1:{AM_PORT}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    deadline = time.time() + 30
    while True:
        try:
            am_api("GET", "/api/v2/status")
            return proc
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                fail("alertmanager did not start:\n" + open(log_path).read()[-2000:])
                return None
            time.sleep(0.1)


def alert_key(labels):
    """NAME@ENVIRONMENT, or NAME for an alert without an environment: how INHIBITION_CASES names alerts."""
    return f"{labels['alertname']}@{labels['environment']}" if labels.get("environment") else labels["alertname"]


def check_inhibition():
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not binary:
        fail("alertmanager binary not found (Debian package prometheus-alertmanager)")
        return
    if not INHIBITION_CASES:
        fail("no inhibition cases")
    # The posted label sets must agree with the rules: a label a rule fixes (severity, service) has that value.
    static = {labels["alertname"]: labels for _, labels in rule_alerts()}
    for title, posted, _ in INHIBITION_CASES:
        for a in posted:
            rule = static.get(a["alertname"])
            if rule is None:
                fail(f"inhibition case '{title}': no alert {a['alertname']} in the rule files")
                continue
            for k, v in rule.items():
                if a.get(k) != v:
                    fail(f"inhibition case '{title}': {a['alertname']} posted with {k}={a.get(k)!r}, "
                         f"its rule sets {k}={v!r}")
    # One fresh Alertmanager per case: alerts of one case would otherwise inhibit those of another.
    for title, posted, expected in INHIBITION_CASES:
        if not free(AM_PORT):
            fail(f"port {AM_PORT} is taken: set ROUTING_AM_PORT to a free loopback port")
            return
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_alertmanager(binary, tmp)
            if proc is None:
                return
            try:
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                am_api("POST", "/api/v2/alerts", [{"labels": a, "startsAt": now} for a in posted])
                # The inhibitor learns of source alerts asynchronously: poll until the expected state, at most 5 s.
                want = {alert_key(a): expected.get(alert_key(a), set()) for a in posted}
                # Read once more a second after a match: "nothing inhibited" may only mean "not yet".
                deadline = time.time() + 5
                confirmed = None
                while True:
                    listed = am_api("GET", "/api/v2/alerts")
                    by_fp = {a["fingerprint"]: alert_key(a["labels"]) for a in listed}
                    seen = {alert_key(a["labels"]): {by_fp.get(fp, fp) for fp in a["status"].get("inhibitedBy") or []}
                            for a in listed}
                    if seen == want and confirmed is None:
                        confirmed = time.time() + 1
                    if (confirmed and time.time() >= confirmed) or time.time() > deadline:
                        break
                    time.sleep(0.1)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        print(f"  inhibition: {title}")
        for name in want:
            print(f"    {name:45} inhibited by {sorted(seen.get(name, ['(not listed)'])) or '-'}")
            if seen.get(name) != want[name]:
                got = (sorted(seen[name]) or "nothing") if name in seen else "(not listed)"
                fail(f"inhibition case '{title}': {name} inhibited by {got}, expected {sorted(want[name]) or 'nothing'}")


def compose_listening():
    """Compose service -> (container ports it publishes to clients, every port it is known to listen on:
    published ones and those its healthcheck asks)."""
    services = yaml.safe_load(open(COMPOSE))["services"]
    published, listening = {}, {}
    for name, svc in services.items():
        published[name] = {int(str(spec).rsplit(":", 1)[-1].split("/")[0]) for spec in svc.get("ports") or []}
        test = " ".join(map(str, (svc.get("healthcheck") or {}).get("test") or []))
        listening[name] = published[name] | {int(p) for p in re.findall(r"https?://(?:127\.0\.0\.1|localhost):(\d+)", test)}
    return published, listening


def overlay_objects(*dirs):
    objects = []
    for d in dirs:
        r = run(["kubectl", "kustomize", d])
        if r.returncode != 0:
            fail(f"kubectl kustomize {os.path.relpath(d, ROOT)}: {r.stderr.strip()}")
            continue
        objects += [o for o in yaml.safe_load_all(r.stdout) if o]
    return objects


class Cluster:
    """What a set of overlays deploys, as a Prometheus in it sees it: Services by (namespace, name) and the
    `environment` pod label of each workload (namespace, app.kubernetes.io/name)."""

    def __init__(self, objects):
        self.services = {(o["metadata"].get("namespace"), o["metadata"]["name"]): o
                         for o in objects if o.get("kind") == "Service"}
        self.environment = {}
        for o in objects:
            if o.get("kind") in ("Deployment", "StatefulSet", "Rollout"):
                labels = ((o["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
                self.environment[(o["metadata"].get("namespace"), labels.get("app.kubernetes.io/name"))] = labels.get("environment")
        prom = [o for o in objects if o.get("kind") == "Deployment" and o["metadata"]["name"] == "prometheus"]
        self.prometheus_namespace = prom[0]["metadata"].get("namespace") if prom else None

    def service(self, host):
        """(namespace, name) of the Service a host name reaches from Prometheus' namespace: name or name.namespace.svc."""
        parts = (host or "").split(".")
        if len(parts) == 1:
            return self.prometheus_namespace, parts[0]
        if len(parts) == 3 and parts[2] == "svc":
            return parts[1], parts[0]
        return None

    def serves(self, host, port):
        svc = self.services.get(self.service(host))
        return svc is not None and any(p.get("port") == port for p in svc["spec"].get("ports") or [])

    def port_name(self, host, port):
        svc = self.services.get(self.service(host)) or {"spec": {}}
        return next((p.get("name") for p in svc["spec"].get("ports") or [] if p.get("port") == port), None)


def host_port(address):
    host, _, port = address.rpartition(":")
    return host, int(port) if port.isdigit() else None


def check_wiring():
    binary = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
    if not binary:
        fail("blackbox exporter not found (Debian package prometheus-blackbox-exporter)")
    else:
        r = run([binary, f"--config.file={BLACKBOX}", "--config.check"])
        print(f"  blackbox exporter 0.23 --config.check: {'ok' if r.returncode == 0 else 'FAILED'}")
        if r.returncode != 0:
            out = (r.stderr or "") + (r.stdout or "")
            errors_only = [line for line in out.splitlines() if "level=error" in line] or out.splitlines()[-3:]
            fail(f"blackbox --config.check: {' '.join(errors_only)[-800:]}")
    modules = set((yaml.safe_load(open(BLACKBOX)) or {}).get("modules") or {})

    published, listening = compose_listening()
    clusters = {"kind": Cluster(overlay_objects(KIND_OVERLAY)), "environments": Cluster(overlay_objects(*ENV_OVERLAYS))}

    for env, path in (("compose", PROM_COMPOSE), ("kind", PROM_KIND), ("environments", PROM_ENVS)):
        cluster = clusters.get(env)
        svc_port = cluster.serves if cluster else None
        prom = yaml.safe_load(open(path))
        where = os.path.relpath(path, ROOT)
        ams = [t for a in (prom.get("alerting") or {}).get("alertmanagers") or []
               for sc in a.get("static_configs") or [] for t in sc.get("targets") or []]
        if not ams:
            fail(f"{where}: no alerting.alertmanagers targets: alerts reach no Alertmanager")
        for target in ams:
            host, port = host_port(target)
            ok = (port in listening.get(host, set())) if env == "compose" else svc_port(host, port)
            print(f"  {env}: Prometheus -> Alertmanager {target} ({'ok' if ok else 'WRONG'})")
            if not ok or host != "alertmanager":
                fail(f"{where}: alerting target {target} is not the {env} "
                     f"{'service' if env == 'compose' else 'Service'} alertmanager on its port")
        if cluster and cluster.prometheus_namespace is None:
            fail(f"{env}: the overlays deploy no Prometheus")
        if env == "environments":
            # The shared stack discovers exactly the namespaces the environment overlays deploy the shop into.
            deployed = sorted({ns for ns, app in cluster.environment if app == "shop"})
            discovered = sorted({n for j in prom.get("scrape_configs") or [] if j.get("job_name") == "kubernetes-pods"
                                 for sd in j.get("kubernetes_sd_configs") or [] for n in (sd.get("namespaces") or {}).get("names") or []})
            print(f"  {env}: shop deployed in {deployed}, discovered in {discovered} ({'ok' if deployed == discovered else 'WRONG'})")
            if not deployed or deployed != discovered:
                fail(f"{where}: job kubernetes-pods discovers {discovered}, the overlays deploy the shop in {deployed}")

        probe_jobs = [j for j in prom.get("scrape_configs") or [] if j.get("metrics_path") == "/probe"]
        if not probe_jobs:
            fail(f"{where}: no black-box probe job (metrics_path /probe)")
        for job in probe_jobs:
            replacement = [r.get("replacement") for r in job.get("relabel_configs") or []
                           if r.get("target_label") == "__address__"]
            exporter = replacement[0] if replacement else None
            host, port = host_port(exporter or ":")
            ok = (port in listening.get(host, set())) if env == "compose" else svc_port(host, port)
            if not ok:
                fail(f"{where}: job {job['job_name']} sends probes to {exporter}, not a running blackbox exporter")
            probes = [(t, sc.get("labels") or {}) for sc in job.get("static_configs") or [] for t in sc.get("targets") or []]
            if not probes:
                fail(f"{where}: job {job['job_name']} probes nothing")
            for url, labels in probes:
                problems = []
                if labels.get("module") not in modules:
                    problems.append(f"module {labels.get('module')!r} is not in blackbox.yml")
                u = urllib.parse.urlsplit(url)
                service = labels.get("target_service")
                if env == "compose":
                    # Clients reach a service on the port it publishes (the shop: the API, never management 9000).
                    if u.hostname != service or u.port not in published.get(u.hostname or "", set()):
                        problems.append(f"{u.hostname}:{u.port} is not the port compose service {service} serves "
                                        f"clients on ({sorted(published.get(service, set()))})")
                else:
                    # kind and the environments: the service at its Service (name or name.namespace.svc:port), on a
                    # port it serves clients on, never the shop's management port (the edge serves HTTPS only, with a
                    # certificate for the host names users type; make kind-edge-check covers that path).
                    probed = cluster.service(u.hostname)
                    if probed is None or probed[1] != service or not cluster.serves(u.hostname, u.port or 80):
                        problems.append(f"{u.hostname}:{u.port} is not a port of the Service {service} the overlays deploy")
                    elif cluster.port_name(u.hostname, u.port or 80) == "management":
                        problems.append(f"{u.hostname}:{u.port} is the management port, which clients never reach")
                # A probe of the shop carries the environment of the pods it reaches (their pod label).
                if cluster and service == "shop" and not problems:
                    want = cluster.environment.get(probed)
                    if labels.get("environment") != want:
                        problems.append(f"labelled environment={labels.get('environment')!r}, but it reaches the shop of "
                                        f"namespace {probed[0]}, whose pods carry environment={want!r}")
                print(f"  {env}: probe {url} ({labels.get('module')}) -> {service} "
                      f"({'ok' if not problems else 'WRONG'})")
                for p in problems:
                    fail(f"{where}: probe {url}: {p}")


def main():
    for tool in ("amtool",):
        if not shutil.which(tool):
            sys.exit(f"error: {tool} not found: install the Debian package prometheus-alertmanager")
    if check_config():
        config = yaml.safe_load(open(AM_CONFIG))
        check_templates(config)
        check_routing(config)
        check_inhibit_rules_select_real_alerts(config)
        check_wiring()
        check_inhibition()
    if errors:
        sys.exit(f"alert_routing: {len(errors)} problem(s)")
    print("alert_routing: all routing, receiver and inhibition checks passed")


if __name__ == "__main__":
    main()
