#!/usr/bin/env python3
"""Static cross-checks of the compose stack: names, ports and fields must agree across files.

Run by `make test-compose` (compose/tests/run.sh). Python 3 standard library plus PyYAML.
No Docker engine is needed: what this proves is that every file points at the others correctly.

Files read (paths relative to the repository root):
  compose/compose.yaml, compose/.env, src/main/docker/Dockerfile, pom.xml,
  observability/prometheus/prometheus.yml, observability/alloy/config.alloy,
  observability/loki/loki.yaml, observability/tempo/tempo.yaml,
  observability/grafana/provisioning/datasources/datasources.yaml,
  observability/grafana/provisioning/dashboards/*.y*ml (when present),
  and JSON log lines the real service printed (--log-sample FILE, one JSON object per line).

Each check prints `ok` or `FAIL` with the reason; the last line is `N passed, N failed`.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"

# The service contract (contract.md): API port, management port, OTLP gRPC port.
SHOP_API_PORT = 8080
SHOP_MGMT_PORT = 9000
OTLP_GRPC_PORT = 4317
# Only these container ports may be published, and only on loopback.
PUBLISHED = {"grafana": 3000, "shop": SHOP_API_PORT, "prometheus": 9090}
# One-shot helpers: no healthcheck, others wait for them with service_completed_successfully.
ONE_SHOT = {"healthcheck-tools"}
# Services that keep state and must store it in a named volume (data survives down/up).
STATEFUL = {"postgres": "/var/lib/postgresql/data", "prometheus": "/prometheus", "grafana": "/var/lib/grafana",
            "loki": "/loki", "tempo": "/var/tempo", "alloy": "/var/lib/alloy/data"}
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


def alloy_blocks(text: str) -> list[tuple[str, str, str]]:
    """Top-level components: (component name, label, body)."""
    text = strip_alloy_comments(text)
    out = []
    for m in re.finditer(r'^([a-z_][a-z0-9_.]*)\s+"([^"]+)"\s*\{', text, re.M):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out.append((m.group(1), m.group(2), text[m.end():i - 1]))
    return out


def alloy_attr(body: str, name: str) -> list[str]:
    return re.findall(rf'\b{name}\s*=\s*"([^"]*)"', body)


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
    k8s_shop = ROOT / "k8s/base/shop.yaml"
    if k8s_shop.exists() and user:
        k8s_uid = re.search(r"runAsUser:\s*(\d+)", k8s_shop.read_text())
        c.check("Dockerfile: the image user is the runAsUser of k8s/base/shop.yaml",
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

    # ---- published ports: only three, only on 127.0.0.1
    for name, svc in services.items():
        for spec in svc.get("ports") or []:
            parts = str(spec).split(":")
            ok = len(parts) == 3 and parts[0] == "127.0.0.1" and int(parts[2]) == PUBLISHED.get(name)
            c.check(f"compose: {name} publishes only its UI/API port on 127.0.0.1", ok, str(spec))
    c.check("compose: exactly grafana, shop and prometheus publish ports",
            {n for n, s in services.items() if s.get("ports")} == set(PUBLISHED))

    # ---- volumes: state in named volumes; mounted config files exist
    named = set(compose.get("volumes") or {})
    for name, path in STATEFUL.items():
        mounts = [str(v) for v in services[name].get("volumes") or []]
        c.check(f"compose: {name} keeps {path} in a named volume",
                any(m.split(":")[0] in named and m.split(":")[1] == path for m in mounts), str(mounts))
    for name, svc in services.items():
        for v in svc.get("volumes") or []:
            src = str(v).split(":")[0]
            if src.startswith("."):
                c.check(f"compose: {name} mounts an existing path {src}", (COMPOSE_DIR / src).exists())

    # ---- the shop container: contract env, read-only root, tmpfs /tmp
    shop = services["shop"]
    shop_env = shop["environment"]
    jdbc = re.match(r"jdbc:postgresql://([^:/]+):(\d+)/(\w+)", shop_env["QUARKUS_DATASOURCE_JDBC_URL"])
    c.check("shop: JDBC URL points at the postgres service on 5432 and its database",
            bool(jdbc) and jdbc.group(1) == "postgres" and jdbc.group(2) == "5432"
            and jdbc.group(3) == services["postgres"]["environment"]["POSTGRES_DB"])
    otlp_host, otlp_port = host_port(shop_env["QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT"])
    c.check("shop: OTLP endpoint is alloy:4317 over gRPC",
            otlp_host == "alloy" and otlp_port == OTLP_GRPC_PORT
            and shop_env["QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc")
    c.check("shop: read-only root filesystem with a tmpfs on /tmp",
            shop.get("read_only") is True and any(str(t).split(":")[0] == "/tmp" for t in shop.get("tmpfs", [])))
    hc = " ".join(shop["healthcheck"]["test"])
    c.check("shop: healthcheck probes readiness on the management port",
            f":{SHOP_MGMT_PORT}/q/health/ready" in hc)

    # ---- Prometheus: flags, and scrape targets resolve to compose services and their real ports
    prom_cmd = services["prometheus"]["command"]
    for flag in ("--config.file=/etc/prometheus/prometheus.yml", "--web.enable-remote-write-receiver",
                 "--enable-feature=exemplar-storage", "--storage.tsdb.retention.time=7d", "--web.enable-lifecycle"):
        c.check(f"prometheus: started with {flag}", flag in prom_cmd)
    loki_cfg = yaml.safe_load((ROOT / "observability/loki/loki.yaml").read_text())
    tempo_cfg = yaml.safe_load((ROOT / "observability/tempo/tempo.yaml").read_text())
    alloy_text = strip_alloy_comments((ROOT / "observability/alloy/config.alloy").read_text())
    alloy_listen = next(a for a in services["alloy"]["command"] if a.startswith("--server.http.listen-addr="))
    expected_ports = {
        "shop": SHOP_MGMT_PORT, "postgres-exporter": 9187, "grafana": 3000,
        "loki": loki_cfg["server"]["http_listen_port"], "tempo": tempo_cfg["server"]["http_listen_port"],
        "alloy": host_port(alloy_listen.split("=", 1)[1])[1], "localhost": 9090,
    }
    prom_path = ROOT / "observability/prometheus/prometheus.yml"
    if c.check("prometheus: observability/prometheus/prometheus.yml exists", prom_path.exists()):
        prom = yaml.safe_load(prom_path.read_text())
        for job in prom.get("scrape_configs", []):
            for sc in job.get("static_configs", []):
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

    # ---- Alloy: syntax, component references, endpoints, discovery label
    alloy_source = (ROOT / "observability/alloy/config.alloy").read_text()
    try:
        n_blocks = parse_alloy(alloy_source)
        c.check(f"alloy: config.alloy parses ({n_blocks} top-level blocks)", n_blocks > 0)
    except AlloySyntaxError as e:
        c.check("alloy: config.alloy parses", False, str(e))
    for other in sorted((ROOT / "observability/alloy").glob("*.alloy")):
        if other.name != "config.alloy":
            try:
                c.check(f"alloy: {other.name} parses too", parse_alloy(other.read_text()) > 0)
            except AlloySyntaxError as e:
                c.check(f"alloy: {other.name} parses too", False, str(e))
    broken = alloy_source.replace('level   = "level",', 'level   = "level"', 1)
    try:
        parse_alloy(broken)
        c.check("alloy: the parser rejects a missing comma (self-test)", broken == alloy_source, "accepted")
    except AlloySyntaxError:
        c.check("alloy: the parser rejects a missing comma (self-test)", True)
    blocks = alloy_blocks(alloy_text)
    defined = {f"{comp}.{label}" for comp, label, _ in blocks}
    refs = re.findall(r"\b((?:otelcol|loki|discovery|prometheus)\.[a-z_.]+)\.(receiver|input|targets|output)\b",
                      strip_alloy_comments(alloy_text))
    for ref, _field in refs:
        c.check(f"alloy: reference {ref} names a defined component", ref in defined)
    body = {f"{comp}.{label}": b for comp, label, b in blocks}
    receiver = next(b for k, b in body.items() if k.startswith("otelcol.receiver.otlp."))
    grpc = re.search(r"grpc\s*\{([^}]*)\}", receiver)
    c.check("alloy: OTLP gRPC receiver listens on 0.0.0.0:4317 (the shop's endpoint)",
            bool(grpc) and host_port(alloy_attr(grpc.group(1), "endpoint")[0]) == ("0.0.0.0", otlp_port))
    exporter = next(b for k, b in body.items() if k.startswith("otelcol.exporter.otlp."))
    tempo_grpc = tempo_cfg["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    c.check("alloy: traces go to the tempo service on Tempo's OTLP gRPC port",
            host_port(alloy_attr(exporter, "endpoint")[0]) == ("tempo", host_port(tempo_grpc)[1]))
    c.check("alloy: the Tempo exporter uses plain text (insecure) on the compose network",
            re.search(r"insecure\s*=\s*true", exporter) is not None)
    write = next(b for k, b in body.items() if k.startswith("loki.write."))
    loki_url = urlparse(alloy_attr(write, "url")[0])
    c.check("alloy: logs go to the loki service's push API on Loki's HTTP port",
            loki_url.hostname == "loki" and loki_url.port == loki_cfg["server"]["http_listen_port"]
            and loki_url.path == "/loki/api/v1/push")
    label_filter = re.search(r'name\s*=\s*"label"\s*values\s*=\s*\["([^"=]+)=([^"]+)"\]', alloy_text)
    c.check("alloy: discovery keeps containers by a label the shop service carries",
            bool(label_filter) and str(shop.get("labels", {}).get(label_filter.group(1))) == label_filter.group(2))
    c.check("alloy: the Docker socket is mounted read-only",
            "/var/run/docker.sock:/var/run/docker.sock:ro" in services["alloy"]["volumes"])
    c.check("alloy: discovery.relabel sets the `service` label from the compose service name",
            re.search(r'__meta_docker_container_label_com_docker_compose_service"\]\s*target_label\s*=\s*"service"',
                      alloy_text) is not None)
    json_stage = re.search(r"stage\.json\s*\{\s*expressions\s*=\s*\{([^}]*)\}", alloy_text)
    extracted = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', json_stage.group(1))) if json_stage else {}
    labels_stage = re.search(r"stage\.labels\s*\{\s*values\s*=\s*\{([^}]*)\}", alloy_text)
    label_names = re.findall(r"(\w+)\s*=", labels_stage.group(1)) if labels_stage else []
    sm_stage = re.search(r"stage\.structured_metadata\s*\{\s*values\s*=\s*\{([^}]*)\}", alloy_text)
    sm_names = re.findall(r"(\w+)\s*=", sm_stage.group(1)) if sm_stage else []
    c.check("alloy: stream labels are only service and level (low cardinality)", label_names == ["level"],
            f"stage.labels sets {label_names}")
    c.check("alloy: traceId is structured metadata, not a label", "traceId" in sm_names and "traceId" not in label_names)

    # ---- Tempo
    for proto, cfg in tempo_cfg["distributor"]["receivers"]["otlp"]["protocols"].items():
        c.check(f"tempo: OTLP {proto} receiver binds 0.0.0.0 (Tempo >= 2.7 defaults to localhost)",
                host_port(cfg["endpoint"])[0] == "0.0.0.0")
    rw = tempo_cfg["metrics_generator"]["storage"]["remote_write"][0]
    rw_url = urlparse(rw["url"])
    c.check("tempo: metrics generator remote-writes to prometheus:9090/api/v1/write",
            (rw_url.hostname, rw_url.port, rw_url.path) == ("prometheus", 9090, "/api/v1/write"))
    c.check("tempo: remote write sends exemplars", rw.get("send_exemplars") is True)
    processors = tempo_cfg["overrides"]["defaults"]["metrics_generator"]["processors"]
    c.check("tempo: service-graphs, span-metrics and local-blocks processors are enabled",
            {"service-graphs", "span-metrics", "local-blocks"} <= set(processors))
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

    # ---- Grafana data sources
    ds_text = (ROOT / "observability/grafana/provisioning/datasources/datasources.yaml").read_text()
    ds = {d["uid"]: d for d in yaml.safe_load(ds_text)["datasources"]}
    c.check("grafana: data sources have the fixed uids prometheus, loki, tempo", set(ds) == {"prometheus", "loki", "tempo"})
    for uid, port in (("prometheus", 9090), ("loki", loki_cfg["server"]["http_listen_port"]),
                      ("tempo", tempo_cfg["server"]["http_listen_port"])):
        u = urlparse(ds[uid]["url"])
        c.check(f"grafana: {uid} data source URL is the {uid} service on port {port}",
                (u.hostname, u.port) == (uid, port), ds[uid]["url"])
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
    c.check("grafana: exemplars labelled trace_id link to the tempo uid",
            any(e["name"] == "trace_id" and e["datasourceUid"] == "tempo" for e in ex))
    derived = ds["loki"]["jsonData"]["derivedFields"]
    c.check("grafana: Loki derived field reads the structured metadata key Alloy writes, and links to tempo",
            any(d.get("matcherType") == "label" and d["matcherRegex"] in sm_names and d["datasourceUid"] == "tempo"
                for d in derived), f"structured metadata: {sm_names}")
    t2l = ds["tempo"]["jsonData"]["tracesToLogsV2"]
    c.check("grafana: traces -> logs uses loki, filters by trace id and maps service.name to the `service` label",
            t2l["datasourceUid"] == "loki" and t2l.get("filterByTraceID") is True
            and {"key": "service.name", "value": "service"} in t2l["tags"])
    tj = ds["tempo"]["jsonData"]
    c.check("grafana: traces -> metrics and service map use prometheus; node graph on",
            tj["tracesToMetrics"]["datasourceUid"] == "prometheus" and tj["serviceMap"]["datasourceUid"] == "prometheus"
            and tj["nodeGraph"]["enabled"] is True)
    for dash_provider in sorted((ROOT / "observability/grafana/provisioning/dashboards").glob("*.y*ml")):
        for p in yaml.safe_load(dash_provider.read_text()).get("providers", []):
            path = str((p.get("options") or {}).get("path", ""))
            c.check(f"grafana: dashboard provider {p.get('name')} reads the mounted /var/lib/grafana/dashboards",
                    path.startswith("/var/lib/grafana/dashboards"), path)

    # ---- real log lines: the fields the pipeline and the links expect are really printed
    if args.log_sample:
        lines = []
        for raw in args.log_sample.read_text().splitlines():
            raw = raw.strip()
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError:
                    pass
        c.check(f"logs: the sample has JSON lines ({len(lines)})", len(lines) >= 3)
        for key, source in extracted.items():
            field = source or key
            present = [ln for ln in lines if field in ln]
            c.check(f"logs: field `{field}` extracted by Alloy ({key}) appears at the top level of real lines",
                    bool(present), "no line has it; nested under mdc?")
        traced = [ln for ln in lines if "traceId" in ln]
        c.check("logs: traceId values are 32 hex characters (W3C trace id, what Tempo looks up)",
                bool(traced) and all(re.fullmatch(r"[0-9a-f]{32}", ln["traceId"]) for ln in traced))
        # Apply the stage.template mapping (e.g. WARNING -> WARN) the way Alloy would, then check the result.
        tmpl = re.search(r"stage\.template\s*\{[^}]*?source\s*=\s*\"level\"\s*template\s*=\s*`([^`]*)`", alloy_text)
        mapping = {}
        for cond, out in re.findall(r"if ([^}]*)\}\}(\w+)", tmpl.group(1) if tmpl else ""):
            mapping.update({name: out for name in re.findall(r'"(\w+)"', cond)})
        levels = {mapping.get(ln.get("level"), ln.get("level")) for ln in lines}
        c.check("logs: level values (after Alloy's normalisation) form a small fixed set",
                bool(lines) and levels <= LOW_CARDINALITY_LEVELS,
                f"{levels} (raw: {set(ln.get('level') for ln in lines)}, mapping {mapping})")
        c.check("logs: service field is `shop`, the compose service name Alloy uses as `service` label",
                bool(lines) and {ln.get("service") for ln in lines} == {"shop"} and "shop" in services)
        ts_field = extracted.get("ts", "timestamp")
        fmt = re.search(r'stage\.timestamp\s*\{[^}]*format\s*=\s*"([^"]+)"', alloy_text)

        def rfc3339(v: str) -> bool:
            m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", v or "")
            if not m:
                return False
            datetime.fromisoformat(m.group(1))
            return True
        c.check("logs: timestamps parse as RFC3339Nano, the format stage.timestamp expects",
                bool(fmt) and fmt.group(1) == "RFC3339Nano" and all(rfc3339(ln.get(ts_field)) for ln in lines))
    else:
        print("note: no --log-sample given; the log-field checks were skipped")

    # ---- real metrics: exemplars carry the label Grafana's exemplar link is configured with
    if args.metrics_sample:
        exemplar_labels = set()
        for line in args.metrics_sample.read_text().splitlines():
            if " # {" in line:
                exemplar_labels |= set(re.findall(r'(\w+)="', line.split(" # {", 1)[1]))
        c.check("metrics: the service's OpenMetrics output carries exemplars", bool(exemplar_labels))
        names = {e["name"] for e in ex}
        c.check("metrics: exemplarTraceIdDestinations names the exemplar label the service really emits",
                bool(names) and names <= exemplar_labels, f"configured {names}, emitted {exemplar_labels}")

    print(f"compose checks: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
