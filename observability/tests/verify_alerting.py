#!/usr/bin/env python3
"""Live alerting test: real faults, real rule evaluation, real routing, notifications caught by test sinks.

    python3 observability/tests/verify_alerting.py        (make obs-alerting-live, run by make test-observability-live)

Everything on loopback, only processes started here, all stopped at the end:
  - the packaged service on a throwaway PostgreSQL (src/test/scripts/local-service.sh), with traffic all along
    (span export off, database acquisition timeout 10 s instead of 3 s so start-up survives a loaded machine);
  - Debian's prometheus-postgres-exporter, blackbox exporter 0.23 (observability/blackbox/blackbox.yml as shipped)
    and Alertmanager 0.25 (observability/alertmanager/alertmanager.yml and its templates as shipped: routes,
    inhibitions, receivers; its timers divided by 10, the receivers' addresses pointed at the sinks below);
  - Debian's Prometheus 2.42 with the repository's rule files, scraping every 2 s and evaluating every 1 s. Its
    configuration is derived from prometheus.yml: loopback targets, the alerting target, no Grafana probe (no
    Grafana here). The service is scraped through verify_live.py's ExemplarShim (2.42 rejects exemplars on _count);
  - an SMTP sink and a webhook sink (Python standard library) that record every notification.

What the test copies change, and nothing else (durations and loopback addresses; the derivation checks this,
`--check-derivation` or `make obs-alerting-derivation` runs that check alone): in rules/shop-slo.yml every range
window is divided by 60 (5m -> 5s, 1h -> 60s, 3d -> 4320s), so a burn rate reacts in seconds; every other duration
is divided by 10: each rule file's `for:` (PostgresDown and ShopDown 1m -> 6s, fast burns 2m -> 12s), the other
rule files' windows (the probe's 2m average -> 12s), Alertmanager's group_wait, group_interval, repeat_interval and
resolve_timeout (the pager's 10s/1m/1h -> 1s/6s/6m) and Prometheus' alert resend delay. Thresholds, expressions,
labels, annotations, routes, receivers, inhibitions and templates are the shipped ones; the burn-rate maths at the
real windows is covered by `promtool test rules`. One factor keeps the order of `for:`: PostgresDown still fires
before the burn and probe alerts it inhibits, as in production. Printed times are test time (divided by 10).

Faults, each measured from the fault to the notification and from the repair to the resolved notification:
  1. PostgreSQL stopped: PostgresDown pages (e-mail to oncall@ and the pager webhook) while the shop's burn and
     probe alerts, firing in Prometheus, are inhibited (no notification); PostgreSQL started: resolved.
  2. the service stopped: ShopDown pages; ShopProbeFailing, firing, is inhibited; the service started: resolved.
  3. chaos errors (PUT :MGMT/chaos errorRate 1.0): ShopAvailabilityBudgetBurnFast pages; chaos off: resolved.
Also: the Watchdog reaches the heartbeat webhook, and no notification ever reaches the root's `unrouted` receiver.
Alertmanager: https://prometheus.io/docs/alerting/latest/configuration/  Webhook payload: #webhook_config there.
"""
import calendar
import copy
import email
import email.policy
import json
import os
import re
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import http.server as httpserver

import yaml

# Loopback ports of this test (distinct from obs-verify-live's, so both can run at once); set before verify_live
# reads them.
PORTS = {"API_PORT": "28080", "MGMT_PORT": "29000", "PG_PORT": "15437", "PROM_PORT": "29090",
         "PGEXP_PORT": "29187", "SHIM_PORT": "29001", "AM_PORT": "29093", "BB_PORT": "29115",
         "SMTP_PORT": "29025", "HOOK_PORT": "29080"}
for _k, _v in PORTS.items():
    os.environ.setdefault(_k, _v)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_live as live  # noqa: E402  (helpers: http, prom, wait_for, chaos, ExemplarShim)

PORT = {k: int(os.environ[k]) for k in PORTS}
ROOT = live.ROOT
OBS = os.path.join(ROOT, "observability")
AM_URL = f"http://127.0.0.1:{PORT['AM_PORT']}"
# Upper bounds of each wait, generous for a loaded 2-core machine. Expected in test time (TIME_SCALE below): about
# 10 s to a page (for: 6 s + group_wait 1 s + a scrape), 15-20 s for a fast burn, a few seconds more for a
# resolved notification (group_interval 6 s); a service restart adds its start-up.
NOTIFY_TIMEOUT = int(os.environ.get("ALERTING_NOTIFY_TIMEOUT", "300"))
# How long a firing symptom must stay without notification to show its inhibition: ten times the test's pager
# group_wait (1 s), as the shipped test held 25 s against 10 s plus margin for a loaded machine.
INHIBIT_HOLD = 10
failures = []


def log(msg):
    print(f"verify_alerting: {msg}", flush=True)


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}", flush=True)


# ---- sinks ----------------------------------------------------------------------------------------------------
class Inbox:
    """Every notification received: e-mails (SMTP sink) and webhook calls, with their arrival time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []   # {"time", "to", "subject", "text"}
        self.hooks = []   # {"time", "path", "payload"}

    def add_mail(self, rcpts, raw):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part else ""
        with self.lock:
            self.mails.append({"time": time.time(), "to": rcpts, "subject": str(msg["Subject"]), "text": text})

    def add_hook(self, path, payload):
        with self.lock:
            self.hooks.append({"time": time.time(), "path": path, "payload": payload})

    def hook_alerts(self, since):
        """(time, receiver, status of the alert, alert) for every alert in every webhook call since `since`."""
        with self.lock:
            return [(h["time"], h["payload"].get("receiver"), a.get("status"), a)
                    for h in self.hooks if h["time"] >= since for a in h["payload"].get("alerts", [])]

    def mails_since(self, since):
        with self.lock:
            return [m for m in self.mails if m["time"] >= since]


class SmtpHandler(socketserver.StreamRequestHandler):
    """The part of SMTP (RFC 5321) a Go net/smtp client uses without TLS and authentication."""

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 sink ESMTP test sink")
        rcpts = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(re.sub(r"^TO:\s*<?([^>]*)>?.*$", r"\1", cmd[5:], flags=re.I))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if not data or data in (b".\r\n", b".\n"):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.server.inbox.add_mail(rcpts, b"".join(lines))
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, inbox):
        self.inbox = inbox
        super().__init__(("127.0.0.1", port), SmtpHandler)


class WebhookSink(httpserver.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, inbox):
        class Handler(httpserver.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    inbox.add_hook(self.path, json.loads(body))
                    self.send_response(200)
                except ValueError:
                    self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)


# ---- configurations derived for loopback ----------------------------------------------------------------------
# Test time. The test copies divide time so that a run keeps to minutes; production meanings stay in the shipped
# files (and in `promtool test rules`, which evaluates them at their real windows):
#   - SLO_WINDOW_SCALE: the range windows of shop-slo.yml (5m -> 5s ... 3d -> 4320s), so a burn rate reacts in
#     seconds and its long windows fill during the run;
#   - TIME_SCALE: everything else that is a duration: every `for:` / `keep_firing_for:` of every rule file, the
#     other rule files' range windows (the probe's 2m average -> 12 s: 6 probes at the test's 2 s scrape, the
#     shipped 8 at 15 s), Alertmanager's group_wait / group_interval / repeat_interval / resolve_timeout and
#     Prometheus' resend delay. One factor for all of them keeps their order: PostgresDown (for 1m -> 6 s) still
#     fires before the fast burns (2m -> 12 s) and the failing probe (2m average, for 1m) that it inhibits.
# Times printed by the test are in test time.
SLO_WINDOW_SCALE = 60
# The environment of every compose target (prometheus.yml relabels it onto each job): every page must carry it.
PAGE_ENVIRONMENT = "compose"
TIME_SCALE = 10
AM_TIMING_KEYS = ("group_wait", "group_interval", "repeat_interval", "resolve_timeout")
AM_RESOLVE_TIMEOUT_DEFAULT = "5m"  # global.resolve_timeout when unset (Alertmanager 0.25, config/config.go)
PROM_RESEND_DELAY_DEFAULT = "1m"   # Prometheus --rules.alert.resend-delay default (2.42, cmd/prometheus/main.go)
DURATION = re.compile(r"(\d+)(ms|[smhdwy])")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000, "y": 31536000000}


def duration_ms(text):
    """A Prometheus/Alertmanager duration (1h30m, 10s, 0s) in milliseconds."""
    text = str(text)
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise SystemExit(f"verify_alerting: {text!r} is not a duration")
    return sum(int(n) * UNIT_MS[u] for n, u in parts)


def scaled(text, factor):
    """A duration divided by factor, written in seconds (milliseconds when not whole)."""
    ms = duration_ms(text) // factor
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def scaled_rules(text, window_factor):
    """A rule file's text with its range windows divided by window_factor and every `for:` / `keep_firing_for:`
    by TIME_SCALE; nothing else changes (rules_differences checks that). Returns (text, windows, fors)."""
    windows = re.findall(r"\[(\d+[smhdwy])\]", text)
    text = re.sub(r"\[(\d+[smhdwy])\]", lambda m: f"[{scaled(m.group(1), window_factor)}]", text)
    fors = re.findall(r"^(\s*)(for|keep_firing_for): (\S+)$", text, flags=re.M)
    text = re.sub(r"^(\s*)(for|keep_firing_for): (\S+)$",
                  lambda m: f"{m.group(1)}{m.group(2)}: {scaled(m.group(3), TIME_SCALE)}", text, flags=re.M)
    return text, len(windows), len(fors)


def rules_differences(shipped, derived):
    """What differs between a rule file and its test copy other than the durations of windows and `for:`."""
    blank = lambda t: DURATION.sub("<d>", t)  # noqa: E731
    a, b = blank(shipped).splitlines(), blank(derived).splitlines()
    if len(a) != len(b):
        return [f"{len(b)} lines instead of {len(a)}"]
    return [f"line {n}: {y.strip()!r} instead of {x.strip()!r}" for n, (x, y) in enumerate(zip(a, b), 1) if x != y]


def derived_rule_files(work):
    """Test copies of every rule file (see TIME_SCALE) in work/rules; returns their paths."""
    rules_dir = os.path.join(OBS, "prometheus", "rules")
    os.makedirs(os.path.join(work, "rules"), exist_ok=True)
    paths, fors = [], 0
    for name in sorted(n for n in os.listdir(rules_dir) if n.endswith(".yml")):
        text = open(os.path.join(rules_dir, name), encoding="utf-8").read()
        factor = SLO_WINDOW_SCALE if name == "shop-slo.yml" else TIME_SCALE
        copy_text, windows, n_for = scaled_rules(text, factor)
        if name == "shop-slo.yml" and not windows:
            raise SystemExit(f"verify_alerting: no range windows found in {name}")
        diff = rules_differences(text, copy_text)
        if diff:
            raise SystemExit(f"verify_alerting: the test copy of {name} differs in more than durations: {diff[:3]}")
        fors += n_for
        path = os.path.join(work, "rules", name)
        open(path, "w", encoding="utf-8").write(copy_text)
        paths.append(path)
    if not paths or not fors:
        raise SystemExit("verify_alerting: no rule files, or no `for:` in them, to derive test copies from")
    log(f"rules: test copies of {len(paths)} rule files, `for:` ({fors}) and range windows divided by {TIME_SCALE}, "
        f"shop-slo.yml's windows by {SLO_WINDOW_SCALE}")
    return paths


def am_addresses():
    """The loopback addresses the test copy of alertmanager.yml sends to (the only non-timing changes)."""
    return {"smtp_smarthost": f"127.0.0.1:{PORT['SMTP_PORT']}",
            "webhook": lambda receiver: f"http://127.0.0.1:{PORT['HOOK_PORT']}/{receiver}",
            "template": lambda t: os.path.join(OBS, "alertmanager", t)}


def scale_route_timers(route):
    """Divide the timers of a route and its children by TIME_SCALE, in place; returns how many were scaled."""
    n = 0
    for key in AM_TIMING_KEYS[:3]:
        if key in route:
            route[key] = scaled(route[key], TIME_SCALE)
            n += 1
    return n + sum(scale_route_timers(r) for r in route.get("routes") or [])


def derive_alertmanager(shipped):
    """alertmanager.yml for the test: timers divided by TIME_SCALE, receivers' addresses pointed at the sinks."""
    cfg = copy.deepcopy(shipped)
    addr = am_addresses()
    cfg["global"]["smtp_smarthost"] = addr["smtp_smarthost"]
    cfg["global"]["resolve_timeout"] = scaled(shipped["global"].get("resolve_timeout", AM_RESOLVE_TIMEOUT_DEFAULT),
                                              TIME_SCALE)
    cfg["templates"] = [addr["template"](t) for t in cfg.get("templates", [])]
    for r in cfg["receivers"]:
        for w in r.get("webhook_configs") or []:
            w["url"] = addr["webhook"](r["name"])
    if not scale_route_timers(cfg["route"]):
        raise SystemExit("verify_alerting: alertmanager.yml's routes have no timers to scale")
    return cfg


def alertmanager_differences(shipped, derived):
    """Every difference between the shipped and the derived alertmanager.yml other than the timing keys (divided
    by TIME_SCALE) and the sink addresses: a test copy must never hide a routing, receiver, inhibition or
    template change. Returns (problems, number of allowed differences seen)."""
    addr = am_addresses()
    problems, allowed = [], [0]

    def expected(path, old):
        key = path[-1]
        if key in AM_TIMING_KEYS and (path[0] == "route" or path == ["global", "resolve_timeout"]):
            return scaled(old if old is not None else AM_RESOLVE_TIMEOUT_DEFAULT, TIME_SCALE)
        if path == ["global", "smtp_smarthost"]:
            return addr["smtp_smarthost"]
        if path[0] == "templates" and len(path) == 2 and old is not None:
            return addr["template"](old)
        if len(path) == 5 and path[0] == "receivers" and path[2] == "webhook_configs" and key == "url":
            return addr["webhook"](shipped["receivers"][path[1]]["name"])
        return KeyError  # not a key the derivation may change

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                walk(a.get(k), b.get(k), path + [k]) if k in a and k in b else diff(a.get(k), b.get(k), path + [k])
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, path + [i])
        elif a != b:
            diff(a, b, path)

    def diff(a, b, path):
        want = expected(path, a)
        where = ".".join(str(p) for p in path)
        if want is KeyError:
            problems.append(f"{where}: {b!r} instead of {a!r} (only {', '.join(AM_TIMING_KEYS)} and the sink "
                            "addresses may differ)")
        elif b != want:
            problems.append(f"{where}: {b!r}, expected {want!r}")
        else:
            allowed[0] += 1

    walk(shipped, derived, [])
    return problems, allowed[0]


def alertmanager_config(work):
    """The test copy of alertmanager.yml (derive_alertmanager), written and read back, then checked against the
    shipped file (alertmanager_differences)."""
    src = os.path.join(OBS, "alertmanager", "alertmanager.yml")
    shipped = yaml.safe_load(open(src, encoding="utf-8"))
    cfg = derive_alertmanager(shipped)
    if not any(r.get("webhook_configs") for r in cfg["receivers"]):
        raise SystemExit("verify_alerting: alertmanager.yml has no webhook receiver to point at the sink")
    path = os.path.join(work, "alertmanager.yml")
    yaml.safe_dump(cfg, open(path, "w", encoding="utf-8"), sort_keys=False)
    problems, allowed = alertmanager_differences(shipped, yaml.safe_load(open(path, encoding="utf-8")))
    if problems or not allowed:
        raise SystemExit("verify_alerting: the test copy of alertmanager.yml differs from the shipped one beyond "
                         f"timing keys and sink addresses: {problems or ['no timing key scaled at all']}")
    log(f"Alertmanager: test copy differs from alertmanager.yml in {allowed} timing keys and sink addresses only "
        f"(timers divided by {TIME_SCALE})")
    return path


def prometheus_config(work, shop_target):
    """prometheus.yml for loopback: fast intervals, the test rule files, the alerting target, running jobs only."""
    cfg = yaml.safe_load(open(os.path.join(OBS, "prometheus", "prometheus.yml"), encoding="utf-8"))
    cfg["global"].update({"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"})
    cfg["rule_files"] = derived_rule_files(work)
    if not cfg.get("alerting", {}).get("alertmanagers"):
        raise SystemExit("verify_alerting: prometheus.yml has no alerting section: Prometheus would alert nobody")
    cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{PORT['AM_PORT']}"]}]}]}
    address = {"shop:9000": shop_target, "postgres-exporter:9187": f"127.0.0.1:{PORT['PGEXP_PORT']}",
               "alertmanager:9093": f"127.0.0.1:{PORT['AM_PORT']}", "localhost:9090": f"127.0.0.1:{PORT['PROM_PORT']}",
               "blackbox:9115": f"127.0.0.1:{PORT['BB_PORT']}"}
    # Probed URLs: the shop's API port as compose has it, now on loopback. Grafana does not run here.
    probe_urls = {"http://shop:8080/": f"http://127.0.0.1:{PORT['API_PORT']}/"}
    jobs = []
    for job in cfg["scrape_configs"]:
        job.pop("scrape_protocols", None)  # 2.49+ key; its value is 2.42's default order
        if job.get("metrics_path") == "/probe":
            for sc in job["static_configs"]:
                sc["targets"] = [next(new + t[len(old):] for old, new in probe_urls.items() if t.startswith(old))
                                 for t in sc["targets"] if any(t.startswith(o) for o in probe_urls)]
            job["static_configs"] = [sc for sc in job["static_configs"] if sc["targets"]]
            for r in job.get("relabel_configs", []):
                if r.get("target_label") == "__address__":
                    r["replacement"] = address[r["replacement"]]
            if not job["static_configs"]:
                raise SystemExit("verify_alerting: the probe job probes no shop URL")
        else:
            targets = [t for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
            if not targets or not all(t in address for t in targets):
                continue  # a component that does not run here
            for sc in job["static_configs"]:
                sc["targets"] = [address[t] for t in sc["targets"]]
        jobs.append(job)
    cfg["scrape_configs"] = jobs
    path = os.path.join(work, "prometheus.yml")
    yaml.safe_dump(cfg, open(path, "w", encoding="utf-8"), sort_keys=False)
    log(f"Prometheus jobs: {', '.join(j['job_name'] for j in jobs)}")
    return path


def rule_annotations():
    """alertname -> annotations as written in the rule files (the runbook_url a notification must carry)."""
    out = {}
    for name in os.listdir(os.path.join(OBS, "prometheus", "rules")):
        doc = yaml.safe_load(open(os.path.join(OBS, "prometheus", "rules", name), encoding="utf-8"))
        for g in doc.get("groups", []):
            for r in g.get("rules", []):
                if "alert" in r:
                    out[r["alert"]] = r.get("annotations", {})
    return out


# ---- waiting for alerts and notifications ---------------------------------------------------------------------
def local_service(script, env, command):
    """local-service.sh COMMAND, tried up to three times: on a loaded machine the service's first database
    connection can miss its acquisition timeout during start-up (the script then stops it and exits non-zero)."""
    for attempt in (1, 2, 3):
        r = subprocess.run([script, command], env=env, cwd=ROOT)
        if r.returncode == 0:
            return
        log(f"local-service.sh {command} failed (attempt {attempt})")
        # A start that timed out leaves its process behind: clear it (service-restart stops the service itself).
        if command == "start":
            subprocess.run([script, "stop"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        time.sleep(5)
    raise SystemExit(f"verify_alerting: local-service.sh {command} failed three times")


def inhibited_by_config(source, target):
    """Whether an inhibit rule of alertmanager.yml names `source` as a cause of `target` (alertname matchers)."""
    cfg = yaml.safe_load(open(os.path.join(OBS, "alertmanager", "alertmanager.yml"), encoding="utf-8"))

    def names(matchers, name):
        for m in matchers or []:
            got = re.fullmatch(r'\s*alertname\s*(=~|=)\s*"(.*)"\s*', m)
            if got and re.fullmatch(got.group(2) if got.group(1) == "=~" else re.escape(got.group(2)), name):
                return True
        return False
    return any(names(r.get("source_matchers"), source) and names(r.get("target_matchers"), target)
               for r in cfg.get("inhibit_rules") or [])


def firing_in_prometheus():
    data, _ = live.prom("/api/v1/alerts")
    return {a["labels"]["alertname"]: a for a in (data or {}).get("alerts", []) if a["state"] == "firing"}


def wait_until(what, fn, seconds, step=1.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        result = fn()
        if result:
            return result
        time.sleep(step)
    return None


def find_page(inbox, alertname, status, since):
    """The pager webhook call and the e-mail to the on-call address for alertname in status, if both arrived."""
    hooks = [(t, a) for t, receiver, st, a in inbox.hook_alerts(since)
             if receiver == "pager" and st == status and a["labels"].get("alertname") == alertname]
    mails = [m for m in inbox.mails_since(since) if "oncall@shop.local" in m["to"]
             and f"] {alertname} " in m["subject"] + " " and m["subject"].startswith(f"[{status.upper()}")]
    if hooks and mails:
        return hooks[0], mails[0]
    return None


def check_page(inbox, annotations, alertname, status, since, labels):
    got = wait_until(f"{status} {alertname}", lambda: find_page(inbox, alertname, status, since), NOTIFY_TIMEOUT)
    if not got:
        fail(f"no {status} page for {alertname} (pager webhook and e-mail to oncall@) within {NOTIFY_TIMEOUT} s")
        return None
    (hook_time, alert), mail = got
    want = annotations[alertname]
    for k, v in labels.items():
        if alert["labels"].get(k) != v:
            fail(f"{alertname} {status}: label {k}={alert['labels'].get(k)!r}, expected {v!r}")
    # A page says which environment it is about: the label prometheus.yml gives every compose target, in the subject.
    env = alert["labels"].get("environment")
    if env != PAGE_ENVIRONMENT or not mail["subject"].endswith(f" {PAGE_ENVIRONMENT}"):
        fail(f"{alertname} {status}: environment label {env!r} and subject {mail['subject']!r}, expected "
             f"{PAGE_ENVIRONMENT!r} in both")
    if alert["annotations"].get("runbook_url") != want["runbook_url"]:
        fail(f"{alertname}: runbook_url {alert['annotations'].get('runbook_url')!r}, rule says {want['runbook_url']!r}")
    summary = alert["annotations"].get("summary", "")
    if not summary or "{{" in summary:
        fail(f"{alertname}: summary missing or not rendered: {summary!r}")
    for needle in (f"Summary:     {summary}", f"Runbook:     {want['runbook_url']}", "/d/", "/explore?"):
        if needle not in mail["text"]:
            fail(f"{alertname} {status} e-mail lacks {needle!r}")
    arrived = max(hook_time, mail["time"])
    log(f"  {status} {alertname}: pager webhook and e-mail '{mail['subject']}' {arrived - since:.0f} s after the "
        f"{'fault' if status == 'firing' else 'repair'} (summary: {summary})")
    return arrived, alert


def started_at(alert):
    """An alert's startsAt (RFC 3339, fractions of a second dropped) as epoch seconds."""
    return calendar.timegm(time.strptime(alert["startsAt"][:19], "%Y-%m-%dT%H:%M:%S"))


def notified(inbox, alertname, since):
    """Firing notifications (webhook of any receiver) about an episode of alertname that began after `since`.
    Episodes that began before (a symptom of the previous fault, still firing for a moment after its cause was
    repaired, or its resolved notification) are not this fault's; the runbook explains them."""
    return [r for _, r, st, a in inbox.hook_alerts(since) if a["labels"].get("alertname") == alertname
            and st == "firing" and started_at(a) >= since - 1]


def firing_pages():
    return sorted(n for n, a in firing_in_prometheus().items() if a["labels"].get("severity") == "page")


def quiet_period(what, seconds=90):
    """Wait until no page fires (the pages of the previous step have healed). Tickets may go on firing: in test
    time the slow burns (for: 15m -> 90 s) do fire after the first fault and clear only when their long window
    (6h -> 360 s) has forgotten it; no fault of this test is about them."""
    ok = wait_until(what, lambda: not firing_pages(), seconds, 2)
    if not ok:
        log(f"pages still firing before the next fault: {firing_pages()}")


# ---- main -----------------------------------------------------------------------------------------------------
def check_derivation():
    """--check-derivation: derive the test copies (rules, alertmanager.yml, prometheus.yml) into a scratch folder
    and run their guards, without starting anything."""
    work = tempfile.mkdtemp(prefix="obs-alerting-derive-")
    try:
        alertmanager_config(work)
        prometheus_config(work, f"127.0.0.1:{PORT['SHIM_PORT']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log("derivation checks passed: the test copies differ from the shipped files in durations and addresses only")
    return 0


def main():
    if sys.argv[1:] == ["--check-derivation"]:
        return check_derivation()
    if sys.argv[1:]:
        sys.exit(f"usage: {sys.argv[0]} [--check-derivation]")
    for tool in ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter", "prometheus-postgres-exporter"):
        if not shutil.which(tool):
            sys.exit(f"error: {tool} not found: install the Debian package (make doctor lists them)")
    jar = os.path.join(ROOT, "target", "quarkus-app", "quarkus-run.jar")
    if not os.path.exists(jar):
        sys.exit("error: target/quarkus-app/quarkus-run.jar is missing: run make build")
    # SIGTERM (a timeout, Ctrl-C's sibling) ends the run through the `finally` below, which stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="obs-alerting-")
    os.chmod(work, 0o755)  # as root, PostgreSQL runs as user postgres, which must enter it
    local_dir = os.path.join(work, "local")
    # Two settings differ from the packaged defaults: no span export (nothing receives it here), and 10 s instead of
    # 3 s to get a database connection, so that start-up survives a loaded machine (with PostgreSQL down,
    # requests then fail after 10 s instead of 3 s; they still fail, and four clients keep them coming).
    env = dict(os.environ, LOCAL_DIR=local_dir, QUARKUS_OTEL_SDK_DISABLED="true",
               QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT="10S", READY_TIMEOUT=os.environ.get("READY_TIMEOUT", "180"))
    script = os.path.join(ROOT, "src", "test", "scripts", "local-service.sh")
    started, servers = [], []
    inbox = Inbox()
    stop_traffic = threading.Event()
    measured = []
    try:
        log(f"starting the service (API {PORT['API_PORT']}, management {PORT['MGMT_PORT']}, PostgreSQL {PORT['PG_PORT']})")
        local_service(script, env, "start")

        for server in (SmtpSink(PORT["SMTP_PORT"], inbox), WebhookSink(PORT["HOOK_PORT"], inbox)):
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
        shim = live.ExemplarShim(PORT["SHIM_PORT"], live.MGMT)
        # While the service is stopped (fault 2) every scrape through the shim fails, as it should: no tracebacks.
        shim.handle_error = lambda *args: None
        threading.Thread(target=shim.serve_forever, daemon=True).start()
        servers.append(shim)

        def spawn(name, cmd, extra_env=None):
            p = subprocess.Popen(cmd, env=dict(os.environ, **(extra_env or {})), stdout=open(os.path.join(work, f"{name}.log"), "w"),
                                 stderr=subprocess.STDOUT)
            started.append((name, p))

        spawn("postgres-exporter", ["prometheus-postgres-exporter", f"--web.listen-address=127.0.0.1:{PORT['PGEXP_PORT']}"],
              {"DATA_SOURCE_NAME": f"postgresql://shop:shop@127.0.0.1:{PORT['PG_PORT']}/shop?sslmode=disable"})
        spawn("blackbox", ["prometheus-blackbox-exporter", f"--config.file={os.path.join(OBS, 'blackbox', 'blackbox.yml')}",
                           f"--web.listen-address=127.0.0.1:{PORT['BB_PORT']}"])
        spawn("alertmanager", ["prometheus-alertmanager", f"--config.file={alertmanager_config(work)}",
                               f"--storage.path={work}/am", f"--web.listen-address=127.0.0.1:{PORT['AM_PORT']}",
                               "--cluster.listen-address=", f"--web.external-url={AM_URL}"])
        prom_config = prometheus_config(work, f"127.0.0.1:{PORT['SHIM_PORT']}")
        spawn("prometheus", ["prometheus", f"--config.file={prom_config}",
                             f"--rules.alert.resend-delay={scaled(PROM_RESEND_DELAY_DEFAULT, TIME_SCALE)}",
                             f"--storage.tsdb.path={work}/prom", f"--web.listen-address=127.0.0.1:{PORT['PROM_PORT']}",
                             "--enable-feature=exemplar-storage", "--storage.tsdb.retention.time=1d"])
        live.wait_for("Prometheus ready", lambda: live.http("GET", f"{live.PROM}/-/ready")[0] == 200, 60)
        live.wait_for("Alertmanager ready", lambda: live.http("GET", f"{AM_URL}/-/ready")[0] == 200, 60)

        # Clients all along: reads, and now and then the full CRUD/order round. Several of them, so requests keep
        # completing while each one waits for the database (acquisition timeout): a 5 s window keeps having data.
        def traffic(n):
            t = live.Traffic()
            while not stop_traffic.is_set():
                try:
                    t.call("GET", "/api/products?size=5")
                    if n == 0 and t.seq % 10 == 0:
                        t.round()
                    else:
                        t.seq += 1
                except OSError:
                    pass
                time.sleep(0.1)
        for n in range(4):
            threading.Thread(target=traffic, args=(n,), daemon=True).start()
        annotations = rule_annotations()
        t0 = time.time()

        # ---- the Watchdog reaches the heartbeat webhook ----
        # Prometheus may evaluate the first time before its notifier has the Alertmanager target; the alert then
        # goes out with the next resend (--rules.alert.resend-delay, default 1m, here divided by TIME_SCALE).
        beat = wait_until("Watchdog heartbeat", lambda: [t for t, r, _, a in inbox.hook_alerts(t0)
                                                          if r == "heartbeat" and a["labels"].get("alertname") == "Watchdog"], 150)
        if beat:
            log(f"Watchdog: heartbeat webhook {beat[0] - t0:.0f} s after start")
        else:
            fail("no Watchdog notification at the heartbeat receiver within 150 s")
        quiet_period("a quiet start")
        early = [m["subject"] for m in inbox.mails_since(t0)]
        if early:
            fail(f"notifications before any fault: {early}")

        # ---- 1. PostgreSQL stopped: PostgresDown pages, the symptoms it explains stay quiet ----
        log("fault 1: PostgreSQL stopped")
        pgdata = os.path.join(open(os.path.join(local_dir, "pg-dir")).read().strip(), "data")
        pg_ctl = os.path.join(subprocess.run(["bash", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1"],
                                             capture_output=True, text=True).stdout.strip(), "pg_ctl")
        as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        fault = time.time()
        subprocess.run(as_pg + [pg_ctl, "-D", pgdata, "-m", "fast", "-w", "stop"], check=True, stdout=subprocess.DEVNULL)
        got = check_page(inbox, annotations, "PostgresDown", "firing", fault, {"severity": "page", "service": "shop"})
        if got:
            measured.append(("PostgreSQL stopped", "PostgresDown", got[0] - fault))
        symptoms = {"ShopAvailabilityBudgetBurnFast", "ShopProbeFailing"}
        held = wait_until("symptoms firing", lambda: symptoms <= set(firing_in_prometheus()), 240, 2)
        if not held:
            fail(f"with PostgreSQL down, {sorted(symptoms)} never all fired in Prometheus: the inhibition is not shown")
        else:
            time.sleep(INHIBIT_HOLD)  # longer than the pager's group_wait: a notification would have gone out by now
            firing = sorted(set(firing_in_prometheus()) - {"Watchdog"})
            log(f"firing in Prometheus with PostgreSQL down: {firing}")
            # Every symptom firing now that the database-down inhibition names (not only the two awaited) must be
            # held back while the cause fires.
            for name in sorted(symptoms | {n for n in firing if inhibited_by_config("PostgresDown", n)}):
                if notified(inbox, name, fault):
                    fail(f"{name} was notified while PostgresDown fires: the inhibition does not hold")
                else:
                    log(f"  {name} firing in Prometheus, inhibited in Alertmanager (no notification)")
        repair = time.time()
        subprocess.run([script, "start-db"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        got = check_page(inbox, annotations, "PostgresDown", "resolved", repair, {"severity": "page", "service": "shop"})
        if got:
            measured.append(("PostgreSQL started", "PostgresDown resolved", got[0] - repair))
        quiet_period("recovery from fault 1", 180)

        # ---- 2. the service stopped: ShopDown pages, the failing probe stays quiet ----
        log("fault 2: the service stopped")
        pid = int(open(os.path.join(local_dir, "service.pid")).read().strip())
        fault = time.time()
        os.kill(pid, signal.SIGTERM)
        got = check_page(inbox, annotations, "ShopDown", "firing", fault, {"severity": "page", "service": "shop", "job": "shop"})
        if got:
            measured.append(("service stopped", "ShopDown", got[0] - fault))
        if wait_until("ShopProbeFailing firing", lambda: "ShopProbeFailing" in firing_in_prometheus(), 240, 2):
            time.sleep(INHIBIT_HOLD)
            if notified(inbox, "ShopProbeFailing", fault):
                fail("ShopProbeFailing was notified while ShopDown fires: the inhibition does not hold")
            else:
                log("  ShopProbeFailing firing in Prometheus, inhibited in Alertmanager (no notification)")
        else:
            fail("with the service stopped, ShopProbeFailing never fired: the probe does not see the outage")
        repair = time.time()
        local_service(script, env, "service-restart")
        got = check_page(inbox, annotations, "ShopDown", "resolved", repair, {"severity": "page", "service": "shop"})
        if got:
            measured.append(("service started (incl. its start-up)", "ShopDown resolved", got[0] - repair))
        quiet_period("recovery from fault 2", 180)

        # ---- 3. chaos errors: the fast availability burn pages ----
        log("fault 3: chaos errors on every API request")
        fault = time.time()
        live.chaos({"latencyMs": 0, "latencyRate": 0, "errorRate": 1.0})
        got = check_page(inbox, annotations, "ShopAvailabilityBudgetBurnFast", "firing", fault,
                         {"severity": "page", "service": "shop", "slo": "availability"})
        if got:
            measured.append(("chaos errors on", "ShopAvailabilityBudgetBurnFast", got[0] - fault))
        repair = time.time()
        live.chaos(None)
        got = check_page(inbox, annotations, "ShopAvailabilityBudgetBurnFast", "resolved", repair,
                         {"severity": "page", "service": "shop"})
        if got:
            measured.append(("chaos errors off", "ShopAvailabilityBudgetBurnFast resolved", got[0] - repair))

        unrouted = [m["subject"] for m in inbox.mails if "platform@shop.local" in m["to"]]
        if unrouted:
            fail(f"notifications reached the root's fall-through receiver: {unrouted}")
        log(f"notifications received: {len(inbox.mails)} e-mails, {len(inbox.hooks)} webhook calls")
        for fault_name, what, seconds in measured:
            log(f"measured (test time): {fault_name:38} -> {what:42} {seconds:6.0f} s")
        log(f"test time: `for:`, probe windows, Alertmanager timers and resend delay divided by {TIME_SCALE}, "
            f"burn-rate windows by {SLO_WINDOW_SCALE}; production times are longer (README: `make demo-fault`)")
        if failures:
            log(f"{len(failures)} failure(s); logs kept in {work}")
            return 1
        log("all alerting checks passed")
        return 0
    finally:
        stop_traffic.set()
        for server in servers:
            server.shutdown()
        live.stop_started(started)
        # Before the work folder goes: LOCAL_DIR in it says where PostgreSQL's files are.
        subprocess.run([script, "stop"], env=env, check=False, cwd=ROOT, stdout=subprocess.DEVNULL)
        if not failures:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
