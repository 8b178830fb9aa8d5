#!/usr/bin/env bash
# Helpers behind the compose targets of compose/compose.mk (make up, demo-fault, ...).
# Reference: https://docs.docker.com/reference/cli/docker/compose/
#
#   compose/scripts/stack.sh preflight        Docker engine and the Compose v2 plugin are there
#   compose/scripts/stack.sh wait [SECONDS]   wait until every container is healthy (one-shot helpers: exited 0)
#   compose/scripts/stack.sh urls             print where to click
#   compose/scripts/stack.sh fault-on         inject errors and latency into the shop (chaos endpoint, port 9000),
#                                             send traffic and wait until the page e-mail is in Mailpit
#   compose/scripts/stack.sh fault-off        reset the chaos settings and say when the resolved e-mail comes
#
# Run from anywhere; paths are resolved from this file. Settings come from compose/.env, and variables
# already exported in the environment win, as they do for Compose itself.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/.." && pwd)
compose=(docker compose --project-directory "$here" -f "$here/compose.yaml" --env-file "$here/.env")

# Value of KEY: the environment first, then compose/.env.
setting() {
  local key=$1 value
  value=$(printenv "$key" || true)
  if [ -z "$value" ]; then
    value=$(sed -n "s/^$key=//p" "$here/.env" | tail -n 1)
  fi
  printf '%s' "$value"
}

preflight() {
  if ! command -v docker >/dev/null 2>&1; then
    echo "error: the docker command is not installed. Install Docker Desktop (macOS, Windows) or Docker Engine (Linux)." >&2
    exit 1
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "error: Docker is not running (\`docker info\` failed). Start Docker Desktop or the docker service, then retry." >&2
    exit 1
  fi
  if ! docker compose version >/dev/null 2>&1; then
    echo "error: the Docker Compose v2 plugin is missing (\`docker compose version\` failed). Install docker-compose-plugin." >&2
    exit 1
  fi
}

# One line per container: "<service> <state> <health or -> <exit code>".
states() {
  local ids
  ids=$("${compose[@]}" ps -a -q)
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086 # one argument per container id
  docker inspect --format \
    '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}' \
    $ids
}

wait_healthy() {
  local timeout=${1:-300} start now elapsed line service state health code
  local -a ready waiting broken
  start=$(date +%s)
  while :; do
    ready=() waiting=() broken=()
    while read -r service state health code; do
      [ -n "$service" ] || continue
      if [ "$health" = healthy ] || { [ "$health" = - ] && [ "$state" = exited ] && [ "$code" = 0 ]; }; then
        ready+=("$service")
      elif [ "$health" = unhealthy ] || { [ "$state" = exited ] && [ "$code" != 0 ]; } || [ "$state" = dead ]; then
        broken+=("$service")
      else
        waiting+=("$service($health)")
      fi
    done < <(states)
    now=$(date +%s)
    elapsed=$((now - start))
    if [ ${#broken[@]} -gt 0 ]; then
      echo "error: not healthy: ${broken[*]}. Last log lines:" >&2
      for service in "${broken[@]}"; do
        echo "----- $service" >&2
        "${compose[@]}" logs --no-color --tail 30 "$service" >&2 || true
      done
      exit 1
    fi
    if [ ${#waiting[@]} -eq 0 ] && [ ${#ready[@]} -gt 0 ]; then
      echo "all ${#ready[@]} containers healthy after ${elapsed}s: ${ready[*]}"
      return 0
    fi
    if [ "$elapsed" -ge "$timeout" ]; then
      echo "error: still not healthy after ${timeout}s: ${waiting[*]}" >&2
      echo "       inspect with: make logs SERVICE=<name>   (or docker compose -f compose/compose.yaml ps)" >&2
      exit 1
    fi
    line="[${elapsed}s] healthy ${#ready[@]}/$(( ${#ready[@]} + ${#waiting[@]} )); waiting for: ${waiting[*]:-nothing yet}"
    echo "$line"
    sleep 5
  done
}

urls() {
  cat <<EOF

The stack is up (all bound to 127.0.0.1):
  Grafana      http://127.0.0.1:$(setting GRAFANA_HOST_PORT)/   (anonymous: Viewer; admin: $(setting GRAFANA_ADMIN_USER) / see GRAFANA_ADMIN_PASSWORD in compose/.env)
  Shop API     http://127.0.0.1:$(setting SHOP_HOST_PORT)/api/products   (OpenAPI UI: /q/swagger-ui)
               reads are public; writes send Authorization: Bearer <key>, the key from
               make -s credential ROLE=admin (catalog) or ROLE=client (orders)   (README "Authentication")
  Prometheus   http://127.0.0.1:$(setting PROMETHEUS_HOST_PORT)/
  Alertmanager http://127.0.0.1:$(setting ALERTMANAGER_HOST_PORT)/   (alerts, silences)
  Inbox        http://127.0.0.1:$(setting MAILPIT_HOST_PORT)/   (Mailpit: the alert e-mails; webhook calls: make logs SERVICE=webhook-sink)
Try a fault:   make demo-fault   (undo with make demo-fault-off)
Stop:          make down         (keeps data; make clean deletes the volumes)
EOF
}

# The chaos endpoint lives on the management port 9000, which is not published: call it from inside the
# shop container (its image has curl).
chaos() {
  "${compose[@]}" exec -T shop curl -fsS --max-time 10 "$@"
}

# Subjects of the alert e-mails in Mailpit (its API: GET /api/v1/messages), newest first.
inbox_subjects() {
  curl -fsS --max-time 5 "http://127.0.0.1:$(setting MAILPIT_HOST_PORT)/api/v1/messages?limit=50" |
    grep -o '"Subject":"[^"]*"' | cut -d'"' -f4 || true
}

# Wait until an e-mail whose subject matches the regex $1 is in the inbox, sending GET requests to the API meanwhile
# (clients of the shop: the burn-rate windows need requests). Gives up after $2 seconds.
wait_for_mail() {
  local pattern=$1 limit=$2 start api
  start=$(date +%s)
  api="http://127.0.0.1:$(setting SHOP_HOST_PORT)/api/products?size=5"
  while [ $(($(date +%s) - start)) -lt "$limit" ]; do
    if inbox_subjects | grep -Eq "$pattern"; then
      echo "in the inbox after $(($(date +%s) - start)) s: $(inbox_subjects | grep -E "$pattern" | head -n 1)"
      return 0
    fi
    for _ in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null --max-time 5 "$api" || true; sleep 0.5; done
    printf '.'
  done
  echo
  echo "no e-mail matching '$pattern' after $limit s: see Alertmanager (http://127.0.0.1:$(setting ALERTMANAGER_HOST_PORT)/)" >&2
  return 1
}

fault_on() {
  local body='{"latencyMs":400,"latencyRate":0.3,"errorRate":0.2}'
  chaos -X PUT -H 'Content-Type: application/json' -d "$body" http://127.0.0.1:9000/chaos >/dev/null
  echo "chaos on: 20 % of /api/* requests fail with HTTP 500, 30 % get +400 ms. Current settings:"
  chaos http://127.0.0.1:9000/chaos
  echo
  echo "Sending 2 requests/s and waiting for the page in the inbox, http://127.0.0.1:$(setting MAILPIT_HOST_PORT)/"
  echo "(about 2.5 to 3 minutes: both burn-rate windows, 5 m and 1 h, pass 14.4x the error budget within seconds,"
  echo " then the alert must hold for 2 m (for:), then up to 15 s to the next evaluation and 10 s of group_wait)."
  wait_for_mail '^\[FIRING:[0-9]+\] Shop(Availability|Latency)BudgetBurnFast' 600
  echo "Watch the error rate, latency exemplars and the linked traces and logs in Grafana."
  echo "Turn it off with: make demo-fault-off"
}

fault_off() {
  chaos -X DELETE http://127.0.0.1:9000/chaos >/dev/null
  echo "chaos off. Current settings:"
  chaos http://127.0.0.1:9000/chaos
  echo
  echo "The [RESOLVED] e-mails follow once no burn-rate pair holds any more: the errors must leave the 5 m window"
  echo "(1 h/5 m pair) and the 30 m window (6 h/30 m pair), so about 30 minutes, then up to 1 minute (group_interval)."
  echo "Inbox: http://127.0.0.1:$(setting MAILPIT_HOST_PORT)/ ; WAIT=1 make demo-fault-off waits for them here."
  if [ "${WAIT:-0}" = 1 ]; then
    wait_for_mail '^\[RESOLVED\] Shop(Availability|Latency)BudgetBurnFast' 2400
  fi
}

cd "$root"
case "${1:-}" in
  preflight) preflight ;;
  wait) wait_healthy "${2:-300}" ;;
  urls) urls ;;
  fault-on) fault_on ;;
  fault-off) fault_off ;;
  *) echo "usage: $0 preflight|wait [SECONDS]|urls|fault-on|fault-off" >&2; exit 2 ;;
esac
