#!/usr/bin/env bash
# Training run that writes the service's AOT cache (JDK 25: JEP 483 class loading and linking, JEP 514 one-step
# -XX:AOTCacheOutput, JEP 515 method profiles). Reference: https://openjdk.org/jeps/514
# The image build runs it (src/main/docker/Dockerfile) and so does `make bench` (src/test/scripts/bench.sh), the
# same way: the packaged service (aot-jar layout, so every class comes from the class path the cache can hold)
# starts with the image's flags (jvm.options), without a database, as in an image build. It answers a few
# requests that touch the code paths of a real start (health, metrics, the API's JSON and problem answers), then
# gets SIGTERM; the JVM writes the cache as it exits.
#
#   aot-train.sh JAVA APP_DIR     (APP_DIR holds quarkus-run.jar and jvm.options; writes APP_DIR/app.aot)
#
# Ports: TRAIN_API_PORT / TRAIN_MGMT_PORT (27080 / 27900, next to no other fixed port of the repository), loopback only.
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

# A throwaway key file: the service refuses to start without one (README "Authentication"), and the requests below
# with its key train the API-key path too. Deleted after the run: the image carries no key.
keys=$(mktemp)
key="shop_$(head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_')"
printf 'aot-train admin,client %s\n' "$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)" >"$keys"

# No database: the pool is empty until first use, Flyway does not run, and the driver is refused at once by a
# closed loopback port. The shutdown delay would only make the run longer.
QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=$api QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT=$mgmt \
QUARKUS_DATASOURCE_JDBC_URL=jdbc:postgresql://127.0.0.1:1/shop QUARKUS_DATASOURCE_JDBC_MIN_SIZE=0 \
QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT=1S QUARKUS_FLYWAY_MIGRATE_AT_START=false \
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

# Each request's answer code is not the point (no database: 503s); the classes and methods they run are.
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
rm -f "$keys"
[ -s "$app/app.aot" ] || { echo "aot-train: no AOT cache written to $app/app.aot" >&2; exit 1; }
echo "aot-train: $app/app.aot ($(du -h "$app/app.aot" | cut -f1))"
