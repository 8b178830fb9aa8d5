#!/usr/bin/env bash
# `make test-k8s`: the offline proof of k8s/ (no cluster, no Docker). Installs what it needs when it can:
# npm packages from k8s/tests/package-lock.json, the tools toolchain/tools.tsv lists for test-k8s with apt-get as root.
#   test-k8s.sh                 everything: shellcheck, yamllint, every node test
#   test-k8s.sh FILE.test.mjs…  only those node tests (the narrow make targets: test-k8s-sizing, -manifests, -scripts)
set -euo pipefail
cd "$(dirname "$0")/../.."

# Installed with apt-get as root on Debian/Ubuntu, else each missing one is named with how to get it.
toolchain/tools.sh require test-k8s
if [ "$#" = 0 ]; then
  echo "test-k8s: shellcheck k8s/scripts, yamllint k8s/"
  shellcheck k8s/scripts/*.sh k8s/base/app/postgres/*.sh
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
