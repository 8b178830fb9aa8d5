#!/usr/bin/env bash
# `make kind-load`: the Gatling stress profile through the edge (https://localhost, loopback only; the server
# certificate verified against the local CA's truststore that make kind-ca writes) while the
# HPA's replica count is printed every few seconds to the console and to KIND_LOAD_LOG.
# The load itself is loadtest/loadtest.mk's `load` target; this script only watches the cluster around it.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${KIND_LOAD_LOG:=target/kind-load/hpa-timeline.txt}"
: "${KIND_CA_FILE:=.kind/ca.crt}"
: "${KIND_LOAD_INTERVAL:=5}"
# After the load stops, keep watching this long (scale-down starts only after the 300 s stabilization window).
: "${KIND_LOAD_TAIL_SECONDS:=60}"
NAMESPACE=shop
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }

kubectl_kind -n "$NAMESPACE" get deployment shop >/dev/null 2>&1 || { echo "error: no shop Deployment: run make kind-up kind-deploy" >&2; exit 1; }
# The plain HPA is called shop; the KEDA component's is keda-hpa-shop.
hpa="$(kubectl_kind -n "$NAMESPACE" get horizontalpodautoscalers -o name | head -n 1)"
[ -n "$hpa" ] || { echo "error: no HorizontalPodAutoscaler in namespace $NAMESPACE" >&2; exit 1; }

# The JVM truststore next to the CA certificate (kind-up.sh ca), by absolute path: Gatling runs in a forked JVM.
case "$KIND_CA_FILE" in
  /*) truststore="${KIND_CA_FILE%.*}.p12" ;;
  *) truststore="$PWD/${KIND_CA_FILE%.*}.p12" ;;
esac
[ -f "$truststore" ] || { echo "error: no truststore $truststore: run make kind-ca" >&2; exit 1; }

# Writes authenticate with the cluster's keys (Secret shop-api-credentials, README "Authentication").
SHOP_ADMIN_KEY="$(kubectl_kind -n "$NAMESPACE" get secret shop-api-credentials -o jsonpath='{.data.admin}' | base64 -d)"
SHOP_CLIENT_KEY="$(kubectl_kind -n "$NAMESPACE" get secret shop-api-credentials -o jsonpath='{.data.client}' | base64 -d)"
export SHOP_ADMIN_KEY SHOP_CLIENT_KEY

mkdir -p "$(dirname "$KIND_LOAD_LOG")"
printf '%-8s %-9s %-7s %-5s %s\n' time replicas desired ready "cpu%/request" | tee "$KIND_LOAD_LOG"

sample() {
  local status ready
  status="$(kubectl_kind -n "$NAMESPACE" get "$hpa" -o jsonpath='{.status.currentReplicas} {.status.desiredReplicas} {.status.currentMetrics[?(@.resource.name=="cpu")].resource.current.averageUtilization}' 2>/dev/null || true)"
  ready="$(kubectl_kind -n "$NAMESPACE" get deployment shop -o jsonpath='{.status.readyReplicas}' 2>/dev/null || true)"
  read -r current desired cpu <<<"$status"
  printf '%-8s %-9s %-7s %-5s %s\n' "$(date -u +%H:%M:%S)" "${current:--}" "${desired:--}" "${ready:-0}" "${cpu:-<unknown>}"
}

watch_hpa() {
  while true; do
    sample | tee -a "$KIND_LOAD_LOG"
    sleep "$KIND_LOAD_INTERVAL"
  done
}

watch_hpa &
watcher=$!
trap 'kill "$watcher" 2>/dev/null || true' EXIT

status=0
GATLING_TRUSTSTORE="$truststore" "${MAKE:-make}" load PROFILE=stress BASE_URL=https://localhost || status=$?
echo "kind-load: load finished (exit $status); watching ${KIND_LOAD_TAIL_SECONDS}s more" | tee -a "$KIND_LOAD_LOG"
sleep "$KIND_LOAD_TAIL_SECONDS"
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true

peak="$(awk 'NR > 1 && $2 ~ /^[0-9]+$/ && $2 > max { max = $2 } END { print max + 0 }' "$KIND_LOAD_LOG")"
echo "kind-load: peak replicas $peak; timeline in $KIND_LOAD_LOG" | tee -a "$KIND_LOAD_LOG"
exit "$status"
