#!/usr/bin/env bash
# Checks, against GitHub itself, that every `uses: owner/repo@SHA # vX.Y.Z` in the workflows names the
# commit that tag vX.Y.Z points to (annotated tags are peeled). Needs network access to github.com, so it
# runs in GitHub Actions (ci.yml), not in `make test`. git ls-remote: https://git-scm.com/docs/git-ls-remote
#   verify-action-pins.sh WORKFLOW_FILE...
# ACTION_PINS_GIT_BASE replaces https://github.com (the tests point it at local repositories).
set -euo pipefail

base=${ACTION_PINS_GIT_BASE:-https://github.com}

[[ $# -gt 0 ]] || { echo "usage: $0 WORKFLOW_FILE..." >&2; exit 2; }
failed=0
checked=0
# owner/repo[/path]@sha # vX.Y.Z, once per distinct pin.
while read -r action sha version; do
  repo=$(cut -d/ -f1-2 <<<"$action")
  refs=$(git ls-remote "${base}/${repo}.git" "refs/tags/${version}" "refs/tags/${version}^{}")
  # The peeled line (^{}) of an annotated tag names the commit; a lightweight tag has only the plain line.
  want=$(awk '/\^\{\}$/ {print $1}' <<<"$refs")
  [[ -n $want ]] || want=$(awk 'NR == 1 {print $1}' <<<"$refs")
  checked=$((checked + 1))
  if [[ -z $want ]]; then
    echo "FAIL ${repo}: no tag ${version}" >&2
    failed=$((failed + 1))
  elif [[ $want != "$sha" ]]; then
    echo "FAIL ${repo}: ${version} is ${want}, the workflows pin ${sha}" >&2
    failed=$((failed + 1))
  else
    echo "ok   ${repo}@${sha} = ${version}"
  fi
done < <(sed -nE 's/^[[:space:]]*(-[[:space:]]+)?uses:[[:space:]]*([^ @]+)@([0-9a-f]{40})[[:space:]]*#[[:space:]]*(v[0-9.]+)[[:space:]]*$/\2 \3 \4/p' "$@" | sort -u)

[[ $checked -gt 0 ]] || { echo "no pinned actions found in $*" >&2; exit 1; }
[[ $failed -eq 0 ]] || { echo "${failed} of ${checked} action pins do not match their tags" >&2; exit 1; }
echo "all ${checked} action pins match their tags"
