#!/usr/bin/env bash
# Benchmark of the packaged service on a local PostgreSQL, loopback only (loadtest/README.md, "Benchmark", says
# what each figure means and how to read a disagreement). One run measures, in ROUNDS rounds whose case order
# rotates, so a disturbance on a shared machine shows up as rounds that disagree instead of favouring one case:
#   - pgbench -S (select-only, prepared) against the same PostgreSQL: what the database alone can serve;
#   - GET /api/products/{id} with tracing off (SDK disabled), sampled at 10 % and at 100 %, spans exported over
#     OTLP/HTTP to a local sink (otlp-sink.py), driven by wrk;
#   - GET /api/products?q=... over SEARCH_ROWS products: PostgreSQL CPU per search request;
#   - the by-id read with tracing off and a valid API key under proactive authentication, so every request pays for
#     the key (header, SHA-256, comparison with each stored hash, identity): against tracing off without a key, the
#     cost of authentication per request (README "Authentication");
# and then start to ready START_RUNS times with the JDK and JVM flags of the container image (Dockerfile
# ENTRYPOINT, its AOT cache trained by src/main/docker/aot-train.sh exactly as the image build does).
# CPU per request is utime+stime from /proc over the measured window divided by the requests served; with
# PAUSE_MS, at a fixed offered rate below saturation, req/s and latency then coming from a saturated window after it.
# bench-report.py prints the table and writes target/bench/summary.json; a figure whose rounds differ by more
# than 10 % is printed as "rounds disagree" and left out of the summary's published figures.
#
#   bench.sh          the benchmark
#   bench.sh profile  CPU flame graphs (async-profiler from Maven Central) of the by-id read at tracing 100 %,
#                     10 % and off, as SVG in PROFILE_DIR (target/bench/profiles)
#   bench.sh start    start to ready only (make bench-start): START_RUNS starts with the image's JVM settings and,
#                     when START_B_OPTS holds JVM flags, as many with those flags added, alternating A, B, A, B so a
#                     busy machine disturbs both alike; prints each configuration's medians (start-report.py)
#
# Warm-up: at least WARMUP seconds and WARMUP_REQUESTS requests, and until the JIT is quiet (its compiler threads
# took at most JIT_QUIET of the service's CPU in the last 5 s slice), at most WARMUP_MAX seconds; a window measured
# before that is flagged under-warmed and its figure withheld.
# Environment: ROUNDS (3), DURATION (15 s measured), WARMUP (10 s), WARMUP_REQUESTS (30000), WARMUP_MAX (120 s),
# JIT_QUIET (0.03), PAUSE_MS (0: CPU at saturation; e.g. 6: each connection pauses 6 ms before each request of the
# CPU window, about 2 000 req/s offered), SAT_DURATION (10 s: with PAUSE_MS, the saturated window of req/s, latency),
# CONNECTIONS (16), THREADS (1), START_RUNS (5),
# START_B_OPTS (start mode: flags of configuration B, added after the image's), SEARCH_ROWS (10000), API_PORT/MGMT_PORT/PG_PORT/SINK_PORT (26080/26900/15440/26318), IMAGE_JAVA (the java of the
# image's JDK; found under /usr/lib/jvm from JRE_IMAGE in compose/.env when unset). Needs wrk, python3 and the
# image's JDK (make doctor).
set -euo pipefail
cd "$(dirname "$0")/../../.."

MODE=${1:-bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
SAT_DURATION=${SAT_DURATION:-10}
PAUSE_MS=${PAUSE_MS:-0}
WARMUP=${WARMUP:-10}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-30000}
WARMUP_MAX=${WARMUP_MAX:-120}
JIT_QUIET=${JIT_QUIET:-0.03}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
START_RUNS=${START_RUNS:-5}
SEARCH_ROWS=${SEARCH_ROWS:-10000}
export API_PORT=${API_PORT:-26080} MGMT_PORT=${MGMT_PORT:-26900} PG_PORT=${PG_PORT:-15440}
SINK_PORT=${SINK_PORT:-26318}
OUT=target/bench
PROFILE_DIR=${PROFILE_DIR:-$OUT/profiles}
export LOCAL_DIR=$OUT/local READY_POLL=0.02
SCRIPTS=src/test/scripts
APP=target/quarkus-app
RAW=$OUT/raw.jsonl

die() { echo "bench: $*" >&2; exit 1; }
case $MODE in bench | profile | start) ;; *) die "usage: $0 [bench|profile|start]" ;; esac
# Start mode runs no rounds: the loop below the set-up counts to 0.
[ "$MODE" != start ] || ROUNDS=0
[ -f "$APP/quarkus-run.jar" ] || die "$APP/quarkus-run.jar not found: run make build first"
# wrk, PostgreSQL, curl, the image's JDK: installed with apt-get as root, else named with how to get them.
toolchain/tools.sh require "$(case $MODE in profile) echo profile ;; start) echo bench-start ;; *) echo bench ;; esac)"
mkdir -p "$OUT"

# ---- the image's JVM (JDK of JRE_IMAGE, the Dockerfile ENTRYPOINT's flags, its AOT cache): image-jvm.sh -------
# shellcheck source=src/test/scripts/image-jvm.sh
. "$SCRIPTS/image-jvm.sh"

clk_tck=$(getconf CLK_TCK)
service_pid() { cat "$LOCAL_DIR/service.pid"; }
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# PostgreSQL's CPU: the postmaster with its reaped children, plus every live child (the pool's backends).
pg_ticks() {
  local pm t=0 c
  pm=$(head -n 1 "$LOCAL_DIR/pgdata/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for c in $(<"/proc/$pm/task/$pm/children"); do
    t=$((t + $(proc_ticks "$c" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
pg_bin() { printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1; }
psql_shop() { PGPASSWORD=shop "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U shop -v ON_ERROR_STOP=1 -qtA "$@"; }

sink=""
cleanup() {
  "$SCRIPTS/local-service.sh" stop >/dev/null 2>&1 || true
  if [ -n "$sink" ]; then kill "$sink" 2>/dev/null || true; fi
}
trap cleanup EXIT
python3 "$SCRIPTS/otlp-sink.py" "$SINK_PORT" > "$OUT/sink.log" 2>&1 &
sink=$!

# Restart the service with the given environment; prints its start-to-ready seconds. A long acquisition timeout
# keeps a start on a crowded machine from failing Flyway's first connection; it changes nothing while the pool
# has connections to hand out, which is all the measured windows see.
restart() {
  env "$@" QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT=30S QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
    "$SCRIPTS/local-service.sh" service-restart | sed -n 's/.*ready after \([0-9.]*\) s.*/\1/p'
}
tracing_env() {
  case $1 in
    off) echo QUARKUS_OTEL_SDK_DISABLED=true ;;
    10) echo QUARKUS_OTEL_TRACES_SAMPLER_ARG=0.1 ;;
    100) echo QUARKUS_OTEL_TRACES_SAMPLER_ARG=1.0 ;;
  esac
}

# Drive URL (with an extra request header when a second argument is given) in 5 s slices of wrk until WARMUP seconds
# and WARMUP_REQUESTS requests have passed and the JIT is quiet (its compiler threads took at most JIT_QUIET of the
# service's CPU in the last slice), or WARMUP_MAX seconds; prints what it did as JSON (bench-report.py warm-up).
# A fixed request count was not enough: on a busy machine the compiler threads get less CPU, and with 30 000
# requests behind it a window still paid 100-200 µs of JIT per request (loadtest/README.md, "Benchmark").
warm_up() {
  WARMUP=$WARMUP WARMUP_REQUESTS=$WARMUP_REQUESTS WARMUP_MAX=$WARMUP_MAX JIT_QUIET=$JIT_QUIET THREADS=$THREADS \
    CONNECTIONS=$CONNECTIONS python3 "$SCRIPTS/bench-report.py" warm-up "$(service_pid)" "$@"
}

# One case's windows over URL (optional 4th argument: a request header), after warm_up; appends one JSON line to
# $RAW. The CPU window (DURATION s): service and PostgreSQL CPU per request and the JIT's share. PAUSE_MS=0 (the
# default): that window is saturated and gives req/s and latency too. PAUSE_MS>0: every connection pauses PAUSE_MS
# before each request (wrk-rate.lua), a fixed rate below what the service can take, and a saturated window
# (SAT_DURATION s) follows for req/s and latency (loadtest/README.md, "Benchmark": the A/B of the two).
measure_wrk() {
  local round=$1 case=$2 url=$3 pid s0 s1 p0 p1 t0 t1 out warm sat=-
  local header=(); [ -z "${4:-}" ] || header=(-H "$4")
  local paced=(); [ "$PAUSE_MS" = 0 ] || paced=(-s "$SCRIPTS/wrk-rate.lua")
  pid=$(service_pid)
  warm=$(warm_up "$url" ${4:+"$4"})
  t0=$(python3 "$SCRIPTS/bench-report.py" thread-ticks "$pid")
  s0=$(proc_ticks "$pid"); p0=$(pg_ticks)
  out=$(WRK_DELAY_MS=$PAUSE_MS wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${header[@]}" "${paced[@]}" "$url")
  s1=$(proc_ticks "$pid"); p1=$(pg_ticks)
  t1=$(python3 "$SCRIPTS/bench-report.py" thread-ticks "$pid")
  [ "$PAUSE_MS" = 0 ] || sat=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SAT_DURATION}s" --latency "${header[@]}" "$url")
  python3 "$SCRIPTS/bench-report.py" wrk-line "$round" "$case" "$clk_tck" "$((s1 - s0))" "$((p1 - p0))" \
    "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")" "$warm" "$t0" "$t1" "$sat" <<<"$out" >> "$RAW"
}

# The postmaster's live children (backends and its own processes).
pg_children() {
  local pm
  pm=$(head -n 1 "$LOCAL_DIR/pgdata/postmaster.pid")
  wc -w < "/proc/$pm/task/$pm/children"
}
measure_pgbench() {
  local round=$1 p0 p1 out before
  before=$(pg_children)
  p0=$(pg_ticks)
  out=$(PGPASSWORD=shop "$(pg_bin)/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U shop -n -S -M prepared \
        -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" pgbench 2>&1)
  # pgbench's backends are still exiting when it returns, and one that has exited reads 0 ticks in /proc until
  # the postmaster reaps it into its cutime: read the CPU once they are gone (at most 5 s). Without the wait, a
  # 5 s run read 0 µs per transaction instead of 44.
  for _ in $(seq 1 50); do [ "$(pg_children)" -gt "$before" ] || break; sleep 0.1; done
  p1=$(pg_ticks)
  python3 "$SCRIPTS/bench-report.py" pgbench-line "$round" "$clk_tck" "$((p1 - p0))" <<<"$out" >> "$RAW"
}

new_product() {
  curl -fsS -X POST "http://127.0.0.1:$API_PORT/api/products" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $(cat "$LOCAL_DIR/auth/credentials/admin")" \
    -d "{\"sku\":\"BENCH-$RANDOM$RANDOM\",\"name\":\"Bench\",\"priceCents\":100,\"stock\":1}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# ---- set-up: PostgreSQL, the schema (first start), search rows, pgbench tables --------------------------------
echo "bench: first start (PostgreSQL, migrations)" >&2
restart "$(tracing_env 100)" >/dev/null
if [ "$MODE" != start ]; then
product=$(new_product)
# Search rows: names of random words, so a substring matches a few rows among many, as a shopper's query would.
psql_shop -d shop -c "INSERT INTO product (sku, name, price_cents, stock)
  SELECT 'SEARCH-' || g, 'Item ' || substr(md5(g::text), 1, 8) || ' ' || substr(md5((g * 7)::text), 1, 6), 100, 1
  FROM generate_series(1, $SEARCH_ROWS) g ON CONFLICT (sku) DO NOTHING; ANALYZE product;"
search_term=$(psql_shop -d shop -c "SELECT substr(md5('42'), 3, 4)")
search_matches=$(psql_shop -d shop -c "SELECT count(*) FROM product WHERE name ILIKE '%$search_term%'")
if [ "$MODE" = bench ]; then
  psql_shop -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'pgbench'" | grep -q 1 ||
    psql_shop -d postgres -c "CREATE DATABASE pgbench"
  PGPASSWORD=shop "$(pg_bin)/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U shop -i -q -s 1 pgbench > "$OUT/pgbench-init.log" 2>&1
fi
by_id="http://127.0.0.1:$API_PORT/api/products/$product"
search="http://127.0.0.1:$API_PORT/api/products?q=$search_term"
fi

# ---- profile mode -------------------------------------------------------------------------------------------
if [ "$MODE" = profile ]; then
  ap_version=$(sed -n 's:.*<async-profiler.version>\(.*\)</async-profiler.version>.*:\1:p' pom.xml)
  case $(uname -m) in x86_64) ap_arch=linux-x64 ;; aarch64) ap_arch=linux-arm64 ;; *) die "no async-profiler for $(uname -m)" ;; esac
  ap_dir=target/async-profiler
  if [ ! -f "$ap_dir/$ap_arch/libasyncProfiler.so" ]; then
    ${MVN:-mvn -B -ntp} -q dependency:copy -Dartifact="tools.profiler:async-profiler:$ap_version:jar:$ap_arch" \
      -DoutputDirectory="$ap_dir" >&2
    (cd "$ap_dir" && python3 -m zipfile -e "async-profiler-$ap_version-$ap_arch.jar" .)
  fi
  lib=$(cd "$ap_dir/$ap_arch" && pwd)/libasyncProfiler.so
  jcmd=$(dirname "$IMAGE_JAVA")/jcmd
  mkdir -p "$PROFILE_DIR"
  for t in 100 10 off; do
    restart "$(tracing_env "$t")" >/dev/null
    pid=$(service_pid)
    echo "bench: tracing $t: warmed up: $(warm_up "$by_id")" >&2
    collapsed=$(pwd)/$PROFILE_DIR/by-id-tracing-$t.collapsed
    # jcmd would read "a=b" as a named argument: the agent's options go in literal double quotes.
    "$jcmd" "$pid" JVMTI.agent_load "$lib" '"start,event=cpu,interval=1ms"' >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$by_id" | awk '/Requests\/sec/' >&2
    "$jcmd" "$pid" JVMTI.agent_load "$lib" "\"stop,collapsed,file=$collapsed\"" >/dev/null
    python3 "$SCRIPTS/flamegraph-svg.py" "$collapsed" "$PROFILE_DIR/by-id-tracing-$t.svg" \
      "GET /api/products/{id}, tracing $t, wrk -c$CONNECTIONS, CPU ($(git rev-parse --short HEAD))"
    echo "bench: $PROFILE_DIR/by-id-tracing-$t.svg" >&2
  done
  exit 0
fi

# ---- the rounds ---------------------------------------------------------------------------------------------
: > "$RAW"
cases=(pgbench off 10 100 search auth)
for round in $(seq 1 "$ROUNDS"); do
  for i in "${!cases[@]}"; do
    c=${cases[$(((i + round - 1) % ${#cases[@]}))]}
    echo "bench: round $round, $c" >&2
    case $c in
      pgbench) measure_pgbench "$round" ;;
      search) restart "$(tracing_env 100)" >/dev/null; measure_wrk "$round" search "$search" ;;
      # Proactive: the read then authenticates the key too (by default only writes do, README "Authentication").
      auth) restart "$(tracing_env off)" QUARKUS_HTTP_AUTH_PROACTIVE=true >/dev/null
            measure_wrk "$round" auth "$by_id" "Authorization: Bearer $(cat "$LOCAL_DIR/auth/credentials/admin")" ;;
      *) restart "$(tracing_env "$c")" >/dev/null; measure_wrk "$round" "tracing-$c" "$by_id" ;;
    esac
  done
done

# ---- start to ready with the image's JVM settings (the service's own readiness, database included) ----------
# Each start also logs what the JVM did with the AOT cache (-Xlog only adds a log file; the cache accepts it): a
# cache the JVM rejects (another JDK, class path or jar, or incompatible flags) is skipped silently and the
# service starts without it, so the report publishes no start figure unless every start used it. The service's
# CPU (utime+stime) is read the moment it is ready, with its split by thread (main, JIT compilers, GC, other; live
# threads only), and Quarkus's own "started in" is kept: the part before it is the JVM's and the launcher's, the
# rest the application's start.
# measure_start RUN CONFIG [EXTRA_FLAGS]: one start, appended to $RAW; EXTRA_FLAGS go after the image's flags.
measure_start() {
  local run=$1 config=$2 extra=${3:-} aot_log s ready_at cpu threads started used phases
  aot_log=$OUT/start-$run$config-aot.log
  rm -f "$aot_log"
  s=$(restart "$(tracing_env 100)" "JAVA_OPTS=$JAVA_OPTS${extra:+ $extra} -Xlog:aot=info:file=$aot_log")
  ready_at=$(date +%s.%N)
  cpu=$(proc_ticks "$(service_pid)")
  threads=$(python3 "$SCRIPTS/bench-report.py" thread-cpu "$(service_pid)" "$clk_tck")
  started=$(sed -n 's/.* started in \([0-9.]*\)s\..*/\1/p' "$LOCAL_DIR/service.log" | tail -n 1)
  phases=$(python3 "$SCRIPTS/start-report.py" phases "$(service_pid)" "$clk_tck" "$LOCAL_DIR/service.log" "$ready_at")
  used=false
  if grep -q 'Using AOT-linked classes: true' "$aot_log" 2>/dev/null && ! grep -q '\[error' "$aot_log"; then used=true; fi
  echo "{\"case\": \"start\", \"round\": $run, \"config\": \"$config\", \"extra_opts\": \"$extra\", \"ready_s\": $s, \"cpu_s\": $(awk -v t="$cpu" -v hz="$clk_tck" 'BEGIN {printf "%.2f", t / hz}'), \"started_in_s\": ${started:-null}, \"aot_cache_used\": $used, \"threads_cpu_s\": $threads, \"phases_s\": $phases}" >> "$RAW"
}
if [ "$MODE" = start ]; then
  : > "$RAW"
  for run in $(seq 1 "$START_RUNS"); do
    echo "bench: start $run A${START_B_OPTS:+ and B}" >&2
    measure_start "$run" A
    [ -z "${START_B_OPTS:-}" ] || measure_start "$run" B "$START_B_OPTS"
  done
  python3 "$SCRIPTS/start-report.py" report "$RAW" | tee "$OUT/start-report.txt"
  echo "load average at the end: $(cat /proc/loadavg)" | tee -a "$OUT/start-report.txt"
  exit 0
fi
for run in $(seq 1 "$START_RUNS"); do
  measure_start "$run" A
done
"$SCRIPTS/local-service.sh" stop >/dev/null
kill "$sink"; wait "$sink" 2>/dev/null || true; sink=""

WARMUP_REQUESTS=$WARMUP_REQUESTS JIT_QUIET=$JIT_QUIET PAUSE_MS=$PAUSE_MS SAT_DURATION=$SAT_DURATION \
  python3 "$SCRIPTS/bench-report.py" report "$RAW" "$OUT/summary.json" \
  "$(nproc)" "$CONNECTIONS" "$THREADS" "$DURATION" "$WARMUP" "$ROUNDS" "$SEARCH_ROWS" "$search_term" "$search_matches" \
  "$("$IMAGE_JAVA" -version 2>&1 | head -n 1)" "$JAVA_OPTS" "$(cat /proc/loadavg)"
