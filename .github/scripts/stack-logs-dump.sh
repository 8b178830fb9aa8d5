#!/usr/bin/env bash
# Saves what the compose stack said, for a CI artifact when an e2e run fails: `ps` of every container and
# each service's logs in a file of its own. Compose CLI: https://docs.docker.com/reference/cli/docker/compose/logs/
#   stack-logs-dump.sh OUT_DIR
# COMPOSE is the compose command line (make passes COMPOSE_CMD from compose/compose.mk); without it the
# compose file's folder is the project directory, so compose/.env is read as usual.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
out=$1
mkdir -p "$out"
read -ra compose <<<"${COMPOSE:-docker compose -f compose/compose.yaml}"

"${compose[@]}" ps --all >"$out/ps.txt" 2>&1 || echo "docker compose ps failed" >>"$out/ps.txt"
services=$("${compose[@]}" config --services)
for svc in $services; do
  # One service failing to report must not lose the others' logs.
  "${compose[@]}" logs --no-color --timestamps "$svc" >"$out/$svc.log" 2>&1 || echo "no logs for $svc" >>"$out/$svc.log"
done
echo "stack logs written to $out: $(echo "$services" | wc -w) services"
