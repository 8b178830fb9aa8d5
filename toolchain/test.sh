#!/usr/bin/env bash
# `make test` (toolchain/README.md explains it): runs every part (a make target) and ends with which parts passed,
# failed, or could not run for want of a tool.   toolchain/test.sh PART...
#
# Where the parts run, TEST_MODE=auto (default) | native | container:
#   native     on this machine. As root with apt-get (Debian/Ubuntu: CI) a part installs what it misses; anywhere
#              else a part whose tools are missing prints one line per tool saying how to get it, is reported as
#              not run, and make test exits 1: it never reports success for checks it did not run.
#   container  in the image of ci.yml's `test` job (its `container:` image, read from ci.yml) with what the job's
#              setup steps add (Temurin JDK, Node.js, kubectl at ci.yml's versions) and every Debian package of
#              toolchain/tools.tsv; the repository mounted at /workspace, the Maven and npm caches in named volumes;
#              it runs as root, as in CI, and hands every file it leaves in the tree back to the host user.
#   auto       native when root with apt-get, else container when `docker info` answers, else native.
set -euo pipefail
cd "$(dirname "$0")/.."

CI_WORKFLOW=${CI_WORKFLOW:-.github/workflows/ci.yml}
TEST_IMAGE=${TEST_IMAGE:-shopwatch-test:local}
M2_VOLUME=shopwatch-m2
NPM_VOLUME=shopwatch-npm
MAKE=${MAKE:-make}

die() { echo "make test: $*" >&2; exit 2; }
[ $# -gt 0 ] || die "usage: $0 PART..."

# ci_value KEY: a value of the `test` job of ci.yml (image, distribution, java, node, kubectl), read with awk so
# that a host without PyYAML can read it; .github/tests/laptop.test.mjs checks it against a real YAML parser.
ci_value() {
  local v
  v=$(awk -v want="$1" '
    /^jobs:/ { injobs = 1; next }
    injobs && /^  [A-Za-z0-9_-]+:[[:space:]]*$/ { job = $1; sub(/:$/, "", job); next }
    job != "test" { next }
    /^    container:/ { incontainer = 1; next }
    incontainer && /^      image:/ { if (want == "image") print $2; incontainer = 0 }
    /uses: Azure\/setup-kubectl@/ { kubectl = 1 }
    kubectl && /^ +version:/ { if (want == "kubectl") print $2; kubectl = 0 }
    /^ +distribution:/ { if (want == "distribution") print $2 }
    /^ +java-version:/ { if (want == "java") print $2 }
    /^ +node-version:/ { if (want == "node") print $2 }
  ' "$CI_WORKFLOW" | tr -d "\"'")
  if [ -z "$v" ] || [ "$(wc -l <<<"$v")" != 1 ]; then die "cannot read the test job's $1 from $CI_WORKFLOW"; fi
  echo "$v"
}

run_container() {
  local ci_image dist jdk_image node_image kubectl_image
  ci_image=$(ci_value image)
  dist=$(ci_value distribution)
  [ "$dist" = temurin ] || die "ci.yml sets up Java '$dist'; toolchain/ci-image.Dockerfile knows only temurin"
  jdk_image="eclipse-temurin:$(ci_value java)-jdk"
  node_image="node:$(ci_value node)-bookworm-slim"
  kubectl_image="registry.k8s.io/kubectl:$(ci_value kubectl)"
  echo "make test: in Docker, in ci.yml's image $ci_image (+ $jdk_image, $node_image, $kubectl_image)"
  docker build -q -t "$TEST_IMAGE" -f toolchain/ci-image.Dockerfile \
    --build-arg CI_IMAGE="$ci_image" --build-arg JDK_IMAGE="$jdk_image" \
    --build-arg NODE_IMAGE="$node_image" --build-arg KUBECTL_IMAGE="$kubectl_image" toolchain >/dev/null
  local tty=()
  [ -t 1 ] && tty=(-t)
  # Root in the container, as in CI; git would refuse a repository owned by another user without safe.directory.
  exec docker run --rm --init "${tty[@]}" \
    -v "$PWD:/workspace" -w /workspace \
    -v "$M2_VOLUME:/root/.m2" -v "$NPM_VOLUME:/root/.npm" \
    -e TEST_MODE=native -e TEST_CHOWN="$(id -u):$(id -g)" -e CI \
    -e GIT_CONFIG_COUNT=1 -e GIT_CONFIG_KEY_0=safe.directory -e GIT_CONFIG_VALUE_0='*' \
    "$TEST_IMAGE" bash toolchain/test.sh "$@"
}

# Files the container created belong to root: give every file in the tree not owned by the host user back to it.
give_back() {
  local uid=${TEST_CHOWN%%:*}
  find . -xdev ! -uid "$uid" -exec chown -h "$TEST_CHOWN" {} + 2>/dev/null || true
}

# CPU milliseconds (user + system) of every finished child of this shell so far, into $cpu: the machine may be shared,
# so the wall time of a part says little about its own cost. From bash's `times`, whose second line is
# "<user>m<s.sss>s <system>m<s.sss>s"; called as is, never in $(...), where it would see a subshell's children.
children_cpu() {
  times >"$times_file"
  local total=0 field user system
  { read -r _ && read -r user system; } <"$times_file"
  for field in "$user" "$system"; do
    [[ $field =~ ^([0-9]+)m([0-9]+)[.,]?([0-9]*)s$ ]] || { cpu=0; return; }
    # minutes, seconds and the fraction (whatever its digits) in milliseconds
    total=$((total + BASH_REMATCH[1] * 60000 + BASH_REMATCH[2] * 1000 + 10#${BASH_REMATCH[3]:-0} * 1000 / 10 ** ${#BASH_REMATCH[3]}))
  done
  cpu=$total
}

run_native() {
  local missing_file times_file part status started cpu cpu_started took
  local passed=() failed=() notrun=()
  missing_file=$(mktemp)
  times_file=$(mktemp)
  # shellcheck disable=SC2064 # expand now: the file names are fixed
  trap "rm -f '$missing_file' '$times_file'${TEST_CHOWN:+; give_back}" EXIT
  for part in "$@"; do
    : >"$missing_file"
    printf '\n== make %s\n' "$part"
    status=0
    started=$SECONDS
    children_cpu
    cpu_started=$cpu
    TOOLCHAIN_MISSING_FILE=$missing_file $MAKE -k "$part" || status=$?
    children_cpu
    took="$((SECONDS - started)) s, $(((cpu - cpu_started + 500) / 1000)) CPU s"
    if [ "$status" = 0 ]; then
      passed+=("$part  ($took)")
    elif [ -s "$missing_file" ]; then
      notrun+=("$part (missing $(sort -u "$missing_file" | paste -sd, - | sed 's/,/, /g'))")
    else
      failed+=("$part  ($took)")
    fi
  done
  printf '\nmake test: summary\n'
  local p
  for p in "${passed[@]}"; do printf '  passed   %s\n' "$p"; done
  for p in "${failed[@]}"; do printf '  FAILED   %s\n' "$p"; done
  for p in "${notrun[@]}"; do printf '  NOT RUN  %s\n' "$p"; done
  children_cpu
  echo "parts: ${#passed[@]} passed, $((${#failed[@]} + ${#notrun[@]})) failed, in $SECONDS s, $(((cpu + 500) / 1000)) CPU s"
  if [ ${#failed[@]} -eq 0 ] && [ ${#notrun[@]} -eq 0 ]; then
    echo "make test: all checks passed"
    return 0
  fi
  if [ ${#notrun[@]} -gt 0 ]; then
    echo "make test: ${#notrun[@]} part(s) could not run here, so this is not CI's result: install what is missing" \
      "(make doctor lists it) or start Docker to run everything in CI's image" >&2
  fi
  return 1
}

mode=${TEST_MODE:-auto}
if [ "$mode" = auto ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    mode=native
  elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    mode=container
  else
    mode=native
    echo "make test: no Docker engine and no root with apt-get: running here with the tools installed" \
      "(a part whose tools are missing does not run, and make test then fails)"
  fi
fi
case "$mode" in
  native) run_native "$@" ;;
  container) run_container "$@" ;;
  *) die "TEST_MODE must be auto, native or container, not '$mode'" ;;
esac
