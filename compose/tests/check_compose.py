#!/usr/bin/env python3
"""Static cross-checks of the compose stack: names, ports and fields must agree across files.

Run by `make test-compose` (compose/tests/run.sh). Python 3 standard library plus PyYAML.
No Docker engine is needed: what this proves is that every file points at the others correctly.

Files read (paths relative to the repository root):
  compose/compose.yaml, compose/.env, src/main/docker/Dockerfile, pom.xml, src/main/resources/application.properties,
  observability/prometheus/prometheus.yml, observability/alloy/*.alloy (config.alloy, config-k8s.alloy and the
  log pipeline module both import), observability/loki/loki.yaml, observability/tempo/tempo.yaml,
  observability/grafana/provisioning/datasources/datasources.yaml, observability/grafana/provisioning/dashboards/,
  observability/kustomization.yaml, k8s/base/{alloy,grafana}.yaml, k8s/base/app/shop.yaml (what kind mounts and sets),
  JSON log lines the real service printed (--log-sample FILE, one JSON object per line) and its OpenMetrics
  output (--metrics-sample FILE). `make test-compose-static` passes the committed capture in tests/samples/.

Each check prints `ok` or `FAIL` with the reason; the last line is `N passed, N failed`.
"""
from __future__ import annotations

import argparse
import json
import posixpath
import re
import shlex
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"

# Listen ports are never written down here: each one is derived from what sets it (see listen_port()): the
# tool's config file in observability/, its flags or environment in compose.yaml, the service's
# application.properties, or else the upstream default at the pinned image version, recorded below with the
# file it was read in. An image whose tag moves away from the version read fails until the default is re-read.
# Image repository -> (version read, how the port is set, upstream default, where upstream sets it).
UPSTREAM_LISTEN = {
    "prometheuscommunity/postgres-exporter": (
        "v0.20.1", "flag --web.listen-address", ":9187",
        "postgres_exporter cmd/postgres_exporter/main.go: kingpinflag.AddFlags(kingpin.CommandLine, \":9187\")"),
    "prom/prometheus": (
        "v3.14.0", "flag --web.listen-address", "0.0.0.0:9090",
        "prometheus cmd/prometheus/main.go: web.listen-address Default(\"0.0.0.0:9090\")"),
    "grafana/loki": (
        "3.7.6", "loki.yaml server.http_listen_port or flag -server.http-listen-port", "3100",
        "loki pkg/loki/loki.go: server.http-listen-port set to 3100"),
    "grafana/tempo": (
        "2.10.8", "tempo.yaml server.http_listen_port or flag -server.http-listen-port", "3200",
        "tempo cmd/tempo/app/config.go: server.http-listen-port default 3200"),
    "grafana/alloy": (
        "v1.18.1", "flag --server.http.listen-addr", "127.0.0.1:12345",
        "alloy internal/alloycli/cmd_run.go: httpListenAddr \"127.0.0.1:12345\""),
    "grafana/grafana": (
        # Read in a stored snapshot of grafana conf/defaults.ini, not at the tag (the repository is too large to fetch).
        "13.2.0", "environment GF_SERVER_HTTP_PORT", "3000", "grafana conf/defaults.ini: [server] http_port = 3000"),
    "prom/alertmanager": (
        "v0.34.0", "flag --web.listen-address", ":9093",
        "alertmanager cmd/alertmanager/main.go: webflag.AddFlags(kingpin.CommandLine, \":9093\")"),
    "prom/blackbox-exporter": (
        "v0.28.0", "flag --web.listen-address", ":9115",
        "blackbox_exporter main.go: webflag.AddFlags(kingpin.CommandLine, \":9115\")"),
    # Web UI and API; `mailpit readyz` reads the same flag/variable, so it follows a moved port by itself.
    "axllent/mailpit": (
        "v1.30.5", "flag --listen/-l, environment MP_UI_BIND_ADDR", "[::]:8025",
        "mailpit config/config.go: HTTPListen = \"[::]:8025\"; cmd/readyz.go"),
    # PostgreSQL's compiled-in DEF_PGPORT, the same in every release (and pg_isready's default).
    "postgres": ("*", "flag -p / -c port=, environment PGPORT", "5432", "PostgreSQL DEF_PGPORT = 5432"),
}
# Loki >= 3.7's `loki -health` asks this URL unless -health.url says otherwise (loki cmd/loki/health.go at v3.7.6):
# it does not read loki.yaml, so a changed http_listen_port breaks the healthcheck.
LOKI_HEALTH_DEFAULT_URL = "http://localhost:3100/ready"
# Tempo's metrics generator names the exemplar label of span metrics `traceID` unless the per-tenant override
# metrics_generator.trace_id_label_name says otherwise (tempo modules/generator/registry/histogram.go and
# modules/overrides/config.go at v2.10.8).
TEMPO_DEFAULT_TRACE_ID_LABEL = "traceID"
# Only the UIs/API of these services may be published, and only on loopback (the container port is derived).
PUBLISHED = {"grafana", "shop", "prometheus",
             # Alerting: Alertmanager's UI/API (silences) and Mailpit's web UI (the inbox).
             "alertmanager", "mailpit"}
# One-shot helpers: no healthcheck, others wait for them with service_completed_successfully.
ONE_SHOT = {"healthcheck-tools"}
# Bind mounts of what `make up` generates before starting the stack (git-ignored, so absent from a clone): the source
# folder and the command of compose.mk's `up` recipe that makes it. The API keys: README "Authentication".
GENERATED = {"./.secrets/shop": "/scripts/api-keys.sh $(COMPOSE_DIR)/.secrets"}
# Services that keep state and must store it in a named volume (data survives down/up).
STATEFUL = {"postgres": "/var/lib/postgresql/data", "prometheus": "/prometheus", "grafana": "/var/lib/grafana",
            "loki": "/loki", "tempo": "/var/tempo", "alloy": "/var/lib/alloy/data",
            "alertmanager": "/alertmanager"}
# A capture of the real service's output (run.sh step 3), committed so that `make test-compose-static` runs these
# checks in seconds without building or starting the service. When the checks run on fresh output, they also
# compare it with this capture, so the capture cannot silently drift from what the service prints.
CAPTURED_LOGS = COMPOSE_DIR / "tests/samples/service-log.jsonl"
CAPTURED_METRICS = COMPOSE_DIR / "tests/samples/metrics-exemplars.txt"
REFRESH = ("refresh it: make test-compose, then cp target/compose-test/service-log.jsonl compose/tests/samples/ and "
           "grep ' # {' target/compose-test/metrics.txt > compose/tests/samples/metrics-exemplars.txt")
# Log levels Alloy turns into the `level` label: must stay a small, fixed set.
LOW_CARDINALITY_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f"\n       {detail}" if detail else ""))
        return ok


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def interpolate(text: str, env: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(3)
        return env.get(name) or (m.group(2) or "")
    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, text)


def host_port(address: str) -> tuple[str, int | None]:
    """'tempo:4317', 'http://loki:3100/x', '0.0.0.0:4317' -> (host, port)."""
    if "://" not in address:
        address = "tcp://" + address
    u = urlparse(address)
    return u.hostname or "", u.port


def args_of(value) -> list[str]:
    """A compose command/healthcheck (string or list) as a list of words."""
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def flag_value(args: list[str], *names: str) -> str | None:
    """The value of the last `--name=value` or `--name value` among args (Go flags: one or two dashes)."""
    found = None
    for i, a in enumerate(args):
        for name in names:
            bare = name.lstrip("-")
            m = re.fullmatch(rf"--?{re.escape(bare)}(?:=(.*))?", a)
            if m:
                found = m.group(1) if m.group(1) is not None else (args[i + 1] if i + 1 < len(args) else None)
    return found


def port_of(address: str) -> int | None:
    """':9187', '0.0.0.0:9090', '3100' -> the port."""
    address = str(address).strip()
    if address.isdigit():
        return int(address)
    return host_port(address)[1]


def shop_env_value(svc: dict, key: str) -> str | None:
    value = (svc.get("environment") or {}).get(key)
    return None if value is None else str(value)


def java_properties(path: Path) -> dict[str, str]:
    props = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


def listen_port(name: str, svc: dict, env: dict[str, str], configs: dict) -> tuple[int | None, str]:
    """The port a compose service really listens on (the HTTP one its healthcheck and scrapers use), and why."""
    command = args_of(svc.get("command"))
    environment = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
    if name == "shop":
        # Quarkus maps QUARKUS_MANAGEMENT_PORT to quarkus.management.port; both override application.properties.
        if "QUARKUS_MANAGEMENT_PORT" in environment:
            return int(environment["QUARKUS_MANAGEMENT_PORT"]), "compose QUARKUS_MANAGEMENT_PORT"
        value = configs["app"].get("quarkus.management.port")
        return (int(value), "application.properties quarkus.management.port") if value else (None, "not set")
    repo = str(svc.get("image", "")).rsplit(":", 1)[0]
    tag = str(svc.get("image", "")).rsplit(":", 1)[1] if ":" in str(svc.get("image", "")) else ""
    if repo and repo == env.get("SHOP_POSTGRES_IMAGE", "").rsplit(":", 1)[0]:
        # compose/postgres/Dockerfile: POSTGRES_IMAGE plus pgBackRest. The backup service runs backup-agent.sh, whose
        # busybox httpd serves metrics on METRICS_PORT; the postgres service listens as POSTGRES_IMAGE does.
        if args_of(svc.get("entrypoint")) == ["backup-agent"]:
            agent = (COMPOSE_DIR / "scripts" / "backup-agent.sh").read_text()
            default = re.search(r"port=\$\{METRICS_PORT:-(\d+)\}", agent)
            port = environment.get("METRICS_PORT") or (default.group(1) if default else None)
            return (port_of(port), "backup-agent.sh METRICS_PORT") if port else (None, "backup-agent.sh sets no port")
        repo, tag = env.get("POSTGRES_IMAGE", ":").rsplit(":", 1)
    if repo == "busybox":
        # Busybox serves HTTP only as `httpd -p PORT` here (its default port was not read upstream: set -p).
        port = flag_value(command, "-p") if command[:1] == ["httpd"] else None
        return (port_of(port), "busybox httpd -p in compose.yaml") if port else (None, "busybox httpd without -p")
    if repo not in UPSTREAM_LISTEN:
        return None, f"image {repo!r} has no known listen-port source: add it to UPSTREAM_LISTEN in check_compose.py"
    version, _how, default, where = UPSTREAM_LISTEN[repo]
    explicit = None
    if repo in ("prometheuscommunity/postgres-exporter", "prom/prometheus", "prom/alertmanager",
                "prom/blackbox-exporter"):
        explicit = flag_value(command, "--web.listen-address")
    elif repo == "axllent/mailpit":
        explicit = flag_value(command, "--listen", "-l") or environment.get("MP_UI_BIND_ADDR")
    elif repo == "grafana/alloy":
        explicit = flag_value(command, "--server.http.listen-addr")
    elif repo == "grafana/grafana":
        explicit = environment.get("GF_SERVER_HTTP_PORT")
    elif repo in ("grafana/loki", "grafana/tempo"):
        explicit = flag_value(command, "-server.http-listen-port")
        cfg = configs["loki" if repo == "grafana/loki" else "tempo"]
        if explicit is None and (cfg.get("server") or {}).get("http_listen_port") is not None:
            return int(cfg["server"]["http_listen_port"]), f"{repo.split('/')[1]}.yaml server.http_listen_port"
    elif repo == "postgres":
        port_setting = next((a.split("=", 1)[1] for a in command if a.startswith("port=")), None)
        explicit = flag_value(command, "-p") or port_setting or environment.get("PGPORT")
    if explicit is not None:
        return port_of(explicit), f"set in compose.yaml ({explicit})"
    if version != "*" and tag.split("-")[0] != version:
        return None, (f"{repo}:{tag} is not the version whose default port was read upstream ({version}, {where}):"
                      f" re-read it at the new tag and update UPSTREAM_LISTEN")
    return port_of(default), f"upstream default at {repo}:{version} ({where})"


def probed_ports(test: list, svc: dict) -> list[tuple[str, int | None]]:
    """(host, port) pairs a healthcheck command talks to: URLs, bash /dev/tcp, pg_isready, loki -health."""
    words = args_of(test)[1:]
    text = " ".join(words)
    environment = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
    out = []
    for url in re.findall(r"https?://[^\s\"']+", text):
        u = urlparse(url)
        out.append((u.hostname or "", u.port or (443 if u.scheme == "https" else 80)))
    out += [(h, int(p)) for h, p in re.findall(r"/dev/tcp/([^/\s]+)/(\d+)", text)]
    if any(w.endswith("pg_isready") for w in words):
        shell_words = shlex.split(text)
        port = flag_value(shell_words, "-p") or flag_value(shell_words, "--port") or environment.get("PGPORT")
        out.append((flag_value(shell_words, "-h") or "localhost", int(port or UPSTREAM_LISTEN["postgres"][2])))
    if any(w.endswith("mailpit") for w in words) and "readyz" in words:
        listen = (flag_value(words, "--listen", "-l") or environment.get("MP_UI_BIND_ADDR")
                  or UPSTREAM_LISTEN["axllent/mailpit"][2])
        out.append(("localhost", port_of(listen)))
    if any(re.fullmatch(r"-+health", w) for w in words) and not any("health.url" in w for w in words):
        u = urlparse(LOKI_HEALTH_DEFAULT_URL)
        out.append((u.hostname, u.port))
    return out


# ---------------------------------------------------------------- Alloy syntax helpers

def strip_alloy_comments(text: str) -> str:
    """Remove // and /* */ comments, leaving "strings" (which may contain //, as URLs do) intact."""
    return re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.S)


class AlloySyntaxError(Exception):
    pass


def parse_alloy(text: str) -> int:
    """Parse the subset of Alloy syntax this repository uses; returns the number of top-level blocks.

    Grammar (https://grafana.com/docs/alloy/latest/get-started/syntax/):
      body  := (block | attr)*          block := IDENT ('.' IDENT)* STRING? '{' body '}'
      attr  := IDENT '=' expr           expr  := STRING | RAW | NUMBER | true | false | null
                                                | '[' (expr ',')* expr? ']' | '{' ((IDENT|STRING) '=' expr ',')* ... '}'
                                                | IDENT ('.' IDENT)* ('(' args ')')?
    Commas between list items and object fields are mandatory (a trailing one is allowed), as in Alloy.
    """
    token_re = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|(?P<str>"(?:\\.|[^"\\\n])*")|(?P<raw>`[^`]*`)'
                          r'|(?P<num>-?\d+(?:\.\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[{}\[\](),.=+])', re.S)
    toks, pos = [], 0
    while pos < len(text):
        m = token_re.match(text, pos)
        if not m:
            raise AlloySyntaxError(f"unexpected character {text[pos]!r} at line {text.count(chr(10), 0, pos) + 1}")
        kind = m.lastgroup
        if kind:
            toks.append((kind, m.group(kind), text.count("\n", 0, pos) + 1))
        pos = m.end()
    toks.append(("eof", "", -1))
    i = 0

    def peek(k=0):
        return toks[i + k]

    def take(kind=None, value=None):
        nonlocal i
        t = toks[i]
        if (kind and t[0] != kind) or (value is not None and t[1] != value):
            raise AlloySyntaxError(f"line {t[2]}: expected {value or kind}, found {t[1]!r}")
        i += 1
        return t

    def expr():
        t = peek()
        if t[0] in ("str", "raw", "num"):
            take()
        elif t == ("p", "[", t[2]):
            take("p", "[")
            while peek()[1] != "]":
                expr()
                if peek()[1] != "]":
                    take("p", ",")
            take("p", "]")
        elif t[1] == "{" and t[0] == "p":
            take("p", "{")
            while peek()[1] != "}":
                if peek()[0] not in ("id", "str"):
                    raise AlloySyntaxError(f"line {peek()[2]}: object key expected, found {peek()[1]!r}")
                take()
                take("p", "=")
                expr()
                if peek()[1] != "}":
                    take("p", ",")
            take("p", "}")
        elif t[0] == "id":
            take("id")
            while peek()[1] == ".":
                take("p", ".")
                take("id")
            if peek()[1] == "(":
                take("p", "(")
                while peek()[1] != ")":
                    expr()
                    if peek()[1] != ")":
                        take("p", ",")
                take("p", ")")
        else:
            raise AlloySyntaxError(f"line {t[2]}: expression expected, found {t[1]!r}")
        if peek()[1] == "+":
            take("p", "+")
            expr()

    def body(closing):
        count = 0
        while peek()[1] != closing:
            take("id")
            if peek()[1] == "=":
                take("p", "=")
                expr()
                continue
            while peek()[1] == ".":
                take("p", ".")
                take("id")
            if peek()[0] == "str":
                take("str")
            take("p", "{")
            body("}")
            take("p", "}")
            count += 1
        return count

    return body("")


def _mask_strings(text: str) -> str:
    """The same text with the insides of "strings" and `raw strings` blanked: braces in templates don't count."""
    return re.sub(r'"(?:\\.|[^"\\\n])*"|`[^`]*`',
                  lambda m: m.group(0)[0] + re.sub(r"[^\n]", " ", m.group(0)[1:-1]) + m.group(0)[-1], text)


def alloy_blocks(text: str) -> list[tuple[str, str, str]]:
    """Labelled blocks at the top level of `text` (a file, or the body of a declare): (name, label, body)."""
    text = strip_alloy_comments(text)
    masked = _mask_strings(text)
    head = re.compile(r'([a-z_][a-z0-9_.]*)\s+"[^"]*"\s*\{')
    out, depth, i = [], 0, 0
    while i < len(masked):
        m = head.match(masked, i) if depth == 0 and (i == 0 or not re.match(r"[\w.]", masked[i - 1])) else None
        if m:
            d, j = 1, m.end()
            while d and j < len(masked):
                d += {"{": 1, "}": -1}.get(masked[j], 0)
                j += 1
            label = re.search(r'"([^"]*)"', text[m.start():m.end()]).group(1)
            out.append((m.group(1), label, text[m.end():j - 1]))
            i = j
            continue
        depth += {"{": 1, "}": -1}.get(masked[i], 0)
        i += 1
    return out


def alloy_attr(body: str, name: str) -> list[str]:
    return re.findall(rf'\b{name}\s*=\s*"([^"]*)"', body)


def alloy_refs(text: str, namespaces: set[str]) -> list[str]:
    """Components referenced through their exports (x.y.label.receiver/input/targets/output)."""
    known = {"otelcol", "loki", "discovery", "prometheus"} | namespaces
    found = re.findall(r"\b([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)\.(?:receiver|input|targets|output)\b",
                       _mask_strings(text))
    return [ref for ref in found if ref.split(".")[0] in known]


def alloy_positional(command) -> str:
    """The configuration path of `alloy run [flags] PATH`."""
    words = [w for w in args_of(command) if not w.startswith("-")]
    return words[-1] if len(words) >= 2 and words[0] == "run" else ""


def compose_mounts(svc: dict) -> dict[str, str]:
    """Container path -> repository path of the files a compose service bind-mounts."""
    out = {}
    for v in svc.get("volumes") or []:
        parts = str(v).split(":")
        if parts[0].startswith("."):
            out[parts[1]] = (COMPOSE_DIR / parts[0]).resolve().relative_to(ROOT).as_posix()
    return out


def kind_alloy_mounts() -> tuple[str, dict[str, str]]:
    """Alloy on kind: its configuration path, and container path -> repository path of its ConfigMap files."""
    deployment = next(d for d in yaml.safe_load_all((ROOT / "k8s/base/alloy.yaml").read_text())
                      if d and d.get("kind") == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = next(ct for ct in pod["containers"] if ct["name"] == "alloy")
    generators = {g["name"]: g for g in yaml.safe_load((ROOT / "observability/kustomization.yaml").read_text())
                  ["configMapGenerator"]}
    out = {}
    for mount in container.get("volumeMounts", []):
        volume = next((vol for vol in pod.get("volumes", []) if vol["name"] == mount["name"]), {})
        generator = generators.get((volume.get("configMap") or {}).get("name"))
        for entry in (generator or {}).get("files", []):
            key, _, src = entry.rpartition("=")
            key = key or posixpath.basename(src)
            if mount.get("subPath") in (None, key):
                target = mount["mountPath"] if mount.get("subPath") else posixpath.join(mount["mountPath"], key)
                out[target] = f"observability/{src}"
    return alloy_positional(["run"] + [a for a in container.get("args", []) if a != "run"]), out


def unlabelled_block(body: str, name: str) -> str:
    """The body of the first `name { ... }` block (e.g. stage.json) in `body`, or ""."""
    masked = _mask_strings(body)
    m = re.search(rf"(?<![\w.]){re.escape(name)}\s*\{{", masked)
    if not m:
        return ""
    d, j = 1, m.end()
    while d and j < len(masked):
        d += {"{": 1, "}": -1}.get(masked[j], 0)
        j += 1
    return body[m.end():j - 1]


def object_attr(body: str, name: str) -> str:
    """The inside of `name = { ... }` in a block body (no nested objects), or ""."""
    m = re.search(rf"\b{name}\s*=\s*\{{([^}}]*)\}}", body)
    return m.group(1) if m else ""


def loki_stages(process: str) -> dict:
    """What a loki.process body does: stage.json fields, level mapping, labels, structured metadata, timestamp."""
    stages = {
        "json": dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', object_attr(unlabelled_block(process, "stage.json"), "expressions"))),
        "labels": re.findall(r"(\w+)\s*=", object_attr(unlabelled_block(process, "stage.labels"), "values")),
        "structured_metadata": re.findall(r"(\w+)\s*=", object_attr(unlabelled_block(process, "stage.structured_metadata"),
                                                                      "values")),
    }
    template = unlabelled_block(process, "stage.template")
    mapping = {}
    if alloy_attr(template, "source") == ["level"]:
        raw = re.search(r"template\s*=\s*`([^`]*)`", template)
        for cond, out in re.findall(r"if ([^}]*)\}\}(\w+)", raw.group(1) if raw else ""):
            mapping.update({name: out for name in re.findall(r'"(\w+)"', cond)})
    stages["level_mapping"] = mapping
    ts = unlabelled_block(process, "stage.timestamp")
    stages["timestamp"] = ((alloy_attr(ts, "source") or [None])[0], (alloy_attr(ts, "format") or [None])[0]) if ts else None
    return stages


def parser_self_test(c: Checks, source: str) -> None:
    """The Alloy parser must reject broken variants of a real file; a planted error that did not apply fails."""
    plants = {
        "a missing comma between object fields": (r'(\n\s*\w+\s*=\s*"[^"\n]*"),(\s*\n\s*\w+\s*=)', r"\1\2"),
        "an unclosed block": (r"\}(\s*)\Z", r"\1"),
        "an attribute without a value": (r"(\n\s*forward_to\s*=\s*)[^\s][^\n]*", r"\1"),
    }
    for what, (pattern, replacement) in plants.items():
        broken, n = re.subn(pattern, replacement, source, count=1)
        if n != 1 or broken == source:
            c.check(f"alloy: parser self-test: {what} is planted", False, f"pattern {pattern!r} no longer matches")
            continue
        try:
            parse_alloy(broken)
            c.check(f"alloy: parser self-test: rejects {what}", False, "accepted")
        except AlloySyntaxError:
            c.check(f"alloy: parser self-test: rejects {what}", True)


def json_lines(path: Path) -> list[dict]:
    """The JSON objects of a log capture, one per line; other lines (non-JSON start-up output) are skipped."""
    lines = []
    for raw in path.read_text().splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                pass
    return lines


def exemplar_label_names(path: Path) -> set[str]:
    """Label names of the exemplars (`... # {a="b"} v ts`) in an OpenMetrics text."""
    names = set()
    for line in path.read_text().splitlines():
        if " # {" in line:
            names |= set(re.findall(r'(\w+)="', line.split(" # {", 1)[1]))
    return names


# ---------------------------------------------------------------- checks

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log-sample", type=Path, help="JSON lines printed by the real service")
    ap.add_argument("--metrics-sample", type=Path, help="the service's /q/metrics in OpenMetrics format")
    args = ap.parse_args()
    c = Checks()

    env = read_env(COMPOSE_DIR / ".env")
    raw_compose = (COMPOSE_DIR / "compose.yaml").read_text()
    compose_raw = yaml.safe_load(raw_compose)
    compose = yaml.safe_load(interpolate(raw_compose, env))
    services: dict = compose["services"]

    # ---- images: pinned once in .env, never latest
    for name, svc in services.items():
        image = compose_raw["services"][name].get("image", "")
        m = re.fullmatch(r"\$\{([A-Z0-9_]+_IMAGE)\}", image)
        c.check(f"compose: {name} image comes from a *_IMAGE variable in .env",
                bool(m) and m.group(1) in env, f"image: {image!r}")
    for key, value in env.items():
        if key.endswith("_IMAGE"):
            tag = value.rsplit(":", 1)[1] if ":" in value.split("/")[-1] else ""
            c.check(f".env: {key} has an explicit version tag (not latest)",
                    bool(tag) and tag != "latest" and re.search(r"\d", tag) is not None, f"{key}={value}")
    c.check("compose: every variable used in compose.yaml is defined in .env",
            not (set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", raw_compose)) - set(env)),
            str(set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", raw_compose)) - set(env)))

    # ---- Dockerfile and pom agree with .env
    dockerfile = (ROOT / "src/main/docker/Dockerfile").read_text()
    for arg in ("MAVEN_IMAGE", "JRE_IMAGE"):
        m = re.search(rf"^ARG {arg}=(\S+)$", dockerfile, re.M)
        c.check(f"Dockerfile: default {arg} equals .env", bool(m) and m.group(1) == env.get(arg),
                f"Dockerfile {m.group(1) if m else None} vs .env {env.get(arg)}")
        c.check(f"compose: shop build passes {arg} from .env",
                compose_raw["services"]["shop"]["build"]["args"].get(arg) == "${" + arg + "}")
    pom_version = re.search(r"<artifactId>shop</artifactId>\s*<version>([^<]+)</version>",
                            (ROOT / "pom.xml").read_text())
    c.check("compose: SHOP_IMAGE tag is the version in pom.xml",
            bool(pom_version) and env["SHOP_IMAGE"] == f"shop:{pom_version.group(1)}",
            f"SHOP_IMAGE={env['SHOP_IMAGE']} pom={pom_version.group(1) if pom_version else None}")
    # Plugin executions of pom.xml that read folders the image build context leaves out (.dockerignore is an
    # allow-list) must be skipped by the Dockerfile's mvn command, or `docker build` fails where mvn works.
    allowed = {ln[1:].strip().rstrip("/") for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.startswith("!")}
    mvn_line = " ".join(re.findall(r"mvn [^\n]*", dockerfile))
    for execution in re.findall(r"<execution>(.*?)</execution>", (ROOT / "pom.xml").read_text(), re.S):
        outside = {d for d in re.findall(r"\$\{project\.basedir\}/([^/<\s]+)", execution) if d not in allowed}
        skip = re.search(r"<skip>\$\{([\w.-]+)\}</skip>", execution)
        if outside:
            c.check(f"Dockerfile: mvn skips the pom execution that reads {sorted(outside)} (not in the build context)",
                    bool(skip) and f"-D{skip.group(1)}=true" in mvn_line,
                    f"add -D{skip.group(1) if skip else '<skip property>'}=true to the mvn command")
    user = re.search(r"^USER (\d+)", dockerfile, re.M)
    c.check("Dockerfile: runs as a non-root user (numeric uid)", bool(user) and user.group(1) != "0")
    k8s_shop = ROOT / "k8s/base/app/shop.yaml"
    if k8s_shop.exists() and user:
        k8s_uid = re.search(r"runAsUser:\s*(\d+)", k8s_shop.read_text())
        c.check("Dockerfile: the image user is the runAsUser of k8s/base/app/shop.yaml",
                bool(k8s_uid) and k8s_uid.group(1) == user.group(1))
    c.check("Dockerfile: exposes 8080 and 9000", re.search(r"^EXPOSE 8080 9000$", dockerfile, re.M) is not None)

    # ---- healthchecks, dependencies, limits, logging
    for name, svc in services.items():
        if name in ONE_SHOT:
            c.check(f"compose: one-shot {name} does not restart", svc.get("restart") == "no")
        else:
            test = (svc.get("healthcheck") or {}).get("test")
            c.check(f"compose: {name} has a healthcheck", isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"))
        for dep, cond in (svc.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            c.check(f"compose: {name} waits for {dep} ({wanted})",
                    dep in services and isinstance(cond, dict) and cond.get("condition") == wanted, str(cond))
        limit = (((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get("memory")
        c.check(f"compose: {name} has a memory limit", bool(limit))
        c.check(f"compose: {name} uses the x-default-logging settings",
                svc.get("logging") == compose["x-default-logging"])

    # ---- listen ports: derived from what sets them; healthchecks probe exactly those
    configs = {
        "app": java_properties(ROOT / "src/main/resources/application.properties"),
        "loki": yaml.safe_load((ROOT / "observability/loki/loki.yaml").read_text()),
        "tempo": yaml.safe_load((ROOT / "observability/tempo/tempo.yaml").read_text()),
    }
    loki_cfg, tempo_cfg = configs["loki"], configs["tempo"]
    ports: dict[str, int | None] = {}
    for name, svc in services.items():
        if name in ONE_SHOT:
            continue
        ports[name], why = listen_port(name, svc, env, configs)
        c.check(f"ports: {name} listens on {ports[name]} ({why})", ports[name] is not None, why)
    shop_api_port = int(shop_env_value(services["shop"], "QUARKUS_HTTP_PORT") or configs["app"]["quarkus.http.port"])
    healthchecked = [n for n, s in services.items() if (s.get("healthcheck") or {}).get("test")]
    c.check(f"ports: every long-running service has a healthcheck to check ({len(healthchecked)})",
            len(healthchecked) == len(ports) > 0, f"{sorted(set(ports) - set(healthchecked))} have none")
    for name in healthchecked:
        probes = probed_ports(services[name]["healthcheck"]["test"], services[name])
        c.check(f"ports: {name} healthcheck probes {probes}: loopback, on the port {name} listens on ({ports.get(name)})",
                bool(probes) and all(h in ("127.0.0.1", "localhost", "::1") and p == ports.get(name) for h, p in probes),
                "no port found in the healthcheck: teach probed_ports() how this one works" if not probes else
                f"{name} listens on {ports.get(name)}")

    # ---- published ports: only three, only on 127.0.0.1, each the service's real UI/API port
    for name, svc in services.items():
        for spec in svc.get("ports") or []:
            parts = str(spec).split(":")
            wanted = shop_api_port if name == "shop" else ports.get(name)
            ok = (len(parts) == 3 and parts[0] == "127.0.0.1" and name in PUBLISHED
                  and parts[2].isdigit() and int(parts[2]) == wanted)
            c.check(f"compose: {name} publishes only its UI/API port ({wanted}) on 127.0.0.1", ok, str(spec))
    c.check(f"compose: exactly {', '.join(sorted(PUBLISHED))} publish ports",
            {n for n, s in services.items() if s.get("ports")} == PUBLISHED)

    # ---- volumes: state in named volumes; mounted config files exist
    named = set(compose.get("volumes") or {})
    for name, path in STATEFUL.items():
        mounts = [str(v) for v in services[name].get("volumes") or []]
        c.check(f"compose: {name} keeps {path} in a named volume",
                any(m.split(":")[0] in named and m.split(":")[1] == path for m in mounts), str(mounts))
    for name, svc in services.items():
        for v in svc.get("volumes") or []:
            src = str(v).split(":")[0]
            if src in GENERATED:
                up = re.search(r"^up:.*\n((?:\t.*\n)+)", (COMPOSE_DIR / "compose.mk").read_text(), re.M)
                recipe = up.group(1) if up else ""
                made = recipe.find(GENERATED[src])
                c.check(f"compose: {name} mounts {src}, which make up generates before it starts the stack",
                        0 <= made < recipe.find("up -d"), GENERATED[src])
            elif src.startswith("."):
                c.check(f"compose: {name} mounts an existing path {src}", (COMPOSE_DIR / src).exists())

    # ---- the shop container and its dependencies: env, read-only root, tmpfs /tmp
    shop = services["shop"]
    shop_env = shop["environment"]
    jdbc = re.match(r"jdbc:postgresql://([^:/]+):(\d+)/(\w+)", shop_env["QUARKUS_DATASOURCE_JDBC_URL"])
    c.check(f"shop: JDBC URL points at the postgres service on its port ({ports['postgres']}) and its database",
            bool(jdbc) and jdbc.group(1) == "postgres" and int(jdbc.group(2)) == ports["postgres"]
            and jdbc.group(3) == services["postgres"]["environment"]["POSTGRES_DB"])
    exporter_dsn = services["postgres-exporter"]["environment"]["DATA_SOURCE_URI"]
    c.check(f"postgres-exporter: DATA_SOURCE_URI points at the postgres service on its port ({ports['postgres']})",
            host_port(exporter_dsn.split("/")[0]) == ("postgres", ports["postgres"]), exporter_dsn)
    c.check("shop: read-only root filesystem with a tmpfs on /tmp",
            shop.get("read_only") is True and any(str(t).split(":")[0] == "/tmp" for t in shop.get("tmpfs", [])))
    hc = " ".join(shop["healthcheck"]["test"])
    c.check("shop: healthcheck probes readiness (/q/health/ready)", "/q/health/ready" in hc)

    # ---- Prometheus: flags, and scrape targets resolve to compose services and their real ports
    prom_cmd = services["prometheus"]["command"]
    for flag in ("--config.file=/etc/prometheus/prometheus.yml", "--web.enable-remote-write-receiver",
                 "--enable-feature=exemplar-storage", "--storage.tsdb.retention.time=7d", "--web.enable-lifecycle"):
        c.check(f"prometheus: started with {flag}", flag in prom_cmd)
    # Prometheus scrapes itself as localhost.
    expected_ports = {**ports, "localhost": ports["prometheus"]}
    prom_path = ROOT / "observability/prometheus/prometheus.yml"
    if c.check("prometheus: observability/prometheus/prometheus.yml exists", prom_path.exists()):
        prom = yaml.safe_load(prom_path.read_text())
        static_targets = [tg for job in prom.get("scrape_configs", []) for sc in job.get("static_configs", [])
                          for tg in sc.get("targets", [])]
        c.check(f"prometheus: static scrape targets to check ({len(static_targets)})", bool(static_targets))
        for job in prom.get("scrape_configs", []):
            # Black-box probe jobs list the probed URLs, not scrape addresses; observability/tests/alert_routing.py
            # checks those URLs and the exporter address.
            for sc in [] if job.get("metrics_path") == "/probe" else job.get("static_configs", []):
                for target in sc.get("targets", []):
                    host, port = host_port(target)
                    c.check(f"prometheus: job {job['job_name']} target {target} is a compose service on its port",
                            (host in services or host == "localhost") and expected_ports.get(host) == port,
                            f"expected port {expected_ports.get(host)}")
            if job["job_name"] == "shop":
                c.check("prometheus: shop is scraped on /q/metrics", job.get("metrics_path") == "/q/metrics")
        for pattern in prom.get("rule_files", []):
            c.check(f"prometheus: rule_files {pattern} matches files in the mounted folder",
                    any(prom_path.parent.glob(pattern)))
        mount = [v for v in services["prometheus"]["volumes"] if str(v).endswith(":/etc/prometheus:ro")]
        c.check("prometheus: observability/prometheus is mounted at /etc/prometheus", bool(mount))

    # ---- Alloy: both variants (compose, kind) parse, reference only defined components, send to the real
    # ports, and take their log pipeline from ONE shared module file
    alloy_svc = services["alloy"]
    alloy_listen = flag_value(args_of(alloy_svc.get("command")), "--server.http.listen-addr") or ""
    c.check("alloy: the HTTP listener binds a non-loopback address (Prometheus scrapes alloy:<port>/metrics)",
            host_port(alloy_listen)[0] not in ("", "127.0.0.1", "localhost"), alloy_listen)
    otlp_host, otlp_port = host_port(shop_env["QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT"])
    tempo_grpc = port_of(tempo_cfg["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])
    deployments = {
        "config.alloy": ("compose", alloy_positional(alloy_svc.get("command")), compose_mounts(alloy_svc)),
        "config-k8s.alloy": ("kind",) + kind_alloy_mounts(),
    }
    c.check("alloy: the shop exports OTLP over gRPC to the alloy service",
            otlp_host == "alloy" and shop_env["QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc")
    modules = {}
    for file_name, (where, config_path, mounts) in deployments.items():
        source = (ROOT / "observability/alloy" / file_name).read_text()
        try:
            n_blocks = parse_alloy(source)
            c.check(f"alloy: {file_name} parses ({n_blocks} top-level blocks)", n_blocks > 0)
        except AlloySyntaxError as e:
            c.check(f"alloy: {file_name} parses", False, str(e))
            continue
        text = strip_alloy_comments(source)
        blocks = alloy_blocks(source)
        body = {f"{comp}.{label}": b for comp, label, b in blocks}
        c.check(f"alloy: {file_name} is what {where} runs ({config_path})",
                mounts.get(config_path) == f"observability/alloy/{file_name}", f"{config_path} -> {mounts.get(config_path)}")
        imports = {label: b for comp, label, b in blocks if comp == "import.file"}
        refs = alloy_refs(text, set(imports))
        c.check(f"alloy: {file_name} connects its components ({len(refs)} references found)", len(refs) >= 4)
        for ref in refs:
            c.check(f"alloy: {file_name}: reference {ref} names a defined component", ref in body)
        c.check(f"alloy: {file_name} processes no log lines itself (no loki.process: the shared module does)",
                not [k for k in body if k.startswith("loki.process.")], str([k for k in body if k.startswith("loki.process.")]))
        # The module: import.file "<ns>" { filename = file.path_join(module_path, "<file>") }, module_path being the
        # folder of the running configuration; the deployment must put the repository's module file there.
        module_repo = None
        for ns, ib in imports.items():
            joined = re.fullmatch(r'\s*filename\s*=\s*file\.path_join\(\s*module_path\s*,\s*"([^"]+)"\s*\)\s*', ib)
            in_container = posixpath.join(posixpath.dirname(config_path), joined.group(1)) if joined else None
            module_repo = mounts.get(in_container)
            c.check(f"alloy: {file_name} imports {ns} from {in_container}, where {where} mounts {module_repo}",
                    bool(joined) and module_repo is not None and (ROOT / module_repo).is_file(), ib.strip())
        c.check(f"alloy: {file_name} imports exactly one module", len(imports) == 1, str(sorted(imports)))
        if len(imports) != 1 or module_repo is None or not (ROOT / module_repo).is_file():
            continue
        ns = next(iter(imports))
        instances = [(comp, label, b) for comp, label, b in blocks if comp.startswith(ns + ".")]
        c.check(f"alloy: {file_name} instantiates the module's component once", len(instances) == 1, str(instances))
        if len(instances) != 1:
            continue
        comp, label, inst = instances[0]
        modules[file_name] = (module_repo, comp.split(".", 1)[1])
        sources = {k: b for k, b in body.items() if k.startswith("loki.source.")}
        c.check(f"alloy: {file_name}: every log source forwards to the module ({comp}.{label}.receiver) only",
                bool(sources) and all(re.findall(r"forward_to\s*=\s*\[([^\]]*)\]", b) == [f"{comp}.{label}.receiver"]
                                      for b in sources.values()), str(list(sources)))
        writes = [k for k in body if k.startswith("loki.write.")]
        c.check(f"alloy: {file_name}: the module forwards to loki.write",
                bool(writes) and re.findall(r"forward_to\s*=\s*\[([^\]]*)\]", inst) == [f"{writes[0]}.receiver"])
        receiver = next((b for k, b in body.items() if k.startswith("otelcol.receiver.otlp.")), "")
        grpc = re.search(r"grpc\s*\{([^}]*)\}", receiver)
        c.check(f"alloy: {file_name}: OTLP gRPC receiver listens on 0.0.0.0:{otlp_port} (the shop's endpoint)",
                bool(grpc) and host_port(alloy_attr(grpc.group(1), "endpoint")[0]) == ("0.0.0.0", otlp_port))
        exporter = next((b for k, b in body.items() if k.startswith("otelcol.exporter.otlp.")), "")
        c.check(f"alloy: {file_name}: traces go to the tempo service on Tempo's OTLP gRPC port ({tempo_grpc})",
                alloy_attr(exporter, "endpoint")[:1] == [f"tempo:{tempo_grpc}"], str(alloy_attr(exporter, "endpoint")))
        c.check(f"alloy: {file_name}: the Tempo exporter uses plain text (insecure) on the private network",
                re.search(r"insecure\s*=\s*true", exporter) is not None)
        loki_url = urlparse((alloy_attr(body[writes[0]], "url") or [""])[0]) if writes else urlparse("")
        c.check(f"alloy: {file_name}: logs go to the loki service's push API on Loki's port ({ports['loki']})",
                loki_url.hostname == "loki" and loki_url.port == ports["loki"] and loki_url.path == "/loki/api/v1/push")
    c.check("alloy: compose and kind run the same log pipeline module and component",
            len(modules) == 2 and len(set(modules.values())) == 1, str(modules))

    compose_alloy = strip_alloy_comments((ROOT / "observability/alloy/config.alloy").read_text())
    label_filter = re.search(r'name\s*=\s*"label"\s*values\s*=\s*\["([^"=]+)=([^"]+)"\]', compose_alloy)
    c.check("alloy: discovery keeps containers by a label the shop service carries",
            bool(label_filter) and str(shop.get("labels", {}).get(label_filter.group(1))) == label_filter.group(2))
    c.check("alloy: the Docker socket is mounted read-only",
            "/var/run/docker.sock:/var/run/docker.sock:ro" in alloy_svc["volumes"])
    c.check("alloy: discovery.relabel sets the `service` label from the compose service name",
            re.search(r'__meta_docker_container_label_com_docker_compose_service"\]\s*target_label\s*=\s*"service"',
                      compose_alloy) is not None)

    # The shared module: syntax (with a parser self-test), shape, and the stages the log checks read.
    module_repo, component = next(iter(modules.values())) if modules else (None, None)
    stages = {}
    if module_repo:
        module_source = (ROOT / module_repo).read_text()
        try:
            parse_alloy(module_source)
            c.check(f"alloy: {module_repo} parses", True)
        except AlloySyntaxError as e:
            c.check(f"alloy: {module_repo} parses", False, str(e))
        parser_self_test(c, module_source)
        top = alloy_blocks(module_source)
        c.check(f"alloy: {module_repo} holds only declare/import blocks at top level (Alloy refuses anything else)",
                bool(top) and all(comp == "declare" or comp.startswith("import.") for comp, _l, _b in top),
                str([comp for comp, _l, _b in top]))
        declared = {label: b for comp, label, b in top if comp == "declare"}
        decl = declared.get(component, "")
        inner = {f"{comp}.{label}": b for comp, label, b in alloy_blocks(decl)}
        processes = [k for k in inner if k.startswith("loki.process.")]
        c.check(f"alloy: declare {component!r} has one loki.process", len(processes) == 1, str(list(inner)))
        exported = re.findall(r"value\s*=\s*([\w.]+)", inner.get("export.receiver", ""))
        c.check(f"alloy: declare {component!r} exports `receiver` = its loki.process's receiver",
                bool(processes) and exported == [f"{processes[0]}.receiver"], str(exported))
        c.check(f"alloy: declare {component!r} forwards to its `forward_to` argument",
                "argument.forward_to" in inner and bool(processes)
                and re.search(r"forward_to\s*=\s*argument\.forward_to\.value", inner[processes[0]]) is not None)
        stages = loki_stages(inner[processes[0]]) if processes else {}

    extracted = stages.get("json", {})
    label_names = stages.get("labels", [])
    sm_names = stages.get("structured_metadata", [])
    mapping = stages.get("level_mapping", {})
    c.check(f"alloy: stage.json extracts fields ({sorted(extracted)})", bool(extracted))
    c.check("alloy: stream labels are only service and level (low cardinality)", label_names == ["level"],
            f"stage.labels sets {label_names}")
    c.check("alloy: traceId is structured metadata, not a label", "traceId" in sm_names and "traceId" not in label_names)
    # The level spellings the service's loggers can print: JBoss Log Manager levels, and java.util.logging's
    # (java.util.logging.Level) for libraries logging through JUL. Each must end up in the small fixed set, and the
    # JUL ones as compose/README.md documents (WARNING->WARN, SEVERE->ERROR, FINE/FINER/FINEST->DEBUG).
    documented = {"WARNING": "WARN", "SEVERE": "ERROR", "FINE": "DEBUG", "FINER": "DEBUG", "FINEST": "DEBUG",
                  "CONFIG": "INFO"}
    c.check(f"alloy: stage.template normalises java.util.logging levels as documented ({mapping})",
            all(mapping.get(k) == v for k, v in documented.items()),
            f"missing or different: {sorted(k for k, v in documented.items() if mapping.get(k) != v)}")
    every = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} | set(documented)
    c.check("alloy: every JBoss and java.util.logging level ends up in the fixed `level` set",
            bool(mapping) and {mapping.get(lv, lv) for lv in every} <= LOW_CARDINALITY_LEVELS)
    c.check("alloy: stage.timestamp reads the extracted timestamp as RFC3339Nano",
            stages.get("timestamp") == (next((k for k, v in extracted.items() if v == "timestamp"), None), "RFC3339Nano"),
            str(stages.get("timestamp")))

    # ---- Tempo
    for proto, cfg in tempo_cfg["distributor"]["receivers"]["otlp"]["protocols"].items():
        c.check(f"tempo: OTLP {proto} receiver binds 0.0.0.0 (Tempo >= 2.7 defaults to localhost)",
                host_port(cfg["endpoint"])[0] == "0.0.0.0")
    rw = tempo_cfg["metrics_generator"]["storage"]["remote_write"][0]
    rw_url = urlparse(rw["url"])
    c.check(f"tempo: metrics generator remote-writes to prometheus:{ports['prometheus']}/api/v1/write",
            (rw_url.hostname, rw_url.port, rw_url.path) == ("prometheus", ports["prometheus"], "/api/v1/write"))
    c.check("tempo: remote write sends exemplars", rw.get("send_exemplars") is True)
    overrides = tempo_cfg.get("overrides") or {}
    c.check("tempo: overrides use the per-tenant `defaults` format (Tempo 2.10; the flat legacy keys are a fallback)",
            "defaults" in overrides and not any(k.startswith("metrics_generator_") for k in overrides), str(list(overrides)))
    generator_overrides = ((overrides.get("defaults") or {}).get("metrics_generator") or {})
    processors = generator_overrides.get("processors") or []
    c.check("tempo: service-graphs, span-metrics and local-blocks processors are enabled",
            {"service-graphs", "span-metrics", "local-blocks"} <= set(processors))
    tempo_exemplar_label = generator_overrides.get("trace_id_label_name") or TEMPO_DEFAULT_TRACE_ID_LABEL
    c.check("tempo: trace retention is explicit", bool(tempo_cfg["compactor"]["compaction"].get("block_retention")))
    c.check("tempo: local-blocks has a traces_storage path",
            bool(tempo_cfg["metrics_generator"].get("traces_storage", {}).get("path")))
    c.check("tempo: data paths live under the /var/tempo volume",
            all(str(p).startswith("/var/tempo/") for p in (
                tempo_cfg["storage"]["trace"]["wal"]["path"], tempo_cfg["storage"]["trace"]["local"]["path"],
                tempo_cfg["metrics_generator"]["storage"]["path"], tempo_cfg["metrics_generator"]["traces_storage"]["path"])))

    # ---- Loki
    schema = sorted(loki_cfg["schema_config"]["configs"], key=lambda s: str(s["from"]))[-1]
    c.check("loki: active schema is v13 on tsdb with a 24h index (structured metadata, retention)",
            (schema["schema"], schema["store"], schema["index"]["period"]) == ("v13", "tsdb", "24h"))
    c.check("loki: compactor retention is enabled with a delete request store",
            loki_cfg["compactor"].get("retention_enabled") is True and bool(loki_cfg["compactor"].get("delete_request_store")))
    c.check("loki: a retention period is set", str(loki_cfg["limits_config"].get("retention_period", "0")) not in ("0", "0s"))
    c.check("loki: structured metadata is allowed", loki_cfg["limits_config"].get("allow_structured_metadata") is True)
    c.check("loki: data paths live under the /loki volume",
            all(str(p).startswith("/loki") for p in (loki_cfg["common"]["path_prefix"],
                                                     loki_cfg["compactor"]["working_directory"])))

    # ---- Grafana: data sources, and no plugin updates from grafana.com at start-up
    ds_text = (ROOT / "observability/grafana/provisioning/datasources/datasources.yaml").read_text()
    ds = {d["uid"]: d for d in yaml.safe_load(ds_text)["datasources"]}
    c.check("grafana: data sources have the fixed uids prometheus, loki, tempo, alertmanager",
            set(ds) == {"prometheus", "loki", "tempo", "alertmanager"})
    for uid in ("prometheus", "loki", "tempo", "alertmanager"):
        u = urlparse(ds[uid]["url"])
        c.check(f"grafana: {uid} data source URL is the {uid} service on its port ({ports[uid]})",
                (u.hostname, u.port) == (uid, ports[uid]), ds[uid]["url"])

    def strings(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)
        elif isinstance(node, str):
            yield node
    bare = [s for s in strings(yaml.safe_load(ds_text)) if re.search(r"(?<!\$)\$(\{|__)", s.replace("$$", ""))]
    c.check("grafana: every Grafana macro is escaped as $$ (provisioning expands $VAR)", not bare, str(bare))
    ex = ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    linked = {e["name"] for e in ex if e.get("datasourceUid") == "tempo"}
    c.check(f"grafana: exemplars labelled {tempo_exemplar_label!r} (the label Tempo's span metrics carry) link to tempo",
            tempo_exemplar_label in linked,
            f"Tempo writes {tempo_exemplar_label!r} (overrides.defaults.metrics_generator.trace_id_label_name, "
            f"default {TEMPO_DEFAULT_TRACE_ID_LABEL!r}); Grafana links {sorted(linked)}")
    derived = ds["loki"]["jsonData"]["derivedFields"]
    c.check("grafana: Loki derived field reads the structured metadata key Alloy writes, and links to tempo",
            bool(sm_names) and any(d.get("matcherType") == "label" and d["matcherRegex"] in sm_names
                                    and d["datasourceUid"] == "tempo" for d in derived), f"structured metadata: {sm_names}")
    t2l = ds["tempo"]["jsonData"]["tracesToLogsV2"]
    c.check("grafana: traces -> logs uses loki, filters by trace id and maps service.name to the `service` label",
            t2l["datasourceUid"] == "loki" and t2l.get("filterByTraceID") is True
            and {"key": "service.name", "value": "service"} in t2l["tags"])
    tj = ds["tempo"]["jsonData"]
    c.check("grafana: traces -> metrics and service map use prometheus; node graph on",
            tj["tracesToMetrics"]["datasourceUid"] == "prometheus" and tj["serviceMap"]["datasourceUid"] == "prometheus"
            and tj["nodeGraph"]["enabled"] is True)
    providers = [p for f in sorted((ROOT / "observability/grafana/provisioning/dashboards").glob("*.y*ml"))
                 for p in yaml.safe_load(f.read_text()).get("providers", [])]
    c.check(f"grafana: dashboard providers are provisioned ({len(providers)})", bool(providers))
    for p in providers:
        path = str((p.get("options") or {}).get("path", ""))
        c.check(f"grafana: dashboard provider {p.get('name')} reads the mounted /var/lib/grafana/dashboards",
                path.startswith("/var/lib/grafana/dashboards"), path)
    # [plugins] preinstall_auto_update (default true) makes Grafana 13 replace its bundled data-source plugins with
    # the newest from grafana.com at every start (pkg/setting/setting_plugins.go); GF_<SECTION>_<KEY> sets it.
    kind_grafana = next(d for d in yaml.safe_load_all((ROOT / "k8s/base/grafana.yaml").read_text())
                        if d and d.get("kind") == "Deployment")
    kind_env = {e["name"]: e.get("value") for ct in kind_grafana["spec"]["template"]["spec"]["containers"]
                for e in ct.get("env", [])}
    for where, grafana_env in (("compose", services["grafana"].get("environment") or {}), ("kind", kind_env)):
        c.check(f"grafana ({where}): GF_PLUGINS_PREINSTALL_AUTO_UPDATE is \"false\" (keep the pinned image's plugins)",
                str(grafana_env.get("GF_PLUGINS_PREINSTALL_AUTO_UPDATE")) == "false",
                str(grafana_env.get("GF_PLUGINS_PREINSTALL_AUTO_UPDATE")))

    # ---- real log lines: the fields the shared pipeline module and the links expect are really printed
    if args.log_sample:
        lines = json_lines(args.log_sample)
        if args.log_sample.resolve() != CAPTURED_LOGS.resolve() and CAPTURED_LOGS.exists():
            captured = json_lines(CAPTURED_LOGS)
            fields = sorted(set(extracted.values()) | {"service"})
            fresh_has = {f: any(f in ln for ln in lines) for f in fields}
            captured_has = {f: any(f in ln for ln in captured) for f in fields}
            c.check(f"logs: the committed capture {CAPTURED_LOGS.relative_to(ROOT)} has the fields the service prints now",
                    bool(fields) and fresh_has == captured_has, f"now {fresh_has}, capture {captured_has}; {REFRESH}")
        c.check(f"logs: the sample has JSON lines ({len(lines)})", len(lines) >= 3)
        c.check(f"logs: Alloy's stage.json extracts fields to look for ({len(extracted)})", bool(extracted))
        for key, source in extracted.items():
            field = source or key
            present = [ln for ln in lines if field in ln]
            c.check(f"logs: field `{field}` extracted by Alloy ({key}) appears at the top level of real lines",
                    bool(present), "no line has it; nested under mdc?")
        trace_field = extracted.get("traceId") or "traceId"
        traced = [ln for ln in lines if trace_field in ln]
        c.check(f"logs: `{trace_field}` values are 32 hex characters (W3C trace id, what Tempo looks up)",
                bool(traced) and all(re.fullmatch(r"[0-9a-f]{32}", str(ln[trace_field])) for ln in traced))
        # Apply the stage.template mapping (e.g. WARNING -> WARN) the way Alloy would, then check the result.
        level_field = extracted.get("level") or "level"
        levels = {mapping.get(ln.get(level_field), ln.get(level_field)) for ln in lines}
        c.check("logs: level values (after Alloy's normalisation) form a small fixed set",
                bool(lines) and bool(mapping) and levels <= LOW_CARDINALITY_LEVELS,
                f"{levels} (raw: {set(ln.get(level_field) for ln in lines)}, mapping {mapping})")
        c.check("logs: service field is `shop`, the compose service name Alloy uses as `service` label",
                bool(lines) and {ln.get("service") for ln in lines} == {"shop"} and "shop" in services)
        ts_field = (stages.get("timestamp") or (None, None))[0]
        ts_field = extracted.get(ts_field, ts_field)

        def rfc3339(v: str) -> bool:
            m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", v or "")
            if not m:
                return False
            datetime.fromisoformat(m.group(1))
            return True
        c.check(f"logs: timestamps (`{ts_field}`) parse as RFC3339Nano, the format stage.timestamp expects",
                bool(ts_field) and bool(lines) and all(rfc3339(ln.get(ts_field)) for ln in lines))
    else:
        print("note: no --log-sample given; the log-field checks were skipped")

    # ---- real metrics: the service's exemplars carry the label Grafana links and Tempo writes
    if args.metrics_sample:
        exemplar_labels = exemplar_label_names(args.metrics_sample)
        if args.metrics_sample.resolve() != CAPTURED_METRICS.resolve() and CAPTURED_METRICS.exists():
            c.check(f"metrics: the committed capture {CAPTURED_METRICS.relative_to(ROOT)} has the exemplar labels "
                    "the service emits now", exemplar_labels == exemplar_label_names(CAPTURED_METRICS),
                    f"now {sorted(exemplar_labels)}; {REFRESH}")
        c.check("metrics: the service's OpenMetrics output carries exemplars", bool(exemplar_labels))
        trace_labels = {lb for lb in exemplar_labels if "trace" in lb.lower()}
        c.check("metrics: the service's exemplar trace label is the one Grafana links and Tempo's span metrics carry",
                len(trace_labels) == 1 and trace_labels <= linked and trace_labels == {tempo_exemplar_label},
                f"service emits {sorted(trace_labels)}, Grafana links {sorted(linked)}, Tempo writes {tempo_exemplar_label!r}")
        c.check("metrics: every exemplarTraceIdDestinations name is an exemplar label the service or Tempo emits",
                bool(linked) and linked <= exemplar_labels | {tempo_exemplar_label},
                f"configured {sorted(linked)}, emitted {sorted(exemplar_labels)}")

    print(f"compose checks: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
