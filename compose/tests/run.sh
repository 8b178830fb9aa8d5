#!/usr/bin/env bash
# `make test-compose`: offline proof that the compose stack is well-formed and that its files agree.
# Needs no Docker engine. Steps:
#   1. the Compose CLI parses the file: `docker compose config` (v2 plugin, client-side only) when installed,
#      else docker-compose 1.29 `config` (Debian package docker-compose; make test-compose installs or names it);
#   2. the file validates against the Compose Specification JSON schema (compose-spec.json, Ajv via npm ci);
#   3. real log lines: the packaged service runs on loopback (src/test/scripts/local-service.sh, ports
#      23080/23900, PostgreSQL 15436), gets a few requests, and its stdout JSON lines are kept;
#   4. check_compose.py cross-checks names, ports, images, healthchecks and those log fields across files;
#   5. yamllint on the YAML this folder owns, shellcheck on its scripts.
#      Its /q/metrics (OpenMetrics) is kept too, to check the exemplar label Grafana links on.
# Set COMPOSE_LOG_SAMPLE=FILE (and optionally COMPOSE_METRICS_SAMPLE=FILE) to use existing output instead of
# starting the service in step 3.
set -euo pipefail

cd "$(dirname "$0")/../.."
tests=compose/tests
work=target/compose-test
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }
die() { echo "test-compose: $*" >&2; exit 1; }

# `make test-compose` has installed or named what is missing (toolchain/tools.tsv); run by hand, stop early.
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: run make test-compose, or see make doctor"
}

step "1. Compose CLI parses compose/compose.yaml"
if docker compose version >/dev/null 2>&1; then
  echo "using $(docker compose version)"
  docker compose --project-directory compose -f compose/compose.yaml --env-file compose/.env config --quiet
else
  need docker-compose
  echo "no Compose v2 plugin; using $(docker-compose version --short 2>/dev/null || echo docker-compose)"
  docker-compose --project-directory compose -f compose/compose.yaml --env-file compose/.env config --quiet
fi
echo "ok   compose config accepted the file"

step "2. Compose Specification schema"
need npm
if [ ! -f "$tests/node_modules/.package-lock.json" ] || [ "$tests/package-lock.json" -nt "$tests/node_modules/.package-lock.json" ]; then
  (cd "$tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
node "$tests/validate-compose-schema.mjs"

step "3. JSON log lines of the real service"
sample=${COMPOSE_LOG_SAMPLE:-}
metrics=${COMPOSE_METRICS_SAMPLE:-}
if [ -z "$sample" ]; then
  need curl
  [ -f target/quarkus-app/quarkus-run.jar ] || die "target/quarkus-app/quarkus-run.jar is missing: run make build"
  # A private copy of the packaged app, so a concurrent `mvn package` cannot pull jars away mid-run.
  rm -rf "$work/quarkus-app" && cp -r target/quarkus-app "$work/quarkus-app"
  export JAR="$work/quarkus-app/quarkus-run.jar"
  export API_PORT=23080 MGMT_PORT=23900 PG_PORT=15436 LOCAL_DIR="$work/local"
  # Spans are recorded (trace ids in the logs) but not exported: nothing listens on this OTLP port.
  export QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:23317
  trap 'src/test/scripts/local-service.sh stop >/dev/null 2>&1 || true' EXIT
  # One retry: a port can be briefly held by a previous run on a busy machine.
  src/test/scripts/local-service.sh start ||
    { sleep 5; src/test/scripts/local-service.sh stop; src/test/scripts/local-service.sh start; }
  api="http://127.0.0.1:$API_PORT/api"
  # Writes authenticate with the keys local-service.sh made (README "Authentication").
  admin=(-H "Authorization: Bearer $(cat "$LOCAL_DIR/auth/credentials/admin")")
  client=(-H "Authorization: Bearer $(cat "$LOCAL_DIR/auth/credentials/client")")
  sku="compose-test-$(date +%s)"
  product=$(curl -fsS -X POST "$api/products" "${admin[@]}" -H 'Content-Type: application/json' \
    -d "{\"sku\":\"$sku\",\"name\":\"Compose test\",\"priceCents\":250,\"stock\":5}")
  id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' <<<"$product")
  [ -n "$id" ] || die "could not create a product: $product"
  curl -fsS -X POST "$api/orders" "${client[@]}" -H 'Content-Type: application/json' \
    -d "{\"lines\":[{\"productId\":$id,\"quantity\":2}]}" >/dev/null
  # Rejected orders (insufficient stock, unknown product) log at another level.
  curl -sS -o /dev/null -X POST "$api/orders" "${client[@]}" -H 'Content-Type: application/json' \
    -d "{\"lines\":[{\"productId\":$id,\"quantity\":999}]}" || true
  curl -sS -o /dev/null -X POST "$api/orders" "${client[@]}" -H 'Content-Type: application/json' \
    -d '{"lines":[{"productId":999999999,"quantity":1}]}' || true
  sleep 1
  # The exact Accept header that makes Quarkus answer OpenMetrics, the only format carrying exemplars.
  curl -fsS -H 'Accept: application/openmetrics-text; version=1.0.0; charset=utf-8' \
    "http://127.0.0.1:$MGMT_PORT/q/metrics" >"$work/metrics.txt"
  metrics="$work/metrics.txt"
  sample="$work/service-log.jsonl"
  grep '^{' "$LOCAL_DIR/service.log" >"$sample" || true
  src/test/scripts/local-service.sh stop
  trap - EXIT
fi
echo "$(wc -l <"$sample") JSON lines in $sample"

step "4. Cross-file checks"
python=python3
# Some python3 on PATH (pyenv, a venv) lacks PyYAML where Debian's own has it.
if ! python3 -c 'import yaml' 2>/dev/null && /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  python=/usr/bin/python3
fi
"$python" -c 'import yaml' 2>/dev/null || die "PyYAML is missing: run make test-compose, or see make doctor"
"$python" "$tests/check_compose.py" --log-sample "$sample" ${metrics:+--metrics-sample "$metrics"}

step "5. yamllint and shellcheck"
need yamllint
yamllint --strict -c "$tests/yamllint.yaml" compose/compose.yaml \
  observability/loki/loki.yaml observability/tempo/tempo.yaml \
  observability/grafana/provisioning/datasources/datasources.yaml
echo "ok   yamllint"
need shellcheck
shellcheck compose/scripts/*.sh compose/tests/*.sh
echo "ok   shellcheck"

echo
echo "test-compose: all checks passed"
