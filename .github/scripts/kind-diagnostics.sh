#!/usr/bin/env bash
# Saves the state of the kind cluster when an e2e run fails: objects, events, HPA and metrics-server view, the edge,
# and the logs of every pod in the platform's namespace. kubectl: https://kubernetes.io/docs/reference/kubectl/
#   kind-diagnostics.sh OUT_DIR [NAMESPACE]      (KUBE_CONTEXT picks the kubeconfig context, e.g. kind-shop)
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 OUT_DIR [NAMESPACE]" >&2; exit 2; }
out=$1
ns=${2:-shop}
mkdir -p "$out"
kubectl() { command kubectl ${KUBE_CONTEXT:+--context "$KUBE_CONTEXT"} "$@"; }

# Each command may fail on a half-created cluster; keep going and record what it said.
save() {
  local file=$1
  shift
  "$@" >"$out/$file" 2>&1 || echo "(failed: $*)" >>"$out/$file"
}

save nodes.txt kubectl get nodes -o wide
save all.txt kubectl get all,hpa,pdb,networkpolicy -A -o wide
save events.txt kubectl get events -A --sort-by=.lastTimestamp
save hpa.txt kubectl -n "$ns" describe hpa
save top-pods.txt kubectl -n "$ns" top pods
save describe-pods.txt kubectl -n "$ns" describe pods
# CloudNativePG (the kind overlay's PostgreSQL): the Cluster's status, backups, and the operator's log.
save cnpg.txt kubectl -n "$ns" describe clusters.postgresql.cnpg.io,backups.postgresql.cnpg.io,scheduledbackups.postgresql.cnpg.io
save logs-cnpg-operator.txt kubectl -n cnpg-system logs deployment/cnpg-controller-manager --tail=2000
# The edge: the Gateway and its routes with their status conditions, the certificates, Traefik's and cert-manager's logs.
save edge.txt kubectl describe gateways.gateway.networking.k8s.io,httproutes.gateway.networking.k8s.io,certificates.cert-manager.io -A
save logs-traefik.txt kubectl -n traefik logs deployment/traefik --tail=2000
save logs-cert-manager.txt kubectl -n cert-manager logs deployment/cert-manager --tail=2000
for pod in $(kubectl -n "$ns" get pods -o name 2>/dev/null); do
  name=${pod#pod/}
  save "logs-${name}.txt" kubectl -n "$ns" logs --all-containers --prefix --tail=2000 "$pod"
done
echo "cluster state written to $out"
