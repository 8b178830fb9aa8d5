#!/usr/bin/env bash
# `make kind-up`: the kind cluster of k8s/kind/cluster.yaml with its remote add-ons at pinned versions
# (metrics-server for the HPA; the edge for https://localhost: Gateway API CRDs, Traefik's CRDs, cert-manager, then
# k8s/edge), and the shop image loaded into the nodes (k8s/scripts/kind-image.sh: built when no image of this source
# state exists). `make kind-ca` writes the local CA's certificate and prints how to trust it.
# References: https://kind.sigs.k8s.io/docs/user/quick-start/#loading-an-image-into-your-cluster
#             https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api   https://cert-manager.io/docs/installation/kubectl/
#             https://doc.traefik.io/traefik/v3.7/reference/install-configuration/providers/kubernetes/kubernetes-gateway/
#             https://github.com/kubernetes-sigs/metrics-server#configuration
#             https://keda.sh/docs/2.17/deploy/#yaml
#             https://cloudnative-pg.io/documentation/1.30/installation_upgrade/
# Usage: kind-up.sh preflight | up | edge | ca | keda | cnpg      (variables come from k8s/k8s.mk)
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${METRICS_SERVER_VERSION:=v0.7.2}"
: "${GATEWAY_API_VERSION:=1.5.1}"
: "${TRAEFIK_VERSION:=3.7.9}"
: "${CERT_MANAGER_VERSION:=1.20.3}"
: "${KIND_CA_FILE:=.kind/ca.crt}"
# How long to keep applying k8s/edge while cert-manager's webhook is not serving yet, and how often to try.
: "${EDGE_APPLY_TIMEOUT:=180}"
: "${EDGE_APPLY_POLL:=5}"
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

  kubectl_kind -n kube-system rollout status deployment/metrics-server --timeout=180s
  edge
  cnpg

  # The shop image under its per-source-state tag (kind-image.sh); make kind-deploy does the same after a change.
  k8s/scripts/kind-image.sh load
  echo "kind-up: ready; next: make kind-deploy"
}

# The edge (k8s/README.md, "Edge"): the CRDs it is made of, cert-manager, then Traefik, the Gateway and the local CA.
edge() {
  echo "kind-up: Gateway API v$GATEWAY_API_VERSION (standard channel), Traefik v$TRAEFIK_VERSION CRDs, cert-manager v$CERT_MANAGER_VERSION"
  kubectl_kind apply --server-side -f "https://github.com/kubernetes-sigs/gateway-api/releases/download/v$GATEWAY_API_VERSION/standard-install.yaml"
  # Server-side: the Middleware CRD alone is larger than client-side apply's annotation allows.
  kubectl_kind apply --server-side -f "https://raw.githubusercontent.com/traefik/traefik/v$TRAEFIK_VERSION/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"
  kubectl_kind apply --server-side -f "https://github.com/cert-manager/cert-manager/releases/download/v$CERT_MANAGER_VERSION/cert-manager.yaml"
  local deployment
  for deployment in cert-manager cert-manager-cainjector cert-manager-webhook; do
    kubectl_kind -n cert-manager rollout status "deployment/$deployment" --timeout=300s
  done
  # cert-manager's webhook admits Certificates and Issuers only once its CA bundle has been injected, some seconds
  # after the rollout: retry the apply, bounded by EDGE_APPLY_TIMEOUT.
  local deadline=$((SECONDS + EDGE_APPLY_TIMEOUT)) out=""
  until out="$(kubectl_kind apply --server-side --field-manager=shop-platform -k k8s/edge 2>&1)"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: k8s/edge still refused after ${EDGE_APPLY_TIMEOUT}s: $out" >&2
      exit 1
    fi
    sleep "$EDGE_APPLY_POLL"
  done
  echo "$out"
  kubectl_kind -n traefik rollout status deployment/traefik --timeout=180s
  kubectl_kind -n traefik wait certificate/edge-tls --for=condition=Ready --timeout=180s
  kubectl_kind -n traefik wait gateway/edge --for=condition=Programmed --timeout=180s
  ca
}

# The local CA's certificate to KIND_CA_FILE, plus a PKCS12 truststore next to it (for Gatling and other JVM
# clients), and how to trust it. The CA's Secret is local-ca in namespace cert-manager (k8s/edge/local-ca.yaml).
ca() {
  local pem truststore="${KIND_CA_FILE%.*}.p12"
  mkdir -p "$(dirname "$KIND_CA_FILE")"
  pem="$(kubectl_kind -n cert-manager get secret local-ca -o jsonpath='{.data.ca\.crt}')"
  [ -n "$pem" ] || { echo "error: no local CA yet (secret cert-manager/local-ca): run make kind-up" >&2; exit 1; }
  base64 -d <<<"$pem" >"$KIND_CA_FILE"
  command -v keytool >/dev/null || { echo "error: keytool (JDK) not found: needed for the JVM truststore $truststore" >&2; exit 1; }
  rm -f "$truststore"
  keytool -importcert -noprompt -alias shopwatch-local-ca -file "$KIND_CA_FILE" -keystore "$truststore" \
    -storetype PKCS12 -storepass changeit >/dev/null
  cat <<TRUST
kind-up: local CA written to $KIND_CA_FILE (JVM truststore: $truststore, password changeit). Trust it:
  curl:     curl --cacert $KIND_CA_FILE https://localhost/api/products
  Java:     -Djavax.net.ssl.trustStore=$truststore -Djavax.net.ssl.trustStorePassword=changeit
            (make kind-load passes it to Gatling by itself)
  Debian:   sudo cp $KIND_CA_FILE /usr/local/share/ca-certificates/shopwatch-kind.crt && sudo update-ca-certificates
  macOS:    sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain $KIND_CA_FILE
  Firefox (own store): Settings, Privacy & Security, Certificates, View Certificates, Authorities, Import $KIND_CA_FILE
TRUST
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
  edge) preflight && edge ;;
  ca) ca ;;
  keda) preflight && keda ;;
  cnpg) preflight && cnpg ;;
  *) echo "usage: $0 preflight|up|edge|ca|keda|cnpg" >&2; exit 2 ;;
esac
