#!/usr/bin/env bash
# `make kind-up`: the kind cluster of k8s/kind/cluster.yaml with its two remote add-ons at pinned versions
# (metrics-server for the HPA, ingress-nginx for http://localhost), and the shop image loaded into the nodes
# (k8s/scripts/kind-image.sh: built when no image of this source state exists).
# References: https://kind.sigs.k8s.io/docs/user/ingress/   https://kind.sigs.k8s.io/docs/user/quick-start/#loading-an-image-into-your-cluster
#             https://github.com/kubernetes-sigs/metrics-server#configuration
#             https://keda.sh/docs/2.17/deploy/#yaml
#             https://cloudnative-pg.io/documentation/1.30/installation_upgrade/
# Usage: kind-up.sh preflight | up | keda | cnpg      (variables come from k8s/k8s.mk)
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${METRICS_SERVER_VERSION:=v0.7.2}"
: "${INGRESS_NGINX_VERSION:=controller-v1.12.3}"
: "${KEDA_VERSION:=2.17.2}"
: "${CNPG_VERSION:=1.30.0}"
# kind enforces NetworkPolicy from this release on; older ones would silently ignore the NetworkPolicies of k8s/base.
KIND_MIN_VERSION=0.24.0
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }

preflight() {
  local tool
  for tool in docker kind kubectl; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found: see k8s/README.md (Prerequisites)" >&2; exit 1; }
  done
  docker info >/dev/null 2>&1 || { echo "error: the Docker engine is not reachable (docker info failed)" >&2; exit 1; }
  local version
  version="$(kind version | sed -n 's/^kind v\([0-9.]*\).*/\1/p')"
  if [ "$(printf '%s\n%s\n' "$KIND_MIN_VERSION" "$version" | sort -V | head -n 1)" != "$KIND_MIN_VERSION" ]; then
    echo "error: kind $version is older than $KIND_MIN_VERSION, which is needed for NetworkPolicy enforcement" >&2
    exit 1
  fi
}

# The NetworkPolicy kube-api-egress allows port 6443 on Docker's default private pools only; say so when the
# control-plane node got an address elsewhere (a custom Docker address pool).
check_api_address() {
  local ip
  ip="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$KIND_CLUSTER-control-plane" | awk '{print $1}')"
  case "$ip" in
    172.1[6-9].* | 172.2[0-9].* | 172.3[01].* | 192.168.*) echo "kind-up: API server at $ip:6443 (inside the blocks of NetworkPolicy kube-api-egress)" ;;
    *) echo "warning: API server at $ip is outside 172.16.0.0/12 and 192.168.0.0/16: add its block to k8s/base/namespace/network-policies.yaml (kube-api-egress), or Alloy and Prometheus cannot discover pods" >&2 ;;
  esac
}

up() {
  if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    echo "kind-up: cluster $KIND_CLUSTER exists"
  else
    kind create cluster --name "$KIND_CLUSTER" --config k8s/kind/cluster.yaml --wait 180s
  fi
  check_api_address

  echo "kind-up: metrics-server $METRICS_SERVER_VERSION"
  kubectl_kind apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/$METRICS_SERVER_VERSION/components.yaml"
  # kind's kubelets serve self-signed certificates; without this flag metrics-server gets no data and the HPA
  # shows <unknown>. Added once (the patch appends to the argument list).
  if ! kubectl_kind -n kube-system get deployment metrics-server -o jsonpath='{.spec.template.spec.containers[0].args}' | grep -q -- '--kubelet-insecure-tls'; then
    kubectl_kind -n kube-system patch deployment metrics-server --type=json \
      -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'
  fi

  echo "kind-up: ingress-nginx $INGRESS_NGINX_VERSION"
  kubectl_kind apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$INGRESS_NGINX_VERSION/deploy/static/provider/kind/deploy.yaml"

  kubectl_kind -n kube-system rollout status deployment/metrics-server --timeout=180s
  kubectl_kind -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
  cnpg

  # The shop image under its per-source-state tag (kind-image.sh); make kind-deploy does the same after a change.
  k8s/scripts/kind-image.sh load
  echo "kind-up: ready; next: make kind-deploy"
}

# Optional add-on for the keda-request-rate component (k8s/components/keda-request-rate/README.md).
keda() {
  echo "kind-up: KEDA $KEDA_VERSION"
  # Server-side: KEDA's CRDs are too large for the annotation client-side apply would write.
  kubectl_kind apply --server-side -f "https://github.com/kedacore/keda/releases/download/v$KEDA_VERSION/keda-$KEDA_VERSION.yaml"
  # The Deployments of the release manifest (k8s/tests/third-party/keda/ lists them for the pinned version).
  local deployment
  for deployment in keda-operator keda-metrics-apiserver keda-admission; do
    kubectl_kind -n keda rollout status "deployment/$deployment" --timeout=300s
  done
}

# The CloudNativePG operator for the kind overlay's PostgreSQL (k8s/components/cloudnative-pg): namespace
# cnpg-system, Deployment cnpg-controller-manager, as the release manifest at that tag names them.
cnpg() {
  echo "kind-up: CloudNativePG $CNPG_VERSION"
  # Server-side: the Cluster CRD is far larger than client-side apply's annotation allows.
  kubectl_kind apply --server-side -f "https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v$CNPG_VERSION/cnpg-$CNPG_VERSION.yaml"
  kubectl_kind -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout=300s
}

case "${1:-}" in
  preflight) preflight ;;
  up) preflight && up ;;
  keda) preflight && keda ;;
  cnpg) preflight && cnpg ;;
  *) echo "usage: $0 preflight|up|keda|cnpg" >&2; exit 2 ;;
esac
