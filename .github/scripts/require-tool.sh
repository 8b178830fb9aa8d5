#!/usr/bin/env bash
# Makes sure commands are on PATH: installs the missing ones' Debian packages with one apt-get call when
# running as root, else says plainly what is missing. apt-get: https://manpages.debian.org/bookworm/apt/apt-get.8.en.html
#   require-tool.sh COMMAND:DEBIAN_PACKAGE...     (COMMAND may be an absolute path, e.g. a server binary)
set -euo pipefail

[[ $# -gt 0 ]] || { echo "usage: $0 COMMAND:DEBIAN_PACKAGE..." >&2; exit 2; }
missing_cmds=()
missing_pkgs=()
for pair in "$@"; do
  [[ $pair == *:* ]] || { echo "require-tool: '$pair' is not COMMAND:PACKAGE" >&2; exit 2; }
  cmd=${pair%%:*}
  pkg=${pair#*:}
  command -v "$cmd" >/dev/null || { missing_cmds+=("$cmd"); missing_pkgs+=("$pkg"); }
done
[[ ${#missing_cmds[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing ${missing_pkgs[*]} (for ${missing_cmds[*]}) with apt-get" >&2
  # A fresh machine or container has no package lists yet: fetch them only then.
  if ! apt-cache show "${missing_pkgs[@]}" >/dev/null 2>&1; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
  still=()
  for cmd in "${missing_cmds[@]}"; do command -v "$cmd" >/dev/null || still+=("$cmd"); done
  [[ ${#still[@]} -eq 0 ]] && exit 0
  echo "require-tool: still missing after apt-get: ${still[*]}" >&2
  exit 1
fi
echo "missing: ${missing_cmds[*]}: install the Debian/Ubuntu package(s) ${missing_pkgs[*]} (apt-get install ${missing_pkgs[*]}) and run again" >&2
exit 1
