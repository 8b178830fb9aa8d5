#!/usr/bin/env bash
# The load-test make targets (loadtest/loadtest.mk calls this; loadtest/README.md explains the results).
#
#   loadtest.sh load        PROFILE (smoke) BASE_URL (http://localhost:8080) [RPS USERS DURATION STEPS]
#                           one Gatling run against any URL; prints the HTML report path at the end
#   loadtest.sh capacity    stress profile against the packaged service started here on loopback with the image's
#                           JVM (src/test/scripts/image-jvm.sh); prints the sustained RPS at the SLO, the service's and
#                           PostgreSQL's CPU per request, requests per core, and Gatling's own share of the CPU
#   loadtest.sh test-load   proves the gates gate: smoke passes against the real service; the same smoke with chaos
#                           errorRate=1 must fail the Maven build on the failed-requests gate, and with chaos latency
#                           (20 % of calls 1.5 s late) on the p95 and p99 gates
#
# Writes authenticate (README "Authentication"): Gatling reads the keys from SHOP_ADMIN_KEY and SHOP_CLIENT_KEY. The
# local service's are exported here; `load` takes compose's (compose/.secrets, made by make up) when they are unset.
#
# The local service runs on API_PORT (28080), MGMT_PORT (29000), PG_PORT (15434) through
# src/test/scripts/local-service.sh, so it never collides with a service on the usual ports.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
MVN=${MVN:-mvn -B -ntp}
API_PORT=${API_PORT:-28080}
MGMT_PORT=${MGMT_PORT:-29000}
PG_PORT=${PG_PORT:-15434}
export API_PORT MGMT_PORT PG_PORT
RESULTS=loadtest/target/gatling
SUMMARY=loadtest/target/loadtest-summary.properties
LOCAL_SERVICE=src/test/scripts/local-service.sh
mkdir -p loadtest/target

log() { echo "[loadtest] $*"; }
die() { echo "[loadtest] error: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# Value of KEY in the summary file the simulation wrote, or "-" when absent.
summary() {
  local v
  v=$(sed -n "s/^$1=//p" "$SUMMARY" 2>/dev/null | tail -n 1 | sed 's/\\\(.\)/\1/g')
  echo "${v:--}"
}

latest_report() {
  # Gatling names run folders <simulation>-<yyyyMMddHHmmssSSS>: the greatest name is the newest run.
  local newest
  newest=$(find "$RESULTS" -mindepth 2 -maxdepth 2 -name index.html 2>/dev/null | sort | tail -n 1)
  if [ -n "$newest" ]; then echo "$ROOT/$newest"; fi
}

# Builds the -D options of a Gatling run from the environment.
gatling_opts() {
  local opts=("-Dprofile=$1" "-DbaseUrl=$2")
  [ -z "${RPS:-}" ] || opts+=("-Drps=$RPS")
  [ -z "${USERS:-}" ] || opts+=("-Dusers=$USERS")
  [ -z "${DURATION:-}" ] || opts+=("-Dduration=$DURATION")
  [ -z "${STEPS:-}" ] || opts+=("-Dsteps=$STEPS")
  # HTTPS against a private CA (the kind edge: make kind-ca writes .kind/ca.p12): verify the server with that
  # truststore. Without it Gatling trusts any certificate (gatling-defaults.conf: ssl.useInsecureTrustManager = true).
  if [ -n "${GATLING_TRUSTSTORE:-}" ]; then
    # No trustStore.type: the JDK's default keystore type, PKCS12 since JDK 9 (keytool writes it in kind-up.sh).
    opts+=("-Dgatling.ssl.useInsecureTrustManager=false" "-Dgatling.ssl.trustStore.file=$GATLING_TRUSTSTORE"
      "-Dgatling.ssl.trustStore.password=${GATLING_TRUSTSTORE_PASSWORD:-changeit}")
  fi
  printf '%s\n' "${opts[@]}"
}

cmd_load() {
  local profile=${PROFILE:-smoke} base_url=${BASE_URL:-http://localhost:8080} rc=0
  use_keys compose/.secrets/credentials
  need java "install a JDK 17 or newer"
  need mvn "install Apache Maven 3.8 or newer"
  [ -z "${GATLING_TRUSTSTORE:-}" ] || [ -f "$GATLING_TRUSTSTORE" ] || die "GATLING_TRUSTSTORE $GATLING_TRUSTSTORE does not exist (make kind-ca writes the kind edge's)"
  local opts=()
  mapfile -t opts < <(gatling_opts "$profile" "$base_url")
  log "profile $profile against $base_url"
  # shellcheck disable=SC2086 # MVN is a command with its flags
  $MVN -f loadtest/pom.xml gatling:test "${opts[@]}" "$@" || rc=$?
  local report; report=$(latest_report)
  echo
  log "report: ${report:-none (the run did not get far enough to write one)}"
  log "summary: $ROOT/$SUMMARY"
  if [ "$rc" = 0 ]; then
    log "PASSED: every gate of profile $profile held"
  else
    log "FAILED (exit $rc): see the 'Global: ... : false' and 'GATE ... FAILED' lines above"
  fi
  return "$rc"
}

# ---- the local packaged service ------------------------------------------------------------------------------------
# Each target gets a fresh database in its own state directory: the catalog grows with every run (admins create
# products), and searches scan it, so a reused database would make figures drift from run to run.
# Exports SHOP_ADMIN_KEY and SHOP_CLIENT_KEY from the key files in $1 (local-service.sh's or compose's), unless set.
use_keys() {
  local role var
  for role in admin client; do
    var="SHOP_$(tr '[:lower:]' '[:upper:]' <<<"$role")_KEY"
    if [ -z "${!var:-}" ] && [ -f "$1/$role" ]; then
      export "$var=$(cat "$1/$role")"
    fi
  done
}
service_started=""
start_service() {
  [ -f target/quarkus-app/quarkus-run.jar ] || die "target/quarkus-app/quarkus-run.jar not found: run 'make build' first"
  need curl "install curl (make doctor says how)"
  export LOCAL_DIR="target/loadtest-$1"
  "$LOCAL_SERVICE" stop >/dev/null 2>&1 || true
  rm -rf "$LOCAL_DIR"
  # Set before starting: a start that fails after PostgreSQL is up must still stop it on exit.
  service_started=yes
  "$LOCAL_SERVICE" start
  unset SHOP_ADMIN_KEY SHOP_CLIENT_KEY
  use_keys "$LOCAL_DIR/auth/credentials"
}
stop_service() {
  if [ -n "$service_started" ]; then
    curl -fsS -X DELETE "http://127.0.0.1:$MGMT_PORT/chaos" >/dev/null 2>&1 || true
    "$LOCAL_SERVICE" stop || true
  fi
}
service_pid() {
  cat "$LOCAL_DIR/service.pid"
}

# utime + stime of a process, in clock ticks (proc(5): fields 14 and 15; the name in field 2 may hold spaces).
proc_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
# CPU ticks of the local PostgreSQL: the postmaster (with its exited children) plus its live backends.
pg_ticks() {
  local pm
  pm=$(head -n 1 "$LOCAL_DIR/pgdata/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pm/stat" 2>/dev/null || true
    for child in $(pgrep -P "$pm" || true); do
      awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$child/stat" 2>/dev/null || true
    done
  } | awk '{ s += $1 } END { print s + 0 }'
}
# Busy and total jiffies of the whole machine (first line of /proc/stat).
machine_ticks() {
  awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; total = busy + $5 + $6; print busy, total }' /proc/stat
}

sink_pid=""
stop_capacity() {
  stop_service
  if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || true; fi
}

cmd_capacity() {
  need java "install a JDK 17 or newer"
  need mvn "install Apache Maven 3.8 or newer"
  [ -r /proc/self/stat ] || die "capacity reads CPU times from /proc: Linux only"
  trap stop_capacity EXIT
  mkdir -p loadtest/target
  # Spans are really exported, as in production (tracing on, sampled as configured), to the benchmark sink the
  # service's scripts provide; without it the exporter's connection attempts fail fast and cost next to nothing.
  if [ -z "${QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT:-}" ] && [ -f src/test/scripts/otlp-sink.py ] && command -v python3 >/dev/null; then
    local sink_port=${LOADTEST_SINK_PORT:-28319}
    python3 src/test/scripts/otlp-sink.py "$sink_port" >"loadtest/target/otlp-sink.log" 2>&1 &
    sink_pid=$!
    export QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port"
    log "spans exported over OTLP/HTTP to a local sink on :$sink_port"
  fi
  # The JVM of the image (JDK, jvm.options, AOT cache), as make bench: the sizing plans pods that run the image.
  local APP=target/quarkus-app SCRIPTS=src/test/scripts OUT=loadtest/target
  [ -f "$APP/quarkus-run.jar" ] || die "$APP/quarkus-run.jar not found: run 'make build' first"
  # shellcheck source=src/test/scripts/image-jvm.sh
  . "$SCRIPTS/image-jvm.sh"
  log "service JVM: $("$JAVA" -version 2>&1 | head -n 1), flags $JAVA_OPTS"
  # As make bench: a start on a crowded machine must not fail Flyway's first connection (the service's acquisition
  # timeout is 3 s, application.properties); under stress a request past Gatling's 10 s timeout fails either way.
  export QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT=${QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT:-30S}
  start_service capacity
  local pid hz cores base_url
  pid=$(service_pid)
  hz=$(getconf CLK_TCK)
  cores=$(nproc)
  base_url="http://127.0.0.1:$API_PORT"
  log "machine: $cores cores, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

  local opts=()
  mapfile -t opts < <(gatling_opts stress "$base_url")
  local svc_before svc_after pg_before pg_after sink_before=0 sink_after=0 m_before m_after t_before t_after rc=0
  svc_before=$(proc_ticks "$pid")
  pg_before=$(pg_ticks)
  [ -z "$sink_pid" ] || sink_before=$(proc_ticks "$sink_pid")
  read -r -a m_before < <(machine_ticks)
  t_before=$(date +%s.%N)
  # shellcheck disable=SC2086 # MVN is a command with its flags
  $MVN -f loadtest/pom.xml gatling:test "${opts[@]}" "-DservicePid=$pid" "-DclockTicks=$hz" || rc=$?
  t_after=$(date +%s.%N)
  svc_after=$(proc_ticks "$pid")
  pg_after=$(pg_ticks)
  [ -z "$sink_pid" ] || sink_after=$(proc_ticks "$sink_pid")
  read -r -a m_after < <(machine_ticks)
  [ "$rc" = 0 ] || die "the stress run failed (exit $rc): the service did not even answer half of the requests"

  local cap; cap=$(summary capacity.rps)
  echo
  echo "================ capacity of shop on this machine (profile stress, SLO p95<=250 ms p99<=500 ms failed<=1 %) ================"
  if [ "$cap" = "-" ] || [ "$cap" = 0 ]; then
    echo "no step held the SLO: rerun with a smaller first step, e.g. make capacity RPS=10"
    rc=1
  else
    echo "sustained at SLO:    $cap requests/s  ($(summary capacity.step); p95 $(summary capacity.p95Ms) ms, p99 $(summary capacity.p99Ms) ms, failed $(summary capacity.failedPct))"
    echo "limit:               $(summary capacity.brokenBy)"
    echo "at that step:        service $(summary capacity.serviceCores) cores busy, $(summary capacity.serviceCpuMsPerRequest) ms CPU per request; Gatling $(summary capacity.gatlingCores) cores"
    echo "steps, service CPU:  $(summary steps.serviceCpuMsPerRequest) per request over the judged steps (the whole run's figure below includes the JIT's warm-up and the seeding)"
  fi
  awk -v sb="$svc_before" -v sa="$svc_after" -v hz="$hz" -v t0="$t_before" -v t1="$t_after" -v cores="$cores" \
      -v mb="${m_before[0]}" -v ma="${m_after[0]}" -v gc="$(summary gatlingCpuSeconds)" -v req="$(summary requests)" \
      -v gw="$(summary wallSeconds)" -v pg="$((pg_after - pg_before))" -v sink="$((sink_after - sink_before))" '
    BEGIN {
      svc = (sa - sb) / hz; wall = t1 - t0; busy = (ma - mb) / hz
      printf "whole stress run:    %.0f s wall (incl. Maven start and report), %d requests\n", wall, req
      printf "service CPU:         %.1f s (/proc/%s/stat utime+stime), %.2f ms per request, %.0f %% of the machine\n", svc, "PID", (req > 0 ? 1000 * svc / req : 0), 100 * svc / (wall * cores)
      if (gc != "-" && gw != "-" && gw > 0)
        printf "Gatling CPU:         %.1f s during %.0f s of injection = %.2f cores, %.0f %% of the machine, %.2f s per service CPU second\n", gc, gw, gc / gw, 100 * gc / (gw * cores), (svc > 0 ? gc / svc : 0)
      printf "PostgreSQL CPU:      %.1f s, %.2f ms per request\n", pg / hz, (req > 0 ? 1000 * pg / hz / req : 0)
      if (sink > 0) printf "span sink CPU:       %.1f s (the benchmark OTLP receiver)\n", sink / hz
      # Capacity per core: requests per CPU-second of what the platform runs (the service and PostgreSQL); the
      # load generator and the span sink stand in for clients and the tracing backend, which have cores of their
      # own in production. Unlike requests/s at the SLO it does not depend on what else the machine is doing.
      if (req > 0 && svc + pg / hz > 0)
        printf "per core:            %.0f requests per CPU-second of service + PostgreSQL (%.2f + %.2f ms per request)\n", req / (svc + pg / hz), 1000 * svc / req, 1000 * pg / hz / req
      other = busy - svc - (gc != "-" ? gc : 0) - pg / hz - sink / hz
      printf "whole machine busy:  %.1f core-seconds of %.0f available (%.0f %%); Maven and neighbours took %.1f of them\n", busy, wall * cores, 100 * busy / (wall * cores), (other > 0 ? other : 0)
    }' | sed "s|/proc/PID/|/proc/$pid/|"
  log "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "report: $(latest_report)"
  log "summary: $ROOT/$SUMMARY"
  return "$rc"
}

cmd_test_load() {
  need java "install a JDK 17 or newer"
  need mvn "install Apache Maven 3.8 or newer"
  # The root pom repeats the plugin version of loadtest/pom.xml so that `mvn gatling:test` resolves from the root.
  local v_root v_lt
  v_root=$(sed -n 's:.*<gatling-maven-plugin.version>\(.*\)</gatling-maven-plugin.version>.*:\1:p' pom.xml)
  v_lt=$(sed -n 's:.*<gatling-maven-plugin.version>\(.*\)</gatling-maven-plugin.version>.*:\1:p' loadtest/pom.xml)
  if [ -z "$v_root" ] || [ "$v_root" != "$v_lt" ]; then
    die "gatling-maven-plugin.version differs: pom.xml '$v_root' vs loadtest/pom.xml '$v_lt'"
  fi
  log "gatling-maven-plugin $v_lt in both poms"

  trap stop_service EXIT
  start_service test-load
  base_url="http://127.0.0.1:$API_PORT"
  out=loadtest/target/test-load
  mkdir -p "$out"

  log "1/3 smoke against the real service, from the repository root (mvn gatling:test): must pass"
  # shellcheck disable=SC2086 # MVN is a command with its flags
  if ! $MVN gatling:test -Dprofile=smoke "-DbaseUrl=$base_url" 2>&1 | tee "$out/smoke.log"; then
    die "the smoke profile failed against a healthy service (log: $out/smoke.log)"
  fi
  grep -q "percentage of failed events is less than or equal to 1.0 : true" "$out/smoke.log" ||
    die "the smoke run passed but its failed-requests gate line is missing (log: $out/smoke.log)"
  log "1/3 passed"

  log "2/3 the same smoke with chaos errorRate=1 (every /api call answers 500): must FAIL on its failed-requests gate"
  chaos_smoke chaos '{"errorRate":1}'
  gate_failed chaos "percentage of failed events"
  log "2/3 passed: the failed-requests gate is the one that failed"

  # 20 % of /api calls 1.5 s late: above smoke's p95 (500 ms) and p99 (1000 ms) gates, no failed request. A short
  # steady part (10 s) is enough: the slow calls start with the seeding.
  log "3/3 smoke with chaos latencyMs=1500 latencyRate=0.2: must FAIL on its p95 and p99 gates, not on failures"
  chaos_smoke latency '{"latencyMs":1500,"latencyRate":0.2}' -Dduration=10s
  gate_failed latency "95th percentile of response time"
  gate_failed latency "99th percentile of response time"
  grep -q "percentage of failed events is less than or equal to [0-9.]* : true" "$out/latency.log" ||
    die "the latency run failed its failed-requests gate too: latency alone must not fail requests (log: $out/latency.log)"
  log "3/3 passed: the p95 and p99 gates are the ones that failed"
  echo "test-load: 3 passed, 0 failed"
}

# chaos_smoke NAME CHAOS_JSON [-D...]: smoke against the local service with these chaos settings (reset afterwards);
# the run must fail the Maven build. Output in $out/NAME.log. Straight from loadtest/pom.xml: run 1/3 already proved
# the root's path, and going through the root would compile the service again for each run.
chaos_smoke() {
  local name=$1 settings=$2 rc=0
  shift 2
  curl -fsS -X PUT -H 'Content-Type: application/json' -d "$settings" "http://127.0.0.1:$MGMT_PORT/chaos" >/dev/null ||
    die "could not switch chaos on at :$MGMT_PORT/chaos"
  # shellcheck disable=SC2086 # MVN is a command with its flags
  $MVN -f loadtest/pom.xml gatling:test -Dprofile=smoke "-DbaseUrl=$base_url" "$@" >"$out/$name.log" 2>&1 || rc=$?
  curl -fsS -X DELETE "http://127.0.0.1:$MGMT_PORT/chaos" >/dev/null || true
  grep -E "^Global: |^GATE " "$out/$name.log" || true
  [ "$rc" != 0 ] || die "the smoke run PASSED with chaos $settings: the gates do not gate (log: $out/$name.log)"
  grep -q "BUILD FAILURE" "$out/$name.log" || die "mvn exited $rc without a BUILD FAILURE (log: $out/$name.log)"
}

# gate_failed NAME GATE: Gatling's assertion line for GATE says false in $out/NAME.log.
gate_failed() {
  grep -q "^Global: $2 is .* : false" "$out/$1.log" ||
    die "the $1 run did not fail its '$2' gate (log: $out/$1.log)"
}

case "${1:-}" in
  load) shift; cmd_load "$@" ;;
  capacity) cmd_capacity ;;
  test-load) cmd_test_load ;;
  *) die "usage: $0 load|capacity|test-load" ;;
esac
