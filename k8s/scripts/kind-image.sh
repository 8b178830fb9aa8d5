#!/usr/bin/env bash
# The shop image for the kind cluster under a tag of its own per source state, so that `make kind-deploy` after a
# code change rolls the pods (the Deployment's imagePullPolicy is Never: a reused tag would keep the old image).
#   kind-image.sh tag    print the tag: <SHOP_IMAGE>-g<commit>, plus -dirty-<tree> when the working tree differs
#                        from the commit (<tree>: git's hash of the tree as `git add -A` would commit it, so
#                        tracked changes and new files count, ignored ones do not)
#   kind-image.sh load   build it with `make image` unless an image with that tag exists, tag it, load it into kind
#   kind-image.sh check  the shop Deployment of KIND_NAMESPACE (default shop) and all its pods run that tag
# K8S_SHOP_IMAGE set in the environment replaces the computed tag. Tags reference: https://docs.docker.com/reference/cli/docker/image/tag/
# Loading images into kind: https://kind.sigs.k8s.io/docs/user/quick-start/#loading-an-image-into-your-cluster
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KIND_CLUSTER:=shop}"
: "${MAKE:=make}"
: "${KIND_NAMESPACE:=shop}"
# What `make image` builds (compose/.env, the one place the image is named): repository and version.
base="$(sed -n 's/^SHOP_IMAGE=//p' compose/.env)"
[ -n "$base" ] || { echo "error: compose/.env names no SHOP_IMAGE" >&2; exit 1; }

tag() {
  if [ -n "${K8S_SHOP_IMAGE:-}" ]; then
    echo "$K8S_SHOP_IMAGE"
    return
  fi
  git rev-parse --verify -q HEAD >/dev/null || { echo "error: not a git checkout with a commit: set K8S_SHOP_IMAGE=<name:tag>" >&2; exit 1; }
  local commit tree index
  commit="$(git rev-parse --short=12 HEAD)"
  # A throwaway index: the real one (and anything staged) stays untouched.
  index="$(mktemp)"
  trap 'rm -f "$index"' RETURN
  GIT_INDEX_FILE="$index" git read-tree HEAD
  GIT_INDEX_FILE="$index" git add -A
  tree="$(GIT_INDEX_FILE="$index" git write-tree)"
  if [ "$tree" = "$(git rev-parse 'HEAD^{tree}')" ]; then
    echo "$base-g$commit"
  else
    echo "$base-g$commit-dirty-${tree:0:12}"
  fi
}

load() {
  local image
  image="$(tag)"
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "kind-image: $image exists (built from this source state)"
  else
    echo "kind-image: building $image"
    "$MAKE" image
    docker tag "$base" "$image"
  fi
  # The base tag is loaded too, for manifests that name it (those kind-deploy does not rewrite).
  kind load docker-image "$image" "$base" --name "$KIND_CLUSTER"
}

# The shop Deployment in KIND_NAMESPACE, and every one of its pods, run the image of this source state.
check() {
  local image running pods
  image="$(tag)"
  running="$(kubectl --context "kind-$KIND_CLUSTER" -n "$KIND_NAMESPACE" get deployment shop -o jsonpath='{.spec.template.spec.containers[?(@.name=="shop")].image}')"
  [ "$running" = "$image" ] || { echo "kind-image: deployment/shop runs ${running:-nothing}, this source state is $image" >&2; exit 1; }
  pods="$(kubectl --context "kind-$KIND_CLUSTER" -n "$KIND_NAMESPACE" get pods -l app.kubernetes.io/name=shop -o jsonpath='{range .items[*]}{.spec.containers[?(@.name=="shop")].image}{"\n"}{end}')"
  [ -n "$pods" ] || { echo "kind-image: no shop pod in namespace $KIND_NAMESPACE" >&2; exit 1; }
  if grep -vxF "$image" <<<"$pods" >/dev/null; then
    echo "kind-image: shop pods still run another image: $(grep -vxF "$image" <<<"$pods" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "kind-image: deployment/shop and its $(wc -l <<<"$pods") pod(s) run $image"
}

case "${1:-}" in
  tag) tag ;;
  load) load ;;
  check) check ;;
  *) echo "usage: $0 tag|load|check" >&2; exit 2 ;;
esac
