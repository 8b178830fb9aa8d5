#!/usr/bin/env bash
# Training run that writes the service's AOT cache (JDK 25: JEP 483 class loading and linking, JEP 514 one-step
# -XX:AOTCacheOutput, JEP 515 method profiles). Reference: https://openjdk.org/jeps/514
# The image build runs it (src/main/docker/Dockerfile, its `train` stage) and so does `make bench`
# (src/test/scripts/image-jvm.sh), the same way: the packaged service (aot-jar layout, so every class comes from the
# class path the cache can hold) starts with the image's flags (jvm.options) against a throwaway PostgreSQL that
# this script starts, so a real start's database path is in the cache: the pool's first connections (pgjdbc,
# SCRAM), Flyway migrating an empty schema, the readiness check's query, and the API's reads and writes. Trained
# without a database (before 2026-12-01) those classes were loaded from the jars at every start, without profiles
# (loadtest/README.md, "Start to ready"). It answers a few requests that touch the code paths of a real start
# (health, metrics, the API's JSON and problem answers), then gets SIGTERM; the JVM writes the cache as it exits.
#
#   aot-train.sh JAVA APP_DIR     (APP_DIR holds quarkus-run.jar and jvm.options; writes APP_DIR/app.aot)
#
# PostgreSQL: the newest /usr/lib/postgresql/*/bin (Debian/Ubuntu layout; the image's training stage installs it),
# or TRAIN_PG_BIN; as root it runs as user postgres. Its files live in a temporary directory, deleted at the end.
# Ports: TRAIN_API_PORT / TRAIN_MGMT_PORT (27080 / 27900, next to no other fixed port of the repository) and
# TRAIN_PG_PORT (TRAIN_API_PORT + 2), loopback only.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: aot-train.sh JAVA APP_DIR" >&2; exit 2; }
java=$1
app=$2
api=${TRAIN_API_PORT:-27080}
mgmt=${TRAIN_MGMT_PORT:-27900}
if [ ! -f "$app/quarkus-run.jar" ] || [ ! -f "$app/jvm.options" ]; then
  echo "aot-train: $app lacks quarkus-run.jar or jvm.options" >&2; exit 1
fi
rm -f "$app/app.aot"

# ---- a throwaway PostgreSQL (user and password shop, database shop: what the service's defaults name) ----------
pg_port=${TRAIN_PG_PORT:-$((api + 2))}
pg_bin=${TRAIN_PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1)}
[ -x "$pg_bin/initdb" ] || { echo "aot-train: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin; set TRAIN_PG_BIN)" >&2; exit 1; }
pg_dir=$(mktemp -d /tmp/aot-train-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then (cd "$pg_dir" && runuser -u postgres -- "$@"); else "$@"; fi; }
[ "$(id -u)" != 0 ] || chown postgres: "$pg_dir"
pid=""
stop_all() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_all EXIT
printf 'shop\n' >"$pg_dir/pwfile"
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U shop --pwfile="$pg_dir/pwfile" -A scram-sha-256 -E UTF8 >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >/dev/null ||
  { cat "$pg_dir/postgres.log" >&2; echo "aot-train: PostgreSQL did not start on 127.0.0.1:$pg_port" >&2; exit 1; }
PGPASSWORD=shop as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U shop shop

# A throwaway key file: the service refuses to start without one (README "Authentication"), and the requests below
# with its key train the API-key path too. Deleted after the run: the image carries no key.
keys=$(mktemp)
key="shop_$(head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_')"
printf 'aot-train admin,client %s\n' "$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)" >"$keys"

# Flyway migrates the empty database at start, as a first deployment does. A long acquisition timeout and Flyway's
# retries keep a crowded build machine from failing the first connection. The exporter's endpoint is a closed
# loopback port (spans are dropped, as with a collector down). The shutdown delay would only make the run longer.
QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=$api QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT=$mgmt \
QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://127.0.0.1:$pg_port/shop" \
QUARKUS_DATASOURCE_USERNAME=shop QUARKUS_DATASOURCE_PASSWORD=shop \
QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT=30S QUARKUS_FLYWAY_CONNECT_RETRIES=5 \
QUARKUS_SHUTDOWN_DELAY_ENABLED=false QUARKUS_OTEL_SDK_DISABLED=false SHOP_API_KEYS_FILE="$keys" \
QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1 \
  "$java" "@$app/jvm.options" -XX:AOTCacheOutput="$app/app.aot" -jar "$app/quarkus-run.jar" &
pid=$!

up=""
for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$mgmt/q/health/live" 2>/dev/null; then up=yes; break; fi
  kill -0 "$pid" 2>/dev/null || { echo "aot-train: the service exited during start-up" >&2; exit 1; }
  sleep 0.1
done
[ -n "$up" ] || { kill "$pid"; echo "aot-train: the service did not start within 60 s" >&2; exit 1; }

# Readiness includes the database check: UP means the pool, Flyway and the health query have run.
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "http://127.0.0.1:$mgmt/q/health/ready" 2>/dev/null && break
  sleep 0.1
done
# Each request's answer code is not the point; the classes and methods they run are (reads found and not found,
# a search, a write refused by validation, without a key and with one, a write that succeeds).
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"sku":"AOT-TRAIN-1","name":"Training item","priceCents":100,"stock":1}' "http://127.0.0.1:$api/api/products" ||
  { echo "aot-train: the service did not accept a product against the training database" >&2; exit 1; }
for _ in $(seq 1 5); do
  curl -s -o /dev/null "http://127.0.0.1:$mgmt/q/health/ready" || true
  curl -s -o /dev/null -H 'Accept: application/openmetrics-text; version=1.0.0; charset=utf-8' \
    "http://127.0.0.1:$mgmt/q/metrics" || true
  curl -s -o /dev/null "http://127.0.0.1:$api/api/products/1" || true
  curl -s -o /dev/null "http://127.0.0.1:$api/api/products?q=item" || true
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"sku":""}' "http://127.0.0.1:$api/api/products" || true
  curl -s -o /dev/null -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"sku":""}' \
    "http://127.0.0.1:$api/api/products" || true
  curl -s -o /dev/null "http://127.0.0.1:$api/api/products/not-a-number" || true
done

kill -TERM "$pid"
wait "$pid" || true
pid=""
rm -f "$keys"
[ -s "$app/app.aot" ] || { echo "aot-train: no AOT cache written to $app/app.aot" >&2; exit 1; }
echo "aot-train: $app/app.aot ($(du -h "$app/app.aot" | cut -f1))"
