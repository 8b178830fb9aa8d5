#!/usr/bin/env bash
# `make kind-deploy`: apply an overlay (K8S_OVERLAY, default k8s/overlays/kind) and wait until every workload in its
# namespace is ready. `make kind-deploy-envs`: the same for each of K8S_OVERLAYS in turn (the shared stack, then
# staging and production), each into the namespace its build declares. Server-side apply: the dashboards ConfigMap
# outgrows the 256 KiB annotation that client-side apply would store.
# Reference: https://kubernetes.io/docs/reference/using-api/server-side-apply/
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${K8S_OVERLAY:=k8s/overlays/kind}"
: "${K8S_OVERLAYS:=$K8S_OVERLAY}"
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }
# The name of the Namespace object in a rendered build (every overlay lists k8s/base/namespace once).
namespace_of() { awk '/^---$/ { ns = 0 } /^kind: Namespace$/ { ns = 1 } ns && /^  name: / { print $2; exit }' <<<"$1"; }

command -v kubectl >/dev/null || { echo "error: kubectl not found" >&2; exit 1; }
kubectl_kind version >/dev/null 2>&1 || { echo "error: cluster kind-$KIND_CLUSTER is not reachable: run make kind-up" >&2; exit 1; }

# Render and check every overlay before applying any, so a missing operator leaves the cluster untouched.
declare -A rendered namespace
for overlay in $K8S_OVERLAYS; do
  rendered[$overlay]="$(kubectl kustomize "$overlay")"
  namespace[$overlay]="$(namespace_of "${rendered[$overlay]}")"
  [ -n "${namespace[$overlay]}" ] || { echo "error: $overlay declares no Namespace" >&2; exit 1; }
  if grep -q '^kind: ScaledObject' <<<"${rendered[$overlay]}" && ! kubectl_kind get crd scaledobjects.keda.sh >/dev/null 2>&1; then
    echo "error: $overlay uses KEDA, which is not installed: see k8s/components/README.md (keda-request-rate)" >&2
    exit 1
  fi
  if grep -q '^kind: Cluster$' <<<"${rendered[$overlay]}" && ! kubectl_kind get crd clusters.postgresql.cnpg.io >/dev/null 2>&1; then
    echo "error: $overlay uses CloudNativePG, which is not installed: run make kind-cnpg (k8s/README.md)" >&2
    exit 1
  fi
done

for overlay in $K8S_OVERLAYS; do
  ns="${namespace[$overlay]}"
  # `apply` never deletes: switching from the plain HPA to the KEDA component would leave two autoscalers. The plain
  # HPA goes first: KEDA's admission webhook refuses a ScaledObject for a workload another HPA already scales.
  if grep -q '^kind: ScaledObject' <<<"${rendered[$overlay]}"; then
    kubectl_kind -n "$ns" delete horizontalpodautoscaler shop --ignore-not-found
  fi
  echo "kind-deploy: applying $overlay (namespace $ns)"
  kubectl_kind apply --server-side --field-manager=shop-platform -f - <<<"${rendered[$overlay]}"
done

for overlay in $K8S_OVERLAYS; do
  ns="${namespace[$overlay]}"
  echo "kind-deploy: waiting for the rollouts in $ns"
  if grep -q '^kind: Cluster$' <<<"${rendered[$overlay]}"; then
    # The operator reports Ready once every instance runs and the standbys stream from the primary.
    kubectl_kind -n "$ns" wait cluster/shop-db --for=condition=Ready --timeout=600s
  elif grep -q '^kind: StatefulSet$' <<<"${rendered[$overlay]}"; then
    kubectl_kind -n "$ns" rollout status statefulset/postgres --timeout=300s
  fi
  for deployment in $(kubectl_kind -n "$ns" get deployments -o name); do
    kubectl_kind -n "$ns" rollout status "$deployment" --timeout=300s
  done
done

echo "kind-deploy: ready"
for overlay in $K8S_OVERLAYS; do
  case "${namespace[$overlay]}" in
    shop) printf '  API         http://localhost/api/products\n  Swagger UI  http://localhost/q/swagger-ui\n' ;;
    shop-*) printf '  API (%s)  http://%s.localhost/api/products\n' "${namespace[$overlay]#shop-}" "${namespace[$overlay]#shop-}" ;;
  esac
done
echo '  Grafana     http://localhost/grafana/   (dashboard "Load and scaling" during make kind-load)'
