#!/usr/bin/env bash
# Makes sure a command is on PATH: installs its Debian package with apt-get when running as root,
# else says plainly what is missing. apt-get reference: https://manpages.debian.org/bookworm/apt/apt-get.8.en.html
#   require-tool.sh COMMAND DEBIAN_PACKAGE
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 COMMAND DEBIAN_PACKAGE" >&2; exit 2; }
cmd=$1
pkg=$2

command -v "$cmd" >/dev/null && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing $pkg (for $cmd) with apt-get" >&2
  # update only when the package is unknown to the local lists (a fresh machine has none).
  if ! apt-cache show "$pkg" >/dev/null 2>&1; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
  command -v "$cmd" >/dev/null && exit 0
fi
echo "$cmd is required: install the Debian/Ubuntu package '$pkg' (apt-get install $pkg) and run again" >&2
exit 1
