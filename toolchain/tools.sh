#!/usr/bin/env bash
# Thin glue in front of toolchain/tools.py for make recipes, which need python3 first:
#   toolchain/tools.sh require TARGET...   the tools toolchain/tools.tsv lists for those targets are there
#                                          (installed with apt-get as root on Debian/Ubuntu, else each missing one
#                                          is named with how to get it, and the exit status is 1)
#   toolchain/tools.sh doctor              what is found, where, at which version, for which targets
# When python3 itself is missing, its own line of the table says how to get it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v python3 >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tools: installing python3 with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null
fi
if ! command -v python3 >/dev/null 2>&1; then
  case "$(uname -s)" in
    Darwin) col=6; how="brew install" ;;
    *) if command -v apt-get >/dev/null 2>&1; then col=5; how="sudo apt-get install";
       elif command -v dnf >/dev/null 2>&1; then col=7; how="sudo dnf install";
       else col=5; how="install the package"; fi ;;
  esac
  [ "$(id -u)" = 0 ] && how=${how#sudo }
  pkg=$(awk -F'\t' -v c="$col" '$1 == "python3" { print $c }' "$here/tools.tsv")
  echo "missing: python3 (needed by every check and by this script): $how ${pkg:-python3}" >&2
  [ -n "${TOOLCHAIN_MISSING_FILE:-}" ] && echo python3 >>"$TOOLCHAIN_MISSING_FILE"
  exit 1
fi
exec python3 "$here/tools.py" "$@"
