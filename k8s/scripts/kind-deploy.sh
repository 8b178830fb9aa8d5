#!/usr/bin/env bash
# `make kind-deploy`: apply an overlay (K8S_OVERLAY, default k8s/overlays/kind) and wait until every workload in
# the namespace is ready. Server-side apply: the dashboards ConfigMap outgrows the 256 KiB annotation that
# client-side apply would store. Reference: https://kubernetes.io/docs/reference/using-api/server-side-apply/
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${K8S_OVERLAY:=k8s/overlays/kind}"
NAMESPACE=shop
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }

command -v kubectl >/dev/null || { echo "error: kubectl not found" >&2; exit 1; }
kubectl_kind version >/dev/null 2>&1 || { echo "error: cluster kind-$KIND_CLUSTER is not reachable: run make kind-up" >&2; exit 1; }

rendered="$(kubectl kustomize "$K8S_OVERLAY")"
if grep -q '^kind: ScaledObject' <<<"$rendered" && ! kubectl_kind get crd scaledobjects.keda.sh >/dev/null 2>&1; then
  echo "error: $K8S_OVERLAY uses KEDA, which is not installed: see k8s/components/README.md (keda-request-rate)" >&2
  exit 1
fi

if grep -q '^kind: Cluster$' <<<"$rendered" && ! kubectl_kind get crd clusters.postgresql.cnpg.io >/dev/null 2>&1; then
  echo "error: $K8S_OVERLAY uses CloudNativePG, which is not installed: run make kind-cnpg (k8s/README.md)" >&2
  exit 1
fi

# `apply` never deletes: switching from the plain HPA to the KEDA component would leave two autoscalers. The plain
# HPA goes first: KEDA's admission webhook refuses a ScaledObject for a workload another HPA already scales.
if ! grep -q '^kind: HorizontalPodAutoscaler' <<<"$rendered"; then
  kubectl_kind -n "$NAMESPACE" delete horizontalpodautoscaler shop --ignore-not-found
fi

echo "kind-deploy: applying $K8S_OVERLAY"
kubectl_kind apply --server-side --field-manager=shop-platform -f - <<<"$rendered"

echo "kind-deploy: waiting for the rollouts"
if grep -q '^kind: Cluster$' <<<"$rendered"; then
  # The operator reports Ready once every instance runs and the standby streams from the primary.
  kubectl_kind -n "$NAMESPACE" wait cluster/shop-db --for=condition=Ready --timeout=600s
else
  kubectl_kind -n "$NAMESPACE" rollout status statefulset/postgres --timeout=300s
fi
for deployment in $(kubectl_kind -n "$NAMESPACE" get deployments -o name); do
  kubectl_kind -n "$NAMESPACE" rollout status "$deployment" --timeout=300s
done

cat <<URLS
kind-deploy: ready
  API         http://localhost/api/products
  Swagger UI  http://localhost/q/swagger-ui
  Grafana     http://localhost/grafana/   (dashboard "Load and scaling" during make kind-load)
URLS
