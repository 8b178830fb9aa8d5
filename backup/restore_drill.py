#!/usr/bin/env python3
"""Restore drill: a point-in-time recovery with the real backup tool, proven through the shop's API.

    python3 backup/restore_drill.py          (make test-backup)

All on loopback, with Debian's PostgreSQL server binaries and Debian's pgBackRest, through the same
compose/scripts/pgbackrest-ops.sh that `make backup` / `make restore` run in the compose stack:
  1. PostgreSQL (src/test/scripts/local-service.sh) with archive_mode=on, archive_command = pgbackrest
     archive-push, archive_timeout = ARCHIVE_TIMEOUT (10 s here; the compose stack uses 60 s); the packaged
     service on top of it;
  2. products and orders through the API; a full base backup; more orders; time T noted; one order after T;
  3. the mistake: every order line deleted (visible through the API);
  4. RPO: how long after that commit its WAL segment reached the repository, with no forced WAL switch;
  5. the guards: a restore under the running server, without CONFIRM=yes, and to a time before the first backup
     are refused and change nothing;
  6. restore to T, PostgreSQL replays WAL and promotes, the service starts on it; through the API every order
     placed before T is back exactly as it was created, the order placed after T does not exist, stock is as it
     was at T, and a new order can be placed (the database is writable). RTO = stop to serving again;
  7. on a real Prometheus (Debian's, with the repository's prometheus.yml): every query of the PostgreSQL
     dashboard's Backups row returns data, the archive failure counter rises while archive_command fails, and the
     backup alert expressions evaluate;
  8. a corrupted backup file and then a missing WAL segment: `check` and `restore` refuse with a clear message
     and change nothing.
What PostgreSQL (the postgres user) reads lives in a 0700 temporary folder it owns, never under the repository.
Only the Python standard library. pgBackRest: https://pgbackrest.org/command.html
"""
import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OPS = os.path.join(ROOT, "compose", "scripts", "pgbackrest-ops.sh")
LOCAL_SERVICE = os.path.join(ROOT, "src", "test", "scripts", "local-service.sh")
API_PORT = int(os.environ.get("API_PORT", "25080"))
MGMT_PORT = int(os.environ.get("MGMT_PORT", "25900"))
PG_PORT = int(os.environ.get("PG_PORT", "15438"))
PROM_PORT = int(os.environ.get("PROM_PORT", "25090"))
PGEXP_PORT = int(os.environ.get("PGEXP_PORT", "25187"))
METRICS_PORT = int(os.environ.get("BACKUP_METRICS_PORT", "25854"))
DASHBOARD = os.path.join(ROOT, "observability", "grafana", "dashboards", "shop-postgres.json")
BACKUP_RULES = os.path.join(ROOT, "observability", "prometheus", "rules", "shop-backup.yml")
ARCHIVE_TIMEOUT = int(os.environ.get("ARCHIVE_TIMEOUT", "10"))
API = f"http://127.0.0.1:{API_PORT}"
STANZA = "shop"
AS_ROOT = os.geteuid() == 0


def log(msg):
    print(f"restore-drill: {msg}", flush=True)


class DrillFailed(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise DrillFailed(msg)


def pg_bin():
    dirs = sorted((d for d in os.listdir("/usr/lib/postgresql") if d.isdigit()), key=int) \
        if os.path.isdir("/usr/lib/postgresql") else []
    require(dirs, "no PostgreSQL server binaries under /usr/lib/postgresql (install the Debian package postgresql)")
    return f"/usr/lib/postgresql/{dirs[-1]}/bin"


# Writes authenticate (README "Authentication") with the keys local-service.sh made in LOCAL_DIR/auth; set by Drill.
CREDENTIALS = None


def http(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if method != "GET":
        role = "admin" if path.startswith("/api/products") else "client"
        with open(os.path.join(CREDENTIALS, role), encoding="utf-8") as f:
            headers["Authorization"] = "Bearer " + f.read().strip()
    req = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


class Drill:
    def __init__(self):
        # Not under TMPDIR as root: that may be private to root, and the postgres user works in here.
        self.work = tempfile.mkdtemp(prefix="shop-restore-drill-", dir="/tmp" if AS_ROOT else None)
        os.chmod(self.work, 0o700)
        self.local = os.path.join(self.work, "local")
        global CREDENTIALS
        CREDENTIALS = os.path.join(self.local, "auth", "credentials")
        self.pgdata = None  # local-service.sh makes PostgreSQL's directory at first start (see write_conf)
        self.repo = os.path.join(self.work, "repo")
        self.conf = os.path.join(self.work, "pgbackrest.conf")
        self.ops = os.path.join(self.work, "pgbackrest-ops.sh")
        self.bin = pg_bin()
        os.makedirs(self.local)
        shutil.copy(OPS, self.ops)
        # A private copy of the packaged service, so a concurrent `mvn package` cannot pull jars away mid-drill.
        jar_dir = os.path.join(ROOT, "target", "quarkus-app")
        require(os.path.isfile(os.path.join(jar_dir, "quarkus-run.jar")), "target/quarkus-app/quarkus-run.jar is missing: run make build")
        shutil.copytree(jar_dir, os.path.join(self.work, "quarkus-app"))
        self.jar = os.path.join(self.work, "quarkus-app", "quarkus-run.jar")
        self.write_conf("/nonexistent", self.local)
        self.env = dict(os.environ, PGBACKREST_CONFIG=self.conf, PGBACKREST_STANZA=STANZA, PGPASSWORD="shop",
                        PATH=f"{self.bin}:{os.environ.get('PATH', '')}")
        self.pg_opts = (f"-c archive_mode=on -c archive_timeout={ARCHIVE_TIMEOUT} "
                        f"-c archive_command='pgbackrest --config={self.conf} --stanza={STANZA} archive-push %p'")
        self.own()

    def write_conf(self, pgdata, socket_dir):
        with open(self.conf, "w") as f:
            # https://pgbackrest.org/configuration.html
            f.write(f"""[global]
repo1-path={self.repo}
repo1-retention-full=2
lock-path={self.work}/lock
log-path={self.work}/log
spool-path={self.work}/spool
log-level-file=off
start-fast=y

[{STANZA}]
pg1-path={pgdata}
pg1-port={PG_PORT}
pg1-socket-path={socket_dir}
pg1-user=shop
""")

    def own(self):
        if AS_ROOT:
            pw = pwd.getpwnam("postgres")
            for d, dirs, files in os.walk(self.work):
                for name in [d] + [os.path.join(d, x) for x in dirs + files]:
                    os.lchown(name, pw.pw_uid, pw.pw_gid)

    def as_pg(self, args):
        return (["runuser", "-u", "postgres", "--"] if AS_ROOT else []) + args

    def ops_run(self, *args, **extra_env):
        """pgbackrest-ops.sh as the postgres user; returns (exit code, combined output)."""
        self.own()
        p = subprocess.run(self.as_pg(["sh", self.ops, *args]), env=dict(self.env, **extra_env),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        return p.returncode, p.stdout.strip()

    def ops_ok(self, *args, **extra_env):
        rc, out = self.ops_run(*args, **extra_env)
        require(rc == 0, f"pgbackrest-ops.sh {' '.join(args)} failed (exit {rc}): {out}")
        return out

    def service(self, action):
        # PGBACKREST_* reach the server too: the restore_command pgBackRest writes relies on them.
        env = dict(self.env, API_PORT=str(API_PORT), MGMT_PORT=str(MGMT_PORT), PG_PORT=str(PG_PORT),
                   LOCAL_DIR=self.local, PG_BIN=self.bin, PG_OPTS=self.pg_opts,
                   JAR=self.jar, QUARKUS_OTEL_SDK_DISABLED="true", READY_TIMEOUT="240",
                   # a busy CI machine can take more than the default 3 s for Flyway's first connection
                   QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT="30S")
        # Beyond READY_TIMEOUT for PostgreSQL's recovery plus the service's start, so local-service.sh says why.
        p = subprocess.run([LOCAL_SERVICE, action], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=600)
        require(p.returncode == 0, f"local-service.sh {action} failed: {p.stdout.strip()}")

    def sql(self, query):
        p = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "shop", "-d", "shop", "-tAc", query],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        require(p.returncode == 0, f"psql failed: {p.stdout.strip()}")
        return p.stdout.strip()

    def snapshot(self):
        """Fingerprint of the data directory (every path, size and mtime): proves a refused restore changed nothing."""
        h = hashlib.sha256()
        for d, dirs, files in sorted(os.walk(self.pgdata)):
            dirs.sort()
            for name in sorted(files):
                st = os.lstat(os.path.join(d, name))
                h.update(f"{os.path.join(d, name)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    def refused(self, what, expect, *args, live=False, **extra_env):
        """The command fails with its message and leaves the data directory as it was (a live server changes its
        own files meanwhile, so there the proof is that pgBackRest was never started: no output of its own)."""
        before = self.snapshot()
        rc, out = self.ops_run(*args, **extra_env)
        require(rc != 0, f"{what}: expected a refusal, but it exited 0: {out}")
        require(expect in out, f"{what}: refused, but without the expected message '{expect}': {out}")
        if live:
            require(len(out.splitlines()) == 1, f"{what}: refused, but only after running more: {out}")
        else:
            require(self.snapshot() == before, f"{what}: refused, but the data directory changed")
        log(f"refused as expected ({what}): {out.splitlines()[-1]}")

    # --- the drill -----------------------------------------------------------------------------------------
    def place_orders(self, products, count, tag):
        orders = []
        for i in range(count):
            lines = [{"productId": products[(i + k) % len(products)], "quantity": 1 + (i + k) % 3} for k in range(1 + i % 3)]
            status, body = http("POST", "/api/orders", {"lines": lines})
            require(status == 201, f"placing order {tag}{i}: HTTP {status} {body}")
            orders.append(body)
        return orders

    def run(self):
        log(f"work folder {self.work} (0700, owned by {'postgres' if AS_ROOT else 'you'}), pgBackRest "
            f"{subprocess.run(['pgbackrest', 'version'], stdout=subprocess.PIPE, text=True).stdout.strip()}")
        self.service("start")
        # local-service.sh keeps PostgreSQL's files in a directory of their own, named in LOCAL_DIR/pg-dir; archive
        # attempts before the stanza exists fail and are retried by PostgreSQL, so nothing is lost meanwhile.
        with open(os.path.join(self.local, "pg-dir")) as f:
            pg_dir = f.read().strip()
        self.pgdata = os.path.join(pg_dir, "data")
        self.write_conf(self.pgdata, pg_dir)
        log(self.ops_ok("init"))

        products = []
        for i in range(4):
            status, body = http("POST", "/api/products", {"sku": f"DRILL-{i}", "name": f"Drill item {i}",
                                                         "priceCents": 100 * (i + 1) + 5, "stock": 1000})
            require(status == 201, f"creating product {i}: HTTP {status} {body}")
            products.append(body["id"])
        before_backup = self.place_orders(products, 6, "a")
        out = self.ops_ok("backup", "full")
        log(out)
        after_backup = self.place_orders(products, 6, "b")
        kept = before_backup + after_backup
        stock_at_t = {p: http("GET", f"/api/products/{p}")[1]["stock"] for p in products}
        time.sleep(1.2)  # T falls strictly between the last kept commit and the next one
        target = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        time.sleep(1.2)
        log(f"T = {target} UTC ({len(kept)} orders placed before it, 6 of them after the base backup)")
        after_t = self.place_orders(products, 1, "c")[0]

        # The destructive mistake, and proof that the API shows it.
        deleted = self.sql("WITH d AS (DELETE FROM order_line RETURNING 1) SELECT count(*) FROM d")
        mistake_at = time.monotonic()
        mistake_wal = self.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        status, body = http("GET", f"/api/orders/{kept[0]['id']}")
        require(status == 200 and body["lines"] == [], f"the mistake is not visible through the API: {status} {body}")
        log(f"mistake: DELETE FROM order_line removed {deleted} lines; GET /api/orders/{kept[0]['id']} shows no lines")

        # RPO: no forced switch; archive_timeout closes the segment, archive_command stores it.
        deadline = mistake_at + 3 * ARCHIVE_TIMEOUT + 30
        while True:
            archived = self.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            if archived[:24] >= mistake_wal and archived[:8] == mistake_wal[:8]:
                break
            require(time.monotonic() < deadline, f"WAL segment {mistake_wal} was not archived within "
                                                 f"{3 * ARCHIVE_TIMEOUT + 30} s (archive_timeout {ARCHIVE_TIMEOUT} s)")
            time.sleep(0.2)
        rpo = time.monotonic() - mistake_at
        log(f"RPO: the mistake's WAL segment {mistake_wal} was in the repository {rpo:.1f} s after its commit "
            f"(archive_timeout {ARCHIVE_TIMEOUT} s)")

        self.refused("restore under a running server", "PostgreSQL is running", "restore", live=True,
                     TARGET_TIME=target, CONFIRM="yes")
        t_stop = time.monotonic()
        self.service("pause")
        stop_s = time.monotonic() - t_stop
        self.refused("restore without CONFIRM=yes", "set CONFIRM=yes", "restore", TARGET_TIME=target)
        self.refused("restore to before the first backup", "is not after the oldest backup", "restore",
                     TARGET_TIME="2000-01-01 00:00:00", CONFIRM="yes")

        t_restore = time.monotonic()
        log(self.ops_ok("restore", TARGET_TIME=target, CONFIRM="yes").splitlines()[-1])
        restore_s = time.monotonic() - t_restore
        # local-service.sh waits until recovery reached T and the server was promoted, then starts the service.
        t_pg = time.monotonic()
        self.service("start")
        start_s = time.monotonic() - t_pg
        total = stop_s + restore_s + start_s
        require(self.sql("SELECT pg_is_in_recovery()") == "f", "the restored server is still in recovery")
        log(f"RTO: {total:.1f} s from stopping the damaged database to the API serving again (stop {stop_s:.1f} s, "
            f"check + restore {restore_s:.1f} s, WAL replay to T + promotion + service start {start_s:.1f} s)")

        for order in kept:
            status, body = http("GET", f"/api/orders/{order['id']}")
            require(status == 200, f"order {order['id']} (placed before T) is missing after the restore: HTTP {status}")
            require(body == order, f"order {order['id']} differs after the restore:\n  before {order}\n  after  {body}")
        status, body = http("GET", f"/api/orders/{after_t['id']}")
        require(status == 404, f"order {after_t['id']} was placed after T but exists after the restore: HTTP {status}")
        for p, stock in stock_at_t.items():
            got = http("GET", f"/api/products/{p}")[1]["stock"]
            require(got == stock, f"product {p}: stock {got} after the restore, {stock} at T")
        status, body = http("POST", "/api/orders", {"lines": [{"productId": products[0], "quantity": 1}]})
        require(status == 201, f"the restored database does not take a new order: HTTP {status} {body}")
        log(f"through the API: all {len(kept)} orders placed before T are back with their lines, totals and "
            f"timestamps; the order placed after T is absent; stock is as at T; new orders are accepted")
        self.observe()
        self.service("pause")

        info = subprocess.run(self.as_pg(["pgbackrest", f"--stanza={STANZA}", "--output=json", "info"]),
                              env=self.env, stdout=subprocess.PIPE, text=True, timeout=60).stdout
        size = json.loads(info)[0]["backup"][-1]["info"]
        self.corruption()
        log(f"summary: RPO {rpo:.1f} s (archive_timeout {ARCHIVE_TIMEOUT} s); RTO {total:.1f} s (restore "
            f"{restore_s:.1f} s, the rest is starting PostgreSQL and the service); backup of the drill's database {size['size'] / 1e6:.1f} MB, "
            f"{size['repository']['size'] / 1e6:.1f} MB in the repository (gzip)")

    def observe(self):
        """The dashboard's Backups row and the backup alerts' inputs return data on a real Prometheus.

        Prometheus (Debian's) scrapes, with the repository's prometheus.yml (gen_local_config.py keeps the jobs
        whose targets run here): Debian's postgres-exporter on this PostgreSQL (pg_stat_archiver_*), and
        `pgbackrest-ops.sh metrics` served over HTTP as the backup container's busybox httpd serves it.
        """
        work = os.path.join(self.work, "prometheus")
        os.makedirs(work)
        drill = self

        class Metrics(BaseHTTPRequestHandler):
            def do_GET(self):
                rc, out = drill.ops_run("metrics")
                body = (out + "\n").encode()
                self.send_response(200 if rc == 0 and self.path == "/metrics.txt" else 500)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        archive_dir = os.path.join(self.repo, "archive", STANZA)
        server = ThreadingHTTPServer(("127.0.0.1", METRICS_PORT), Metrics)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        procs = []
        try:
            dsn = f"postgresql://shop:shop@127.0.0.1:{PG_PORT}/shop?sslmode=disable"
            procs.append(subprocess.Popen(["prometheus-postgres-exporter", f"--web.listen-address=127.0.0.1:{PGEXP_PORT}"],
                                          env=dict(os.environ, DATA_SOURCE_NAME=dsn), stdout=subprocess.DEVNULL,
                                          stderr=open(os.path.join(work, "exporter.log"), "w")))
            config = os.path.join(work, "prometheus.yml")
            subprocess.run([sys.executable, os.path.join(ROOT, "observability", "tests", "gen_local_config.py"),
                            os.path.join(ROOT, "observability", "prometheus", "prometheus.yml"), "--interval", "2s",
                            "--target", f"backup:9854=127.0.0.1:{METRICS_PORT}",
                            "--target", f"postgres-exporter:9187=127.0.0.1:{PGEXP_PORT}", "-o", config],
                           check=True, stderr=subprocess.DEVNULL)
            procs.append(subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                                           f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w")))

            def query(expr):
                url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
                try:
                    with urllib.request.urlopen(url, timeout=10) as r:
                        doc = json.loads(r.read())
                except (urllib.error.URLError, OSError, ValueError) as e:
                    return None, str(e)
                return doc["data"]["result"], None

            with open(DASHBOARD) as f:
                panels = json.load(f)["panels"]
            rows = [i for i, p in enumerate(panels) if p["type"] == "row"]
            start = next((i for i in rows if panels[i]["title"] == "Backups"), None)
            require(start is not None, "the PostgreSQL dashboard has no Backups row")
            end = next((i for i in rows if i > start), len(panels))
            # $environment: compose, the label prometheus.yml gives every compose target (the scrape config used here).
            exprs = [(p["title"], t["expr"].replace("$service", "postgres-exporter").replace("$instance", ".*")
                      .replace("$environment", "compose").replace("$__rate_interval", "30s"))
                     for p in panels[start + 1:end] for t in p["targets"]]
            require(exprs, "the Backups row has no queries")
            # The alerts' inputs: the archive failure counter must move when archive-push fails (the repository's
            # WAL folders made read-only, as a full or broken repository would behave).
            for d, _, _ in os.walk(archive_dir):
                os.chmod(d, 0o500)
            self.sql("CREATE TABLE drill_wal_marker AS SELECT 1 AS x")
            self.sql("SELECT pg_switch_wal()")
            exprs.append(("archive failures seen (PostgresWalArchivingFailing input)",
                          "increase(pg_stat_archiver_failed_count[1m]) > 0"))
            deadline, pending = time.monotonic() + 90, list(exprs)
            while pending and time.monotonic() < deadline:
                time.sleep(2)
                pending = [(t, e) for t, e in pending if not (query(e)[0] or [])]
            require(not pending, "no data on a real Prometheus for: " + "; ".join(f"{t}: {e}" for t, e in pending))
            with open(BACKUP_RULES) as f:
                alert_exprs = re.findall(r"(?m)^        expr: \|\n((?:          .*\n)+)", f.read())
            require(len(alert_exprs) == 2, f"expected the 2 backup alert expressions in {BACKUP_RULES}")
            for e in alert_exprs:
                result, err = query(" ".join(e.split()))
                require(result is not None, f"Prometheus rejects a backup alert expression: {err}")
            age = float(query("max(time() - pgbackrest_backup_last_completion_timestamp_seconds)")[0][0]["value"][1])
            require(0 <= age < 3600, f"backup age {age:.0f} s: the metric does not describe the backup just taken")
            log(f"on a real Prometheus: {len(exprs)} queries of the Backups row and the archive-failure input return "
                f"data (newest backup {age:.0f} s old); both backup alert expressions evaluate")
        finally:
            for d, _, _ in os.walk(archive_dir):
                os.chmod(d, 0o750)
            # The segment that failed is archived on the next attempt; the WAL archive must stay without a gap.
            deadline = time.monotonic() + 120
            while self.sql("SELECT coalesce(last_archived_wal >= last_failed_wal, true) FROM pg_stat_archiver") != "t":
                require(time.monotonic() < deadline, "archiving did not recover after archive_command was reset")
                time.sleep(1)
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            server.shutdown()

    def corruption(self):
        backup_dir = os.path.join(self.repo, "backup", STANZA)
        labels = sorted(d for d in os.listdir(backup_dir) if d[:8].isdigit())
        require(labels, "no backup folder found in the repository")
        files = []
        for d, _, names in os.walk(os.path.join(backup_dir, labels[-1], "pg_data")):
            files += [os.path.join(d, n) for n in names if os.path.getsize(os.path.join(d, n)) > 64]
        require(files, "no backup file to corrupt")
        victim = max(files, key=os.path.getsize)
        original = open(victim, "rb").read()
        damaged = bytearray(original)
        for i in range(len(damaged) // 2, len(damaged) // 2 + 8):
            damaged[i] ^= 0xFF
        with open(victim, "wb") as f:
            f.write(damaged)
        rel = os.path.relpath(victim, self.repo)
        self.refused(f"check with 8 flipped bytes in {rel}", "the backup repository is corrupt", "check")
        self.refused("restore from that backup", "the backup repository is corrupt", "restore", CONFIRM="yes")
        with open(victim, "wb") as f:
            f.write(original)
        log(self.ops_ok("check"))

        wal_dir = os.path.join(self.repo, "archive", STANZA)
        segments = sorted(os.path.join(d, n) for d, _, names in os.walk(wal_dir) for n in names
                          if len(n) > 24 and n[:8] == "00000001" and n[24] == "-")
        require(len(segments) >= 3, f"expected at least 3 archived WAL segments on timeline 1, found {len(segments)}")
        victim = segments[len(segments) // 2]
        hidden = os.path.join(self.work, "hidden-segment")
        shutil.move(victim, hidden)
        self.refused(f"check without WAL segment {os.path.basename(victim)[:24]}", "the WAL archive has a gap", "check")
        self.refused("restore across that gap", "the WAL archive has a gap", "restore", CONFIRM="yes")
        shutil.move(hidden, victim)


def main():
    require(shutil.which("pgbackrest"), "pgbackrest not found: install the Debian package pgbackrest")
    require(shutil.which("psql"), "psql not found: install the Debian package postgresql-client")
    drill = Drill()
    ok = False
    try:
        drill.run()
        ok = True
    finally:
        try:
            drill.service("stop")
        except DrillFailed as e:
            log(str(e))
        if not ok:
            logs = os.path.join(ROOT, "target", "restore-drill-logs")
            shutil.rmtree(logs, ignore_errors=True)
            os.makedirs(logs)
            for d, _, names in os.walk(drill.work):
                for n in names:
                    if n.endswith(".log"):
                        shutil.copy(os.path.join(d, n), os.path.join(logs, n))
            log(f"logs of PostgreSQL, the service, Prometheus and the exporter: {os.path.relpath(logs, ROOT)}/")
        shutil.rmtree(drill.work, ignore_errors=True)
    log("passed")


if __name__ == "__main__":
    try:
        main()
    except DrillFailed as e:
        print(f"restore-drill: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
