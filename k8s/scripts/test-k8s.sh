#!/usr/bin/env bash
# `make test-k8s`: the offline proof of k8s/ (no cluster, no Docker). Installs what it needs when it can:
# npm packages from k8s/tests/package-lock.json, promtool and shellcheck from Debian when running as root.
#   test-k8s.sh                 everything: shellcheck, yamllint, every node test
#   test-k8s.sh FILE.test.mjs…  only those node tests (the narrow make targets: test-k8s-sizing, test-k8s-manifests)
set -euo pipefail
cd "$(dirname "$0")/../.."

need() { # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-k8s: installing $2 (for $1)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  fi
  command -v "$1" >/dev/null || { echo "error: $1 not found: install $2 (Debian/Ubuntu: apt-get install $2)" >&2; exit 1; }
}

command -v kubectl >/dev/null || { echo "error: kubectl not found: install kubectl 1.32 (it carries kustomize)" >&2; exit 1; }
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found: install Node.js 20 or newer" >&2; exit 1; }
done
need promtool prometheus
if [ "$#" = 0 ]; then
  need shellcheck shellcheck
  need yamllint yamllint
  echo "test-k8s: shellcheck k8s/scripts, yamllint k8s/"
  shellcheck k8s/scripts/*.sh k8s/base/postgres/*.sh
  yamllint --strict -c k8s/tests/yamllint.yaml k8s observability/kustomization.yaml observability/prometheus/prometheus-k8s.yml
fi

# npm ci only when the lock file changed since the last install (a copy of it is kept as a stamp).
stamp=k8s/tests/node_modules/.installed-package-lock.json
if ! cmp -s k8s/tests/package-lock.json "$stamp" 2>/dev/null; then
  (cd k8s/tests && npm ci --no-audit --no-fund --loglevel=error)
  cp k8s/tests/package-lock.json "$stamp"
fi
echo "test-k8s: node --test (kubectl $(kubectl version --client -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | head -n 1))"
cd k8s/tests && node --test "$@"
