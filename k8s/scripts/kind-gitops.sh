#!/usr/bin/env bash
# `make kind-argocd` and `make kind-gitops`: Argo CD (release manifest at ARGOCD_VERSION) on the kind cluster, and
# the GitOps deployment of the commit under test through a git server inside the cluster (k8s/gitops/).
# References: https://argo-cd.readthedocs.io/en/stable/getting_started/
#             https://git-scm.com/docs/git-bundle   https://git-scm.com/docs/git-daemon
# Usage: kind-gitops.sh install | deploy | check | render SHA IMAGE      (variables come from k8s/k8s.mk)
#   install  the release manifest by URL, wait until its CRDs are established and every workload is ready, then
#            apply k8s/gitops/argocd (Prometheus' read access to the controller's pods)
#   deploy   git server, fill it with HEAD of this checkout, apply the ApplicationSet pinned to HEAD's SHA and to
#            the shop image of this source state (k8s/scripts/kind-image.sh builds and loads it, as for kind-deploy),
#            wait until every automatically synced Application is Synced and Healthy at that SHA
#   check    fail unless staging is Synced and Healthy at HEAD's SHA now
#   render   print the ApplicationSet and AppProject as deploy applies them for SHA and IMAGE (no cluster needed)
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${ARGOCD_VERSION:?ARGOCD_VERSION is not set (k8s/k8s.mk sets it)}"
# Seconds each Application may take to reach Synced + Healthy at the commit.
: "${GITOPS_TIMEOUT:=900}"
# Seconds between two looks at the Applications.
: "${GITOPS_INTERVAL:=5}"
kubectl_kind() { kubectl --context "kind-$KIND_CLUSTER" "$@"; }

ARGOCD_NAMESPACE=argocd
# The workloads of the v$ARGOCD_VERSION install manifest (k8s/tests/third-party/argo-cd-v*/release-facts.json).
ARGOCD_WORKLOADS=(
  deployment/argocd-applicationset-controller deployment/argocd-dex-server deployment/argocd-notifications-controller
  deployment/argocd-redis deployment/argocd-repo-server deployment/argocd-server statefulset/argocd-application-controller
)
# The git source (k8s/gitops/git-server): Service git-server on git://'s default port, daemon base path /srv/git.
GIT_REPOSITORY=/srv/git/shop.git
REPO_URL="git://git-server.$ARGOCD_NAMESPACE.svc.cluster.local/shop.git"
# The Applications with automated sync (k8s/gitops/apps/applicationset.yaml), waited for by deploy; the last one is
# the environment `check` asserts.
WAIT_APPS=(shop-observability shop-staging)
ALL_APPS=(shop-observability shop-staging shop-production)

die() { echo "error: $*" >&2; exit 1; }

reachable() {
  command -v kubectl >/dev/null || die "kubectl not found"
  kubectl_kind version >/dev/null 2>&1 || die "cluster kind-$KIND_CLUSTER is not reachable: run make kind-up"
}

install() {
  reachable
  echo "kind-argocd: Argo CD v$ARGOCD_VERSION"
  kubectl_kind create namespace "$ARGOCD_NAMESPACE" --dry-run=client -o yaml | kubectl_kind apply -f -
  # Server-side with --force-conflicts, as the install guide says: the ApplicationSet CRD is too large for the
  # annotation client-side apply writes.
  kubectl_kind apply -n "$ARGOCD_NAMESPACE" --server-side --force-conflicts \
    -f "https://raw.githubusercontent.com/argoproj/argo-cd/v$ARGOCD_VERSION/manifests/install.yaml"
  kubectl_kind wait --for=condition=Established --timeout=120s \
    crd/applications.argoproj.io crd/applicationsets.argoproj.io crd/appprojects.argoproj.io
  local workload
  for workload in "${ARGOCD_WORKLOADS[@]}"; do
    kubectl_kind -n "$ARGOCD_NAMESPACE" rollout status "$workload" --timeout=300s
  done
  # Our additions (k8s/gitops/argocd): the shared stack's Prometheus may discover the controller's pods.
  kubectl_kind apply --server-side --field-manager=shop-gitops -k k8s/gitops/argocd
  echo "kind-argocd: ready; next: make kind-gitops"
}

commit_under_test() {
  local sha
  sha="$(git rev-parse --verify "HEAD^{commit}")" || die "no commit at HEAD"
  [[ "$sha" =~ ^[0-9a-f]{40}$ ]] || die "HEAD is not a full SHA-1: $sha"
  echo "$sha"
}

# The apps kustomization with the source pinned: a scratch kustomization below target/ (ignored by git) that patches
# the committed ApplicationSet, so nothing in the tree changes per commit. The shop image: Argo CD sets it in each
# Application's folder (`kustomize edit set image`, spec.source.kustomize.images) under the name the manifests give
# it (SHOP_IMAGE of compose/.env without its tag), whatever tag or digest the overlay names; a folder without the
# shop ignores it.
render() {
  local sha="$1" image="$2" dir=target/kind-gitops name
  [[ "$sha" =~ ^[0-9a-f]{40}$ ]] || die "not a full commit SHA: $sha"
  [[ "$image" =~ ^[^:@[:space:]]+:[^:@/[:space:]]+$ ]] || die "not an image name:tag: $image"
  name="$(sed -n 's/^SHOP_IMAGE=//p' compose/.env)"
  name="${name%:*}"
  [ -n "$name" ] || die "compose/.env names no SHOP_IMAGE"
  mkdir -p "$dir"
  cat >"$dir/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../k8s/gitops/apps
patches:
  - target:
      group: argoproj.io
      kind: ApplicationSet
      name: shop
    patch: |-
      - op: replace
        path: /spec/template/spec/source/repoURL
        value: $REPO_URL
      - op: replace
        path: /spec/template/spec/source/targetRevision
        value: "$sha"
      - op: add
        path: /spec/template/spec/source/kustomize
        value:
          images: ["$name=$image"]
YAML
  kubectl kustomize "$dir"
}

# Fills the in-cluster repository with HEAD and its history: a bundle through kubectl exec, fetched into branch main
# there. Nothing leaves the machine but that bundle, and it goes only into the cluster.
feed() {
  local sha="$1" served
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  git bundle create --quiet "$tmp/commit.bundle" HEAD
  local git_exec=(kubectl_kind -n "$ARGOCD_NAMESPACE" exec -i deployment/git-server -c git-daemon --)
  "${git_exec[@]}" sh -c 'cat > /tmp/commit.bundle' <"$tmp/commit.bundle"
  "${git_exec[@]}" git -C "$GIT_REPOSITORY" fetch --quiet /tmp/commit.bundle "+HEAD:refs/heads/main"
  served="$("${git_exec[@]}" git -C "$GIT_REPOSITORY" rev-parse refs/heads/main)"
  [ "$served" = "$sha" ] || die "the git server serves $served on main, not the commit under test $sha"
  echo "kind-gitops: $REPO_URL serves $sha"
}

# "sync health revision" of an Application, "- - -" while it has no status yet.
app_state() {
  local state fields
  state="$(kubectl_kind -n "$ARGOCD_NAMESPACE" get application "$1" \
    -o jsonpath='{.status.sync.status} {.status.health.status} {.status.sync.revision}' 2>/dev/null || true)"
  read -r -a fields <<<"$state"
  echo "${fields[0]:--} ${fields[1]:--} ${fields[2]:--}"
}

wait_app() {
  local app="$1" sha="$2" start now state last=""
  start="$(date +%s)"
  while :; do
    state="$(app_state "$app")"
    if [ "$state" != "$last" ]; then
      echo "kind-gitops: $(date -u +%H:%M:%S) $app: $state"
      last="$state"
    fi
    [ "$state" = "Synced Healthy $sha" ] && return 0
    now="$(date +%s)"
    if [ $((now - start)) -ge "$GITOPS_TIMEOUT" ]; then
      kubectl_kind -n "$ARGOCD_NAMESPACE" get application "$app" -o jsonpath='{.status.conditions}{"\n"}{.status.operationState.message}{"\n"}' >&2 || true
      die "$app is not Synced and Healthy at $sha after ${GITOPS_TIMEOUT}s (sync, health, revision: $state)"
    fi
    sleep "$GITOPS_INTERVAL"
  done
}

deploy() {
  reachable
  local sha
  sha="$(commit_under_test)"
  kubectl_kind get crd applicationsets.argoproj.io >/dev/null 2>&1 || die "Argo CD is not installed: run make kind-argocd"
  # A shallow repository served to Argo CD breaks its repo-server's fetch (git rejects the shallow root it would
  # have to record), so the whole history goes into the cluster.
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    die "this checkout is shallow: run git fetch --unshallow (in GitHub Actions: actions/checkout with fetch-depth: 0)"
  fi
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "warning: uncommitted changes are not deployed: Argo CD deploys commit $sha as committed" >&2
  fi
  echo "kind-gitops: git server"
  kubectl_kind apply --server-side --field-manager=shop-gitops -k k8s/gitops/git-server
  kubectl_kind -n "$ARGOCD_NAMESPACE" rollout status deployment/git-server --timeout=180s
  feed "$sha"
  # The shop image of this source state, in the nodes (imagePullPolicy Never), as make kind-deploy loads it.
  local image
  image="$(k8s/scripts/kind-image.sh tag)"
  k8s/scripts/kind-image.sh load
  # The credentials, before Argo CD syncs anything that reads them: generated in each Application's namespace unless
  # they exist (kind-secrets.sh). Argo CD tracks what it syncs by annotation (the default at v3.4), so these untracked
  # Secrets are neither compared nor pruned.
  local overlays
  mapfile -t overlays < <(sed -n 's/^ *path: \(k8s\/overlays\/[^ ]*\)$/\1/p' k8s/gitops/apps/applicationset.yaml)
  [ "${#overlays[@]}" -gt 0 ] || die "k8s/gitops/apps/applicationset.yaml names no overlay path"
  k8s/scripts/kind-secrets.sh overlays "${overlays[@]}"
  echo "kind-gitops: ApplicationSet pinned to $sha, shop image $image"
  render "$sha" "$image" | kubectl_kind apply --server-side --field-manager=shop-gitops -f -
  local app
  for app in "${WAIT_APPS[@]}"; do
    wait_app "$app" "$sha"
  done
  for app in "${ALL_APPS[@]}"; do
    echo "kind-gitops: $app: $(app_state "$app")"
  done
  echo "kind-gitops: ready; shop-production syncs by hand (k8s/README.md, GitOps with Argo CD)"
}

check() {
  reachable
  local sha app="${WAIT_APPS[-1]}" state
  sha="$(commit_under_test)"
  state="$(app_state "$app")"
  [ "$state" = "Synced Healthy $sha" ] || die "$app is not Synced and Healthy at $sha (sync, health, revision: $state)"
  echo "kind-gitops: $app Synced and Healthy at $sha"
}

case "${1:-}" in
  install) install ;;
  deploy) deploy ;;
  check) check ;;
  render) [ -n "${3:-}" ] || die "usage: $0 render SHA IMAGE"; render "$2" "$3" ;;
  *) echo "usage: $0 install|deploy|check|render SHA IMAGE" >&2; exit 2 ;;
esac
