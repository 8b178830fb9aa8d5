#!/usr/bin/env bash
# Start or stop the packaged service on a throwaway PostgreSQL, on loopback only.
# Used by the live verification, the Gatling smoke/capacity runs and the benchmarks: nothing here needs Docker.
#
#   src/test/scripts/local-service.sh start   # initdb + postgres + java -jar, waits until /q/health/ready is UP
#   src/test/scripts/local-service.sh stop    # stops both (also on a half-started run)
#   src/test/scripts/local-service.sh status
#   src/test/scripts/local-service.sh start-db          # only PostgreSQL (database shop, user shop, password shop)
#   src/test/scripts/local-service.sh service-restart   # restart only the service (new env), PostgreSQL keeps running
#   src/test/scripts/local-service.sh pause             # stop both but keep the database (start resumes it; the restore drill)
#
# Environment (all optional): API_PORT (8080), MGMT_PORT (9000), PG_PORT (15432), LOCAL_DIR (target/local-$API_PORT),
# JAR (target/quarkus-app/quarkus-run.jar), JAVA (java), JAVA_OPTS, READY_POLL (seconds between readiness polls,
# 0.1), and any QUARKUS_* / DEPLOYMENT_ENVIRONMENT variable, passed
# through to the service (e.g. QUARKUS_OTEL_SDK_DISABLED=true, QUARKUS_OTEL_TRACES_SAMPLER_ARG=0.1).
# READY_TIMEOUT (60): seconds to wait for the service's readiness (and for a restored database's recovery).
# API keys: the service reads SHOP_API_KEYS_FILE; unset, `start` makes keys once in $LOCAL_DIR/auth (compose/scripts/api-keys.sh)
# and uses them: callers that write read the plain keys from $LOCAL_DIR/auth/credentials/admin and .../client.
# PG_OPTS adds server settings to PostgreSQL's command line (e.g. "-c archive_mode=on", used by the restore drill).
# Fixed ports used by the make targets all sit below 32768, outside Linux's ephemeral range (32768-60999), so an
# outgoing connection's local port can never be holding one of them when a server binds.
# PostgreSQL comes from PG_BIN (default: the newest /usr/lib/postgresql/*/bin, or Homebrew's, or initdb on PATH); as
# root it runs as user postgres.
# The server's own files (data directory, password file, socket, log) live in a directory of their own under /tmp,
# owned by the user the server runs as, never in LOCAL_DIR: as root that user is postgres, which cannot enter a
# clone inside a private folder (mode 0700, such as /root). $LOCAL_DIR/pg-dir names that directory, and
# $LOCAL_DIR/pgdata links to its data directory; `stop` deletes it and keeps its log as $LOCAL_DIR/postgres.log.
set -euo pipefail

cd "$(dirname "$0")/../../.."
API_PORT=${API_PORT:-8080}
MGMT_PORT=${MGMT_PORT:-9000}
PG_PORT=${PG_PORT:-15432}
LOCAL_DIR=${LOCAL_DIR:-target/local-$API_PORT}
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
READY_TIMEOUT=${READY_TIMEOUT:-60}
mkdir -p "$LOCAL_DIR"
LOCAL_DIR=$(cd "$LOCAL_DIR" && pwd)
PG_POINTER="$LOCAL_DIR/pg-dir"
SERVICE_LOG="$LOCAL_DIR/service.log"
SERVICE_PID="$LOCAL_DIR/service.pid"

die() { echo "local-service: $*" >&2; exit 1; }

# The same places toolchain/tools.tsv looks in: Debian's versioned directories, Homebrew's postgresql@N, then PATH.
# `make run-local` and the test targets install or name a missing server first (toolchain/tools.sh require).
pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local d
  d=$(printf "%s\n" /usr/lib/postgresql/*/bin /opt/homebrew/opt/postgresql@*/bin /usr/local/opt/postgresql@*/bin |
    grep -v "\*" | sort -V | tail -n 1 || true)
  if [ -z "$d" ] && command -v initdb >/dev/null; then d=$(dirname "$(command -v initdb)"); fi
  [ -n "$d" ] || die "no PostgreSQL server binaries found (make doctor says how to get them), or set PG_BIN"
  echo "$d"
}

# The directory PostgreSQL's files live in (see the header), made on first use; empty when there is none yet.
PG_DIR=""
PGDATA=""
pg_dir_load() {
  PG_DIR=""
  [ -f "$PG_POINTER" ] && PG_DIR=$(cat "$PG_POINTER")
  [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || PG_DIR=""
  PGDATA=${PG_DIR:+$PG_DIR/data}
}
pg_dir_make() {
  pg_dir_load
  [ -n "$PG_DIR" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    # Not under TMPDIR: that may itself be private to root.
    PG_DIR=$(mktemp -d /tmp/shop-pg.XXXXXX)
    chown postgres: "$PG_DIR"
  else
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shop-pg.XXXXXX")
  fi
  echo "$PG_DIR" >"$PG_POINTER"
  PGDATA="$PG_DIR/data"
  # For readers of LOCAL_DIR (loadtest.sh reads postmaster.pid); a data directory left by an older run goes.
  rm -rf "$LOCAL_DIR/pgdata"
  ln -s "$PGDATA" "$LOCAL_DIR/pgdata"
}
pg_dir_remove() {
  pg_dir_load
  [ -n "$PG_DIR" ] || return 0
  [ -f "$PG_DIR/postgres.log" ] && cp "$PG_DIR/postgres.log" "$LOCAL_DIR/postgres.log"
  rm -rf "$PG_DIR"
  rm -f "$PG_POINTER" "$LOCAL_DIR/pgdata"
}

# Run a PostgreSQL binary as the invoking user, or as postgres when we are root (initdb refuses root), from
# inside PG_DIR: PostgreSQL's binaries change back to their working directory, which postgres may not enter.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$PG_DIR" && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_pg() {
  local bin; bin=$(pg_bin)
  pg_dir_make
  if ! as_pg "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 && port_in_use "$PG_PORT"; then
    die "port $PG_PORT on 127.0.0.1 is already in use by another PostgreSQL or program; set PG_PORT"
  fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    echo "local-service: initdb in $PGDATA"
    printf 'shop\n' >"$PG_DIR/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR/pwfile"
    as_pg "$bin/initdb" -D "$PGDATA" -U shop --pwfile="$PG_DIR/pwfile" -A scram-sha-256 -E UTF8 >/dev/null
    rm -f "$PG_DIR/pwfile"
  fi
  echo "local-service: PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 ||
  as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PG_DIR/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200 -c fsync=off ${PG_OPTS:-}" start >/dev/null
  # A data directory restored from a backup replays WAL first (read-only); wait until it accepts writes.
  local i
  for i in $(seq 1 $((READY_TIMEOUT * 2))); do
    [ "$(PGPASSWORD=shop as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U shop -d postgres -tAc "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && break
    [ "$i" -lt $((READY_TIMEOUT * 2)) ] || die "PostgreSQL did not finish recovery within $READY_TIMEOUT s (see $PG_DIR/postgres.log)"
    sleep 0.5
  done
  PGPASSWORD=shop as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U shop -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='shop'" \
    2>/dev/null | grep -q 1 || PGPASSWORD=shop as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U shop shop
}

start_service() {
  [ -f "$JAR" ] || die "$JAR not found: build it first with 'make build' (mvn -B package -DskipTests)"
  # Something else on our ports would answer the readiness probe in our place: refuse to start instead.
  local p
  for p in "$API_PORT" "$MGMT_PORT"; do
    port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (another service instance?); stop it or set API_PORT/MGMT_PORT"
  done
  compose/scripts/api-keys.sh "$LOCAL_DIR/auth" >/dev/null
  echo "local-service: service on 127.0.0.1:$API_PORT (management $MGMT_PORT), log $SERVICE_LOG"
  # Flyway's first connection goes through the pool, whose acquisition timeout is 3 s (application.properties):
  # on a loaded machine (2 cores at load 30) opening it can take longer, and with no retry the service exits
  # during start-up although PostgreSQL answers. Flyway retries up to 5 times (waits of 1, 2, 4, 8, 16 s); a first
  # connection that succeeds is not delayed, so start-up times (make bench) are unchanged.
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
  QUARKUS_FLYWAY_CONNECT_RETRIES=${QUARKUS_FLYWAY_CONNECT_RETRIES:-5} \
  QUARKUS_HTTP_PORT=$API_PORT QUARKUS_HTTP_HOST=127.0.0.1 \
  QUARKUS_MANAGEMENT_PORT=$MGMT_PORT QUARKUS_MANAGEMENT_HOST=127.0.0.1 \
  QUARKUS_DATASOURCE_JDBC_URL=${QUARKUS_DATASOURCE_JDBC_URL:-jdbc:postgresql://127.0.0.1:$PG_PORT/shop} \
  QUARKUS_DATASOURCE_USERNAME=${QUARKUS_DATASOURCE_USERNAME:-shop} QUARKUS_DATASOURCE_PASSWORD=${QUARKUS_DATASOURCE_PASSWORD:-shop} \
  SHOP_API_KEYS_FILE=${SHOP_API_KEYS_FILE:-$LOCAL_DIR/auth/shop/api-keys} \
    nohup "${JAVA:-java}" ${JAVA_OPTS:-} -jar "$JAR" >"$SERVICE_LOG" 2>&1 &
  echo $! > "$SERVICE_PID"
  local launched now
  launched=$(date +%s%N)
  while :; do
    if curl -fsS "http://127.0.0.1:$MGMT_PORT/q/health/ready" >/dev/null 2>&1 && kill -0 "$(cat "$SERVICE_PID")" 2>/dev/null; then
      now=$(date +%s%N)
      echo "local-service: ready after $(awk -v a="$launched" -v b="$now" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s (pid $(cat "$SERVICE_PID"))"
      return 0
    fi
    kill -0 "$(cat "$SERVICE_PID")" 2>/dev/null || { tail -n 30 "$SERVICE_LOG" >&2; die "the service exited during start-up"; }
    now=$(date +%s%N)
    [ $(((now - launched) / 1000000000)) -lt "$READY_TIMEOUT" ] || break
    sleep "${READY_POLL:-0.1}"
  done
  tail -n 30 "$SERVICE_LOG" >&2
  die "the service did not become ready within $READY_TIMEOUT s"
}

stop_service() {
  if [ -f "$SERVICE_PID" ]; then
    local pid; pid=$(cat "$SERVICE_PID")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$SERVICE_PID"
  fi
}

stop_pg() {
  pg_dir_load
  if [ -n "$PG_DIR" ] && [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
  fi
}

stop_all() {
  stop_service
  stop_pg
  pg_dir_remove
  echo "local-service: stopped"
}

case "${1:-}" in
  start) start_pg; start_service ;;
  start-db) start_pg ;;
  stop) stop_all ;;
  pause) stop_service; stop_pg; echo "local-service: stopped; the database stays in $PGDATA" ;;
  service-restart) stop_service; start_pg; start_service ;;
  status)
    if [ -f "$SERVICE_PID" ] && kill -0 "$(cat "$SERVICE_PID")" 2>/dev/null; then echo "running (pid $(cat "$SERVICE_PID"))"; else echo "stopped"; fi ;;
  *) die "usage: $0 start|start-db|stop|pause|status|service-restart" ;;
esac
