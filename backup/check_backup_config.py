#!/usr/bin/env python3
"""Static checks of the backup pieces (make backup-check-static; no Docker, no PostgreSQL, seconds).

    python3 backup/check_backup_config.py

1. compose: continuous WAL archiving is on, with archive_timeout <= 60 s (the RPO the README promises) and an
   archive_command that pushes to the stanza the backup container and pgbackrest.conf use; retention is set;
   both containers mount the repository, data and socket volumes where pgbackrest.conf looks for them; the image
   is built from the pinned POSTGRES_IMAGE; Prometheus scrapes the metrics port and path the agent serves;
   the agent's backup interval stays below the age the backup alert fires at.
2. the refusals of pgbackrest-ops.sh restore that come before any pgBackRest call (no CONFIRM=yes over an
   existing database, a malformed or future TARGET_TIME, a running server), run for real with a pgbackrest on
   PATH that fails the test if it is ever called. The restore drill (make test-backup) proves the rest with
   the real pgBackRest.
3. compose/scripts/backup.sh restore refuses while postgres, shop or backup runs (a docker on PATH that records
   its calls), and otherwise hands TARGET_TIME and CONFIRM to a one-off backup container.
Only the standard library and PyYAML. pgBackRest options: https://pgbackrest.org/configuration.html
"""
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("check-backup-config: PyYAML is missing: install the Debian package python3-yaml")

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
COMPOSE = os.path.join(ROOT, "compose")
failures = []


def check(ok, what, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(what)
    return ok


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def mounts(service):
    """{target path: volume name} of a compose service's named-volume mounts."""
    out = {}
    for v in service.get("volumes") or []:
        src, dst = str(v).split(":")[:2]
        out[dst] = src
    return out


def compose_checks():
    env = dict(line.split("=", 1) for line in read("compose", ".env").splitlines() if re.match(r"^[A-Z_]+=", line))
    compose = yaml.safe_load(read("compose", "compose.yaml"))
    services = compose["services"]
    pg, backup = services.get("postgres", {}), services.get("backup")
    if not check(backup is not None, "compose: a backup service exists"):
        return
    conf = configparser.ConfigParser(strict=True, interpolation=None)
    conf.read_string(re.sub(r"(?m)^#.*$", "", read("compose", "postgres", "pgbackrest.conf")))
    stanzas = [s for s in conf.sections() if s != "global"]
    check(len(stanzas) == 1, "pgbackrest.conf: exactly one stanza", str(stanzas))
    stanza = stanzas[0] if stanzas else None
    g = conf["global"] if conf.has_section("global") else {}

    # Continuous archiving and the RPO.
    cmd = [str(x) for x in pg.get("command") or []]
    settings = dict(cmd[i + 1].split("=", 1) for i, x in enumerate(cmd[:-1]) if x == "-c" and "=" in cmd[i + 1])
    check(settings.get("archive_mode") == "on", "postgres: archive_mode=on", str(settings))
    timeout = settings.get("archive_timeout", "")
    check(timeout.isdigit() and 0 < int(timeout) <= 60,
          "postgres: archive_timeout is at most 60 s (RPO <= 60 s)", f"archive_timeout={timeout!r}")
    archive = settings.get("archive_command", "")
    m = re.fullmatch(r"pgbackrest --stanza=(\S+) archive-push %p", archive)
    check(bool(m) and m.group(1) == stanza,
          "postgres: archive_command pushes every WAL segment to the pgbackrest.conf stanza", archive)
    check((backup.get("environment") or {}).get("PGBACKREST_STANZA") == stanza,
          "backup: PGBACKREST_STANZA is the pgbackrest.conf stanza")

    # Retention.
    full = g.get("repo1-retention-full", "")
    check(full.isdigit() and int(full) >= 1, "pgbackrest.conf: repo1-retention-full keeps a bounded number of full backups",
          f"repo1-retention-full={full!r}")
    check(g.get("repo1-retention-full-type", "count") == "count", "pgbackrest.conf: retention counts full backups")

    # Where both containers find the data, the repository and the socket.
    paths = {"repo1-path": g.get("repo1-path"),
             "pg1-path": conf[stanza].get("pg1-path") if stanza else None,
             "pg1-socket-path": conf[stanza].get("pg1-socket-path") if stanza else None}
    for name, svc in (("postgres", pg), ("backup", backup)):
        m_ = mounts(svc)
        for key, path in paths.items():
            check(path in m_ and m_[path] in (compose.get("volumes") or {}),
                  f"{name}: {key} {path} is a named volume mount", str(m_))
        check(svc.get("image") == "${SHOP_POSTGRES_IMAGE}", f"{name}: image is SHOP_POSTGRES_IMAGE", svc.get("image"))
    check(mounts(pg).get(paths["pg1-path"]) == mounts(backup).get(paths["pg1-path"]),
          "postgres and backup mount the same data volume")
    check(mounts(pg).get(paths["repo1-path"]) == mounts(backup).get(paths["repo1-path"]),
          "postgres and backup mount the same repository volume")
    check(backup.get("user") == "postgres", "backup: runs as the postgres user (owner of the data directory)")

    # The image: pinned base, pgbackrest installed.
    dockerfile = read("compose", "postgres", "Dockerfile")
    arg = re.search(r"^ARG POSTGRES_IMAGE=(\S+)$", dockerfile, re.M)
    check(bool(arg) and arg.group(1) == env.get("POSTGRES_IMAGE"), "Dockerfile: default POSTGRES_IMAGE equals .env",
          f"{arg.group(1) if arg else None} vs {env.get('POSTGRES_IMAGE')}")
    check(((pg.get("build") or {}).get("args") or {}).get("POSTGRES_IMAGE") == "${POSTGRES_IMAGE}",
          "postgres: built from POSTGRES_IMAGE of .env")
    check(re.search(r"apk add [^\n]*\bpgbackrest\b", dockerfile) is not None, "Dockerfile: installs pgbackrest")

    # Metrics: the port and path the agent serves are the ones Prometheus scrapes and the healthcheck probes.
    agent = read("compose", "scripts", "backup-agent.sh")
    port = re.search(r"port=\$\{METRICS_PORT:-(\d+)\}", agent)
    served = re.search(r'>"\$dir/www/([\w.]+)"', agent)
    prom = yaml.safe_load(read("observability", "prometheus", "prometheus.yml"))
    jobs = [j for j in prom["scrape_configs"] if j["job_name"] == "pgbackrest"]
    if check(len(jobs) == 1 and port and served, "prometheus: one pgbackrest job; the agent's port and file are found"):
        targets = [t for sc in jobs[0]["static_configs"] for t in sc["targets"]]
        check(targets == [f"backup:{port.group(1)}"], "prometheus: pgbackrest job scrapes backup on the agent's port",
              f"{targets} vs {port.group(1)}")
        check(jobs[0].get("metrics_path") == f"/{served.group(1)}", "prometheus: pgbackrest job reads the served file",
              f"{jobs[0].get('metrics_path')} vs /{served.group(1)}")
        hc = " ".join(backup["healthcheck"]["test"])
        check(f":{port.group(1)}/{served.group(1)}" in hc, "backup: healthcheck probes the metrics file", hc)

    # The schedule leaves room before the age alert fires.
    interval = str((backup.get("environment") or {}).get("BACKUP_INTERVAL_HOURS", ""))
    rules_path = os.path.join(ROOT, "observability", "prometheus", "rules", "shop-backup.yml")
    if os.path.exists(rules_path):
        rules = yaml.safe_load(read("observability", "prometheus", "rules", "shop-backup.yml"))
        exprs = [r["expr"] for grp in rules["groups"] for r in grp["rules"] if r.get("alert") == "PostgresBackupTooOld"]
        hours = re.search(r">\s*(\d+)\s*\*\s*3600", exprs[0]) if exprs else None
        check(bool(hours) and interval.isdigit() and int(interval) < int(hours.group(1)),
              "backup: BACKUP_INTERVAL_HOURS is below the PostgresBackupTooOld threshold",
              f"interval {interval!r}, alert {exprs}")


def guard_checks():
    ops = os.path.join(COMPOSE, "scripts", "pgbackrest-ops.sh")
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir, pgdata, marker = os.path.join(tmp, "bin"), os.path.join(tmp, "data"), os.path.join(tmp, "called")
        os.makedirs(bin_dir)
        os.makedirs(pgdata)
        with open(os.path.join(pgdata, "PG_VERSION"), "w") as f:
            f.write("17\n")
        with open(os.path.join(bin_dir, "pgbackrest"), "w") as f:
            f.write(f"#!/bin/sh\necho \"$@\" >> '{marker}'\nexit 1\n")
        os.chmod(os.path.join(bin_dir, "pgbackrest"), 0o755)
        # A live process named postgres, for the "server running" case (the script looks at /proc/PID/comm).
        shutil.copy(shutil.which("sleep"), os.path.join(bin_dir, "postgres"))
        server = subprocess.Popen([os.path.join(bin_dir, "postgres"), "60"])
        base = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", PGBACKREST_STANZA="shop",
                    PGBACKREST_PG1_PATH=pgdata)
        cases = [
            ("restore without CONFIRM=yes over an existing database", {}, "set CONFIRM=yes"),
            ("restore with a malformed TARGET_TIME", {"CONFIRM": "yes", "TARGET_TIME": "yesterday"},
             "is not 'YYYY-MM-DD HH:MM:SS'"),
            ("restore to a TARGET_TIME in the future", {"CONFIRM": "yes", "TARGET_TIME": "2999-01-01 00:00:00"},
             "is in the future"),
            ("restore under a running server", {"CONFIRM": "yes", "PID": str(server.pid)}, "PostgreSQL is running"),
            # A crashed server's postmaster.pid names a pid that is no postgres (here: this test's own process).
            ("restore without CONFIRM=yes over a crashed server's data", {"PID": str(os.getpid())}, "set CONFIRM=yes"),
        ]
        for what, extra, expect in cases:
            pid = os.path.join(pgdata, "postmaster.pid")
            if "PID" in extra:
                with open(pid, "w") as f:
                    f.write(extra.pop("PID") + "\n" + pgdata + "\n")
            elif os.path.exists(pid):
                os.remove(pid)
            p = subprocess.run(["sh", ops, "restore"], env=dict(base, **extra), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=30)
            called = os.path.exists(marker)
            check(p.returncode != 0 and expect in p.stdout and not called,
                  f"pgbackrest-ops.sh refuses {what} before calling pgbackrest",
                  f"exit {p.returncode}, pgbackrest called: {called}, output: {p.stdout.strip()}")
            if called:
                os.remove(marker)
        server.kill()
        server.wait()


def wrapper_checks():
    """compose/scripts/backup.sh restore against a running stack refuses before starting any container."""
    script = os.path.join(COMPOSE, "scripts", "backup.sh")
    with tempfile.TemporaryDirectory() as tmp:
        calls = os.path.join(tmp, "calls")
        with open(os.path.join(tmp, "docker"), "w") as f:
            # `docker compose ... ps --status running --quiet SERVICE` prints an id for the services in FAKE_RUNNING.
            f.write(f"""#!/bin/sh
echo "$*" >> '{calls}'
case "$*" in
  *" ps --status running --quiet "*)
    for s in $FAKE_RUNNING; do [ "${{*##* }}" = "$s" ] && echo 0123456789ab; done ;;
esac
exit 0
""")
        os.chmod(os.path.join(tmp, "docker"), 0o755)
        env = dict(os.environ, PATH=f"{tmp}:{os.environ['PATH']}", CONFIRM="yes")
        for running in ("postgres", "shop", "backup"):
            open(calls, "w").close()
            p = subprocess.run(["bash", script, "restore"], env=dict(env, FAKE_RUNNING=running),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
            with open(calls) as f:
                ran = [c for c in f.read().splitlines() if " run " in f" {c} "]
            check(p.returncode != 0 and f"{running} is running" in p.stdout and not ran,
                  f"backup.sh restore refuses while {running} runs, before starting a container",
                  f"exit {p.returncode}, containers started: {ran}, output: {p.stdout.strip()}")
        open(calls, "w").close()
        p = subprocess.run(["bash", script, "restore"], env=dict(env, FAKE_RUNNING="", TARGET_TIME="2026-01-02 03:04:05"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        with open(calls) as f:
            ran = [c for c in f.read().splitlines() if " run " in f" {c} "]
        check(p.returncode == 0 and len(ran) == 1 and "--entrypoint pgbackrest-ops backup restore" in ran[0]
              and "TARGET_TIME=2026-01-02 03:04:05" in ran[0] and "CONFIRM=yes" in ran[0],
              "backup.sh restore with the stack stopped runs pgbackrest-ops restore in a one-off backup container",
              f"exit {p.returncode}, calls: {ran}, output: {p.stdout.strip()}")


def main():
    compose_checks()
    guard_checks()
    wrapper_checks()
    if failures:
        sys.exit(f"check-backup-config: {len(failures)} check(s) failed")
    print("check-backup-config: all checks passed")


if __name__ == "__main__":
    main()
