#!/usr/bin/env bash
# Benchmark: what tracing costs. Runs the packaged service on a local PostgreSQL three times in one go, with
# tracing sampled at 100 %, at 10 % and switched off, and drives GET /api/products/{id} with wrk at a fixed
# connection count. Spans are really exported (OTLP/HTTP to a local sink), so the export cost is included.
# Prints, per case: start-to-ready time, RSS after start and after load, requests/s, p50/p99 latency and the
# service's CPU time per request (utime+stime from /proc over the measured window). Loopback only.
#
# Environment: DURATION (measured seconds, 20), WARMUP (seconds, 10), CONNECTIONS (16), THREADS (1), ROUNDS (2),
# API_PORT/MGMT_PORT/PG_PORT (26080/26900/15440). Needs wrk and python3 (make doctor).
set -euo pipefail
cd "$(dirname "$0")/../../.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-10}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-2}
export API_PORT=${API_PORT:-26080} MGMT_PORT=${MGMT_PORT:-26900} PG_PORT=${PG_PORT:-15440}
export LOCAL_DIR=target/bench-tracing
SINK_PORT=${SINK_PORT:-26318}
SCRIPTS=src/test/scripts

# wrk, PostgreSQL and the rest: installed with apt-get as root, else named with how to get them (toolchain/tools.tsv).
toolchain/tools.sh require bench-tracing

clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

python3 "$SCRIPTS/otlp-sink.py" "$SINK_PORT" > target/bench-tracing-sink.log 2>&1 &
sink=$!
cleanup() { "$SCRIPTS/local-service.sh" stop >/dev/null 2>&1 || true; kill "$sink" 2>/dev/null || true; }
trap cleanup EXIT

results=()
run_case() {
  local label=$1; shift
  local pid ready
  # Only the service restarts between cases; PostgreSQL keeps running. local-service.sh reports the time
  # from launching the JVM to the first 200 from /q/health/ready (polled every 100 ms).
  ready=$(env "$@" QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
      QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
      "$SCRIPTS/local-service.sh" service-restart | sed -n 's/.*ready after \([0-9.]*\) s.*/\1/p')
  pid=$(cat "$LOCAL_DIR/service.pid")
  local rss_start; rss_start=$(rss_mib "$pid")
  local id
  id=$(curl -fsS -X POST "http://127.0.0.1:$API_PORT/api/products" -H 'Content-Type: application/json' \
        -d "{\"sku\":\"BENCH-$RANDOM$RANDOM\",\"name\":\"Bench\",\"priceCents\":100,\"stock\":1}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  local url="http://127.0.0.1:$API_PORT/api/products/$id"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
  local c0 c1 out
  c0=$(cpu_ticks "$pid")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")
  c1=$(cpu_ticks "$pid")
  local reqs rps p50 p99 errors
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); errors=${errors:-0}
  local cpu_us
  cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$clk_tck" -v n="$reqs" 'BEGIN {printf "%.0f", d / hz * 1e6 / n}')
  results+=("$(printf '| %-19s | %8s s | %4s MiB | %4s MiB | %8s | %7s | %7s | %6s | %5s µs |' \
    "$label" "$ready" "$rss_start" "$(rss_mib "$pid")" \
    "$rps" "$p50" "$p99" "$errors" "$cpu_us")")
  echo "bench-tracing: $label done ($rps req/s)" >&2
}

# The cases alternate for ROUNDS rounds, so a disturbance on the machine shows up as disagreement between rounds
# instead of silently favouring one case.
for round in $(seq 1 "$ROUNDS"); do
  run_case "r$round tracing 100 %" QUARKUS_OTEL_TRACES_SAMPLER_ARG=1.0
  run_case "r$round tracing 10 %" QUARKUS_OTEL_TRACES_SAMPLER_ARG=0.1
  run_case "r$round tracing off" QUARKUS_OTEL_SDK_DISABLED=true
done
kill "$sink"; wait "$sink" 2>/dev/null || true

echo
echo "GET /api/products/{id}, wrk -t$THREADS -c$CONNECTIONS, ${DURATION}s measured after ${WARMUP}s warm-up, $(nproc) cores shared by wrk, service and PostgreSQL"
echo "| case                | start→ready | RSS start | RSS after | req/s    | p50     | p99     | non-2xx | CPU/req  |"
echo "|---------------------|-------------|-----------|-----------|----------|---------|---------|---------|----------|"
printf '%s\n' "${results[@]}"
cat target/bench-tracing-sink.log
