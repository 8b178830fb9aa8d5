#!/usr/bin/env bash
# Canary releases on the kind cluster (k8s/components/canary/README.md).
#   kind-canary.sh install   `make kind-rollouts`: the Argo Rollouts controller, release manifest by URL at
#                            ARGO_ROLLOUTS_VERSION, into namespace argo-rollouts; waits until it runs.
#   kind-canary.sh run       `make kind-canary BAD=0|1`: starts a new revision of the shop (BAD=1: with
#                            SHOP_CHAOS_ERROR_RATE set, so its pods fail a share of API calls from the start), sends
#                            traffic through the edge (HTTPS, the local CA), prints the Rollout's timeline, and exits 0 only when the
#                            outcome is the expected one: BAD=1 aborted and rolled back to the old pods by itself,
#                            BAD=0 promoted. Reads .status of the Rollout (no kubectl plugin needed).
# References: https://argo-rollouts.readthedocs.io/en/stable/installation/
#             https://argo-rollouts.readthedocs.io/en/stable/features/canary/
# Variables (k8s/k8s.mk sets the first two): KIND_CLUSTER, ARGO_ROLLOUTS_VERSION, CANARY_NAMESPACE (shop-production),
# BAD (0|1), CANARY_ERROR_RATE (0.5), CANARY_URL (traffic target through the edge: https://production.localhost),
# KIND_CA_FILE (the local CA, make kind-ca),
# CANARY_TIMEOUT (seconds, 900), CANARY_INTERVAL (seconds between samples, 5), CANARY_LOG (timeline file).
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${ARGO_ROLLOUTS_VERSION:?ARGO_ROLLOUTS_VERSION is not set (k8s/k8s.mk sets it)}"
: "${CANARY_NAMESPACE:=shop-production}"
: "${BAD:=0}"
: "${CANARY_ERROR_RATE:=0.5}"
# The production overlay's HTTPRoute answers for production.localhost (curl resolves *.localhost to the loopback
# address; kind maps 127.0.0.1:443 to the edge). About 10 requests/s: well inside the per-client rate limit.
: "${CANARY_URL:=https://production.localhost/api/products?size=1}"
: "${KIND_CA_FILE:=.kind/ca.crt}"
: "${CANARY_TIMEOUT:=900}"
: "${CANARY_INTERVAL:=5}"
: "${CANARY_TRAFFIC_PAUSE:=0.1}"
: "${CANARY_LOG:=target/kind-canary/timeline-bad$BAD.txt}"
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }
die() { echo "kind-canary: $*" >&2; exit 1; }

install() {
  local url="https://github.com/argoproj/argo-rollouts/releases/download/v$ARGO_ROLLOUTS_VERSION/install.yaml"
  echo "kind-rollouts: Argo Rollouts v$ARGO_ROLLOUTS_VERSION ($url)"
  # The release manifest has no Namespace object; its ClusterRoleBinding names the ServiceAccount in argo-rollouts.
  kubectl_kind create namespace argo-rollouts --dry-run=client -o yaml | kubectl_kind apply -f -
  # Server-side: the Rollout CRD is larger than the annotation client-side apply would write.
  kubectl_kind apply --server-side -n argo-rollouts -f "$url"
  kubectl_kind -n argo-rollouts rollout status deployment/argo-rollouts --timeout=300s
}

# One line of the Rollout's state: phase|step|current hash|stable hash|abort|ready|updated|analysis run|run phase|message
state() {
  kubectl_kind -n "$CANARY_NAMESPACE" get rollout shop -o jsonpath='{.status.phase}|{.status.currentStepIndex}|{.status.currentPodHash}|{.status.stableRS}|{.status.abort}|{.status.readyReplicas}|{.status.updatedReplicas}|{.status.canary.currentStepAnalysisRunStatus.name}|{.status.canary.currentStepAnalysisRunStatus.status}|{.status.message}'
}

traffic() {
  local out="$1"
  while :; do
    curl -s -o /dev/null -m 5 -w '%{http_code}\n' --cacert "$KIND_CA_FILE" "$CANARY_URL" >>"$out" || echo 000 >>"$out"
    sleep "$CANARY_TRAFFIC_PAUSE"
  done
}

run() {
  case "$BAD" in 0 | 1) ;; *) echo "kind-canary: BAD must be 0 or 1, not '$BAD'" >&2; exit 2 ;; esac
  command -v kubectl >/dev/null || die "kubectl not found: see k8s/README.md (Prerequisites)"
  mkdir -p "$(dirname "$CANARY_LOG")"
  : >"$CANARY_LOG"
  log() { echo "$*" | tee -a "$CANARY_LOG"; }

  local s phase stable steps
  s="$(state)" || die "no Rollout shop in namespace $CANARY_NAMESPACE (deploy an overlay with k8s/components/canary, and make kind-rollouts)"
  IFS='|' read -r phase _ _ stable _ _ _ _ _ _ <<<"$s"
  case "$phase" in
    Healthy | Degraded) ;;
    *) die "the Rollout is $phase, not settled (Healthy or Degraded after an abort): wait for it, or kubectl argo rollouts promote/abort" ;;
  esac
  [ -n "$stable" ] || die "the Rollout reports no stable ReplicaSet yet"
  steps="$(kubectl_kind -n "$CANARY_NAMESPACE" get rollout shop -o jsonpath='{range .spec.strategy.canary.steps[*]}x{end}')"

  local marker patch
  marker="$(date -u +%Y%m%dT%H%M%SZ)"
  # One strategic-merge patch of the Deployment's pod template (the Rollout's workloadRef): a new revision.
  if [ "$BAD" = 1 ]; then
    patch="{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"shopwatch.dev/canary-run\":\"$marker\"}},\"spec\":{\"containers\":[{\"name\":\"shop\",\"env\":[{\"name\":\"SHOP_CHAOS_ERROR_RATE\",\"value\":\"$CANARY_ERROR_RATE\"}]}]}}}}"
  else
    patch="{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"shopwatch.dev/canary-run\":\"$marker\"}},\"spec\":{\"containers\":[{\"name\":\"shop\",\"env\":[{\"name\":\"SHOP_CHAOS_ERROR_RATE\",\"\$patch\":\"delete\"}]}]}}}}"
  fi

  # Globals: the EXIT trap runs after run() has returned.
  traffic_out="$(mktemp)"
  traffic "$traffic_out" &
  traffic_pid=$!
  trap 'kill "$traffic_pid" 2>/dev/null || true; rm -f "$traffic_out"' EXIT

  log "kind-canary: BAD=$BAD in $CANARY_NAMESPACE; stable ReplicaSet hash $stable; ${#steps} canary steps; traffic to $CANARY_URL"
  kubectl_kind -n "$CANARY_NAMESPACE" patch deployment shop --type=strategic -p "$patch" >/dev/null
  log "kind-canary: new revision started ($([ "$BAD" = 1 ] && echo "SHOP_CHAOS_ERROR_RATE=$CANARY_ERROR_RATE" || echo "no faults"), marker $marker)"
  log "  time  phase        step   canary-hash  ready  updated  analysis"

  local start now last="" current abort ready updated run_name run_phase message step outcome=""
  start="$(date +%s)"
  while :; do
    now="$(date +%s)"
    s="$(state)" || s="|||||||||"
    IFS='|' read -r phase step current stable_now abort ready updated run_name run_phase message <<<"$s"
    local line
    line="$(printf '%-12s %-6s %-12s %-6s %-8s %s' "$phase" "${step:-?}/${#steps}" "${current:--}" "${ready:-0}" "${updated:-0}" "${run_name:+$run_name $run_phase}")"
    if [ "$line" != "$last" ]; then
      log "$(printf '%5ss  %s' "$((now - start))" "$line")"
      last="$line"
    fi
    if [ "$abort" = true ] && [ "$stable_now" = "$stable" ]; then
      outcome=aborted
    elif [ "$phase" = Healthy ] && [ -n "$current" ] && [ "$current" != "$stable" ] && [ "$stable_now" = "$current" ]; then
      outcome=promoted
    fi
    [ -n "$outcome" ] && break
    if [ "$((now - start))" -ge "$CANARY_TIMEOUT" ]; then
      outcome="undecided after ${CANARY_TIMEOUT}s"
      break
    fi
    sleep "$CANARY_INTERVAL"
  done
  kill "$traffic_pid" 2>/dev/null || true

  log "kind-canary: $outcome after $((now - start))s${message:+ ($message)}"
  # The measurements behind the decision: every AnalysisRun of this revision, each metric's phase and values.
  kubectl_kind -n "$CANARY_NAMESPACE" get analysisruns -l "rollouts-pod-template-hash=$current" \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{range .status.metricResults[*]}  {.name}={.phase} [{range .measurements[*]}{.value} {end}]{end}{"\n"}{end}' \
    2>/dev/null | sed 's/^/  analysis: /' | tee -a "$CANARY_LOG" || true
  local total bad
  total="$(wc -l <"$traffic_out" | tr -d ' ')"
  bad="$(grep -cv '^[234]' "$traffic_out" || true)"
  log "kind-canary: traffic: $total requests, $bad not 2xx-4xx (5xx or no answer)"

  local want
  want="$([ "$BAD" = 1 ] && echo aborted || echo promoted)"
  if [ "$outcome" != "$want" ]; then
    log "kind-canary: FAILED: expected the canary to be $want, it was $outcome"
    exit 1
  fi
  log "kind-canary: passed: BAD=$BAD was $want by the analysis, without anyone intervening"
}

case "${1:-}" in
  install) install ;;
  run) run ;;
  *) echo "usage: $0 install|run" >&2; exit 2 ;;
esac
