#!/usr/bin/env bash
# Runs the load-test Maven project (loadtest/pom.xml) on behalf of a Maven build started at the repository root.
# Called by exec-maven-plugin from the root pom (see its "loadtest" block), in the root's test-compile phase:
#
#   mvn verify        (root)  ->  mvn -f loadtest/pom.xml test-compile   the simulations compile on every build
#   mvn gatling:test  (root)  ->  mvn -f loadtest/pom.xml gatling:test   gatling:test forks the root lifecycle up to
#                                                                         test-compile, so the run happens here
#
# Why: Gatling 3.15 needs Netty 4.2 and the service's Quarkus BOM pins Netty 4.1 on the root classpath, so Gatling
# cannot run on the root project's test classpath (see loadtest/README.md).
# The root invocation's own options (-B, -q, -o, -e, -X, -ntp, -s, -gs, -Dname=value) are passed on; the goals are
# mapped as above. Maven's launcher exports the original command line as MAVEN_CMD_LINE_ARGS.
#
# Usage (by the root pom): from-root.sh MAVEN_HOME LOCAL_REPOSITORY
set -euo pipefail

maven_home=${1:?maven.home}
local_repo=${2:?settings.localRepository}
here=$(cd "$(dirname "$0")" && pwd)

mvn_bin="$maven_home/bin/mvn"
[ -x "$mvn_bin" ] || mvn_bin=mvn

goal=test-compile
forwarded=()
# MAVEN_CMD_LINE_ARGS is split on whitespace: a -D value with spaces cannot come through (none of ours needs one).
# shellcheck disable=SC2206
args=(${MAVEN_CMD_LINE_ARGS:-})
i=0
while [ "$i" -lt "${#args[@]}" ]; do
  a=${args[$i]}
  case "$a" in
    gatling:test | io.gatling:gatling-maven-plugin:*test) goal=gatling:test ;;
    -B | --batch-mode | -q | --quiet | -o | --offline | -e | --errors | -X | --debug | -ntp | --no-transfer-progress)
      forwarded+=("$a") ;;
    -D?*) forwarded+=("$a") ;;
    -D | -s | --settings | -gs | --global-settings)
      i=$((i + 1))
      [ "$i" -lt "${#args[@]}" ] && forwarded+=("$a" "${args[$i]}") ;;
  esac
  i=$((i + 1))
done

echo "[loadtest] $mvn_bin -f loadtest/pom.xml ${forwarded[*]:-} $goal"
exec "$mvn_bin" -f "$here/pom.xml" -Dmaven.repo.local="$local_repo" "${forwarded[@]}" "$goal"
