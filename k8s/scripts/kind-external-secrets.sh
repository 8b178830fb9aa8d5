#!/usr/bin/env bash
# `make kind-external-secrets` and `make kind-openbao-seed`: the External Secrets Operator (release manifest at
# ESO_VERSION), a kind-only OpenBao dev server with the ClusterSecretStore `openbao`
# (k8s/components/external-secrets/openbao), its Kubernetes auth for the operator, and random values for the
# ExternalSecrets of ESO_OVERLAY (k8s/components/external-secrets/README.md).
# References: https://external-secrets.io/latest/introduction/getting-started/
#             https://openbao.org/docs/auth/kubernetes/   https://openbao.org/docs/commands/
# Usage: kind-external-secrets.sh install | seed          (variables come from k8s/k8s.mk)
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${ESO_VERSION:?ESO_VERSION is not set (k8s/k8s.mk sets it)}"
# The build whose ExternalSecrets are seeded.
: "${ESO_OVERLAY:=k8s/tests/kind-external-secrets}"
OPENBAO_DIR=k8s/components/external-secrets/openbao
# Facts of the v$ESO_VERSION release manifest (k8s/tests/third-party/external-secrets-v*/release-facts.json).
ESO_NAMESPACE=default
ESO_SERVICE_ACCOUNT=external-secrets
ESO_DEPLOYMENTS=(external-secrets external-secrets-webhook external-secrets-cert-controller)
ESO_CRDS=(crd/externalsecrets.external-secrets.io crd/clustersecretstores.external-secrets.io)
# The OpenBao side of the ClusterSecretStore (openbao/cluster-secret-store.yaml): auth mount, role, read-only policy.
AUTH_MOUNT=kubernetes
ROLE=external-secrets
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }
bao() { kubectl_kind -n openbao exec -i deployment/openbao -c openbao -- bao "$@"; }
die() { echo "error: $*" >&2; exit 1; }
case "${1:-}" in
  install | seed) ;;
  *) echo "usage: $0 install|seed" >&2; exit 2 ;;
esac
# Both commands work on the cluster.
command -v kubectl >/dev/null || die "kubectl not found"
kubectl_kind version >/dev/null 2>&1 || die "cluster kind-$KIND_CLUSTER is not reachable: run make kind-up"

seed() {
  kubectl_kind -n openbao get deployment openbao >/dev/null 2>&1 || die "OpenBao is not deployed: run make kind-external-secrets"
  kubectl kustomize "$ESO_OVERLAY" | k8s/scripts/kind-secrets.sh seed-openbao
}

install() {
  echo "kind-external-secrets: External Secrets Operator v$ESO_VERSION"
  kubectl_kind apply --server-side \
    -f "https://github.com/external-secrets/external-secrets/releases/download/v$ESO_VERSION/external-secrets.yaml"
  kubectl_kind wait --for=condition=Established --timeout=120s "${ESO_CRDS[@]}"
  local d
  for d in "${ESO_DEPLOYMENTS[@]}"; do
    kubectl_kind -n "$ESO_NAMESPACE" rollout status "deployment/$d" --timeout=300s
  done
  # OpenBao's root token, generated (never committed) before the server that reads it.
  k8s/scripts/kind-secrets.sh overlays "$OPENBAO_DIR"
  kubectl_kind apply --server-side --field-manager=shop-platform -k "$OPENBAO_DIR"
  kubectl_kind -n openbao rollout status deployment/openbao --timeout=300s
  # Kubernetes auth: OpenBao checks the operator's ServiceAccount token with the TokenReview API (its own token and CA
  # from the pod), and gives that ServiceAccount read access to secret/data/shop/* only.
  bao auth list -format=json | grep -q "\"$AUTH_MOUNT/\"" || bao auth enable -path="$AUTH_MOUNT" kubernetes
  bao write "auth/$AUTH_MOUNT/config" kubernetes_host=https://kubernetes.default.svc
  printf 'path "secret/data/shop/*" {\n  capabilities = ["read"]\n}\n' | bao policy write "$ROLE" -
  bao write "auth/$AUTH_MOUNT/role/$ROLE" bound_service_account_names="$ESO_SERVICE_ACCOUNT" \
    bound_service_account_namespaces="$ESO_NAMESPACE" policies="$ROLE" ttl=15m
  seed
  echo "kind-external-secrets: ready; next: make kind-deploy K8S_OVERLAY=$ESO_OVERLAY"
}

"$1"
