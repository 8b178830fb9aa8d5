#!/usr/bin/env bash
# `make kind-failover-drill`: delete the primary PostgreSQL instance of the CloudNativePG cluster shop-db while
# Gatling sends traffic through the edge, and measure how long the API takes to serve a database-backed
# request again. Fails when that exceeds FAILOVER_BOUND_SECONDS, or when no other instance became the primary.
# Loopback only (https://localhost, kind's edge, verified with the local CA of make kind-ca); bounded: the load run and every wait stop by themselves.
# References: https://cloudnative-pg.io/documentation/1.30/failover/ (what the operator does),
#             k8s/README.md "Failover drill" (the bound and why).
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${FAILOVER_CLUSTER:=shop-db}"
# The stated bound (k8s/README.md): smart shutdown 10 s + promotion + Service switch + the pool's reconnect.
: "${FAILOVER_BOUND_SECONDS:=60}"
: "${FAILOVER_LOG:=target/kind-failover/drill.txt}"
: "${FAILOVER_PROBE_INTERVAL:=0.5}"
# Load before the deletion (warm pools, steady traffic) and how long the whole load run lasts.
: "${FAILOVER_WARMUP_SECONDS:=30}"
: "${FAILOVER_LOAD_DURATION:=3m}"
: "${FAILOVER_URL:=https://localhost/api/products?size=1}"
: "${KIND_CA_FILE:=.kind/ca.crt}"
NAMESPACE=shop
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "kind-failover-drill: $*" | tee -a "$FAILOVER_LOG"; }

primary() { kubectl_kind -n "$NAMESPACE" get cluster "$FAILOVER_CLUSTER" -o jsonpath='{.status.currentPrimary}' 2>/dev/null || true; }
# The API answers 200 only when PostgreSQL (through shop-db-rw) answers: the product list is a query.
api_ok() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' --cacert "$KIND_CA_FILE" "$FAILOVER_URL" || true)" = 200 ]; }

mkdir -p "$(dirname "$FAILOVER_LOG")"
: >"$FAILOVER_LOG"
before="$(primary)"
[ -n "$before" ] || { echo "error: no primary reported for cluster $FAILOVER_CLUSTER in namespace $NAMESPACE: run make kind-up kind-deploy" >&2; exit 1; }
api_ok || { echo "error: $FAILOVER_URL does not answer 200 before the drill" >&2; exit 1; }
log "primary $before; bound ${FAILOVER_BOUND_SECONDS}s"

load_status=0
GATLING_TRUSTSTORE="$PWD/${KIND_CA_FILE%.*}.p12" "${MAKE:-make}" load PROFILE=load RPS=50 DURATION="$FAILOVER_LOAD_DURATION" BASE_URL=https://localhost >"$(dirname "$FAILOVER_LOG")/gatling.txt" 2>&1 &
load=$!
trap 'kill "$load" 2>/dev/null || true' EXIT
sleep "$FAILOVER_WARMUP_SECONDS"

start="$(now)"
kubectl_kind -n "$NAMESPACE" delete pod "$before" --wait=false
log "deleted pod $before"

# Until the API answers again with a new primary in place, or the bound (plus a margin to report the overshoot).
first_failure="" recovered="" after="" failures=0
deadline="$(awk -v s="$start" -v b="$FAILOVER_BOUND_SECONDS" 'BEGIN { printf "%.0f", s + 2 * b }')"
while [ "$(date +%s)" -lt "$deadline" ]; do
  if api_ok; then
    after="$(primary)"
    if [ -n "$after" ] && [ "$after" != "$before" ]; then recovered="$(now)"; break; fi
  else
    failures=$((failures + 1))
    [ -n "$first_failure" ] || first_failure="$(now)"
  fi
  sleep "$FAILOVER_PROBE_INTERVAL"
done

wait "$load" || load_status=$?
trap - EXIT
log "load run finished (exit $load_status; failed requests during the failover are expected, see $(dirname "$FAILOVER_LOG")/gatling.txt)"
if [ -z "$recovered" ]; then
  log "FAILED: no new primary serving the API within $((2 * FAILOVER_BOUND_SECONDS))s (primary now: ${after:-none})"
  exit 1
fi
took="$(elapsed "$start" "$recovered")"
log "new primary $after; API serving again ${took}s after the deletion (first failed probe at +$([ -n "$first_failure" ] && elapsed "$start" "$first_failure" || echo none)s, $failures failed probes)"
if awk -v t="$took" -v b="$FAILOVER_BOUND_SECONDS" 'BEGIN { exit !(t > b) }'; then
  log "FAILED: ${took}s exceeds the bound of ${FAILOVER_BOUND_SECONDS}s"
  exit 1
fi
log "passed: ${took}s <= ${FAILOVER_BOUND_SECONDS}s"
