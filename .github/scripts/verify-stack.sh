#!/usr/bin/env bash
# Proves that telemetry from a load test reached every backend of the running stack, through their HTTP APIs:
#   Prometheus HTTP API:        https://prometheus.io/docs/prometheus/latest/querying/api/
#   Grafana datasource proxy:   https://grafana.com/docs/grafana/latest/developers/http_api/data_source/
#   Loki query_range:           https://grafana.com/docs/loki/latest/reference/loki-http-api/
#   Tempo search and traces:    https://grafana.com/docs/tempo/latest/api_docs/
# Loki and Tempo are not published by the stack, so they are reached through Grafana's datasource proxy
# (datasource uids prometheus, loki, tempo). Each check is retried until WAIT_SECONDS have passed, since
# logs, traces and remote-written span metrics arrive some seconds after the requests.
#
# Environment (defaults fit `make up`):
#   PROM_URL GRAFANA_URL GRAFANA_USER GRAFANA_PASSWORD  where the stack answers, and Grafana's admin login
#   SERVICE_NAME       service.name of the traces and the `service` key of the JSON logs (shop)
#   LOKI_SELECTOR      LogQL stream selector of the service's logs
#   WAIT_SECONDS       how long to keep retrying the checks that have not passed yet
#   LOOKBACK_SECONDS   how far back to look for logs and traces
#   CHECK_EXEMPLARS    1 to require exemplars with a trace_id on the HTTP histogram
#   CHECK_SPANMETRICS  1 to require Tempo's metrics generator output in Prometheus
#   PANEL_QUERIES      JSON list of dashboard queries ({panel, kind: logql|traceql, datasource, expr}) that must each
#                      return data through Grafana; make verify-stack writes it with check_queries.mjs --stack-queries
#                      (the panels observability/tests/live-exclusions.tsv leaves to the compose stack)
set -euo pipefail

PROM_URL=${PROM_URL:-http://127.0.0.1:9090}
GRAFANA_URL=${GRAFANA_URL:-http://127.0.0.1:3000}
GRAFANA_USER=${GRAFANA_USER:-admin}
GRAFANA_PASSWORD=${GRAFANA_PASSWORD:?GRAFANA_PASSWORD is required (GRAFANA_ADMIN_PASSWORD in compose/.env)}
SERVICE_NAME=${SERVICE_NAME:-shop}
LOKI_SELECTOR=${LOKI_SELECTOR:-"{service=\"${SERVICE_NAME}\"}"}
WAIT_SECONDS=${WAIT_SECONDS:-180}
LOOKBACK_SECONDS=${LOOKBACK_SECONDS:-3600}
CHECK_EXEMPLARS=${CHECK_EXEMPLARS:-1}
CHECK_SPANMETRICS=${CHECK_SPANMETRICS:-1}
POLL_SECONDS=${POLL_SECONDS:-5}
PANEL_QUERIES=${PANEL_QUERIES:-}

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "verify-stack: $tool is required" >&2; exit 2; }
done

# A trace id seen in a log line, for the logs -> traces check.
TRACE_ID=""

prom_get() { # path, then --data-urlencode arguments
  local path=$1
  shift
  curl -fsS --max-time 10 -G "${PROM_URL}${path}" "$@"
}

grafana_get() { # path under Grafana, then --data-urlencode arguments
  local path=$1
  shift
  curl -fsS --max-time 10 -G -u "${GRAFANA_USER}:${GRAFANA_PASSWORD}" "${GRAFANA_URL}${path}" "$@"
}

# An instant PromQL query whose first sample must be above zero.
prom_positive() {
  local query=$1 body
  body=$(prom_get /api/v1/query --data-urlencode "query=${query}") || return 1
  jq -e '.status == "success" and (.data.result | length > 0) and (.data.result[0].value[1] | tonumber > 0)' \
    <<<"$body" >/dev/null
}

check_prometheus_http() {
  prom_positive "sum(http_server_requests_seconds_count{uri=~\"/api/.+\"})"
}

check_prometheus_business() {
  prom_positive "sum(shop_orders_placed_total)"
}

check_prometheus_exemplars() {
  local now body
  now=$(date +%s)
  body=$(prom_get /api/v1/query_exemplars \
    --data-urlencode 'query=http_server_requests_seconds_bucket' \
    --data-urlencode "start=$((now - LOOKBACK_SECONDS))" --data-urlencode "end=${now}") || return 1
  jq -e '[.data[]?.exemplars[]?.labels.trace_id // empty | select(length > 0)] | length > 0' <<<"$body" >/dev/null
}

check_spanmetrics() {
  prom_positive "sum(traces_spanmetrics_calls_total{service=\"${SERVICE_NAME}\"})"
}

check_grafana() {
  grafana_get /api/health | jq -e '.database == "ok"' >/dev/null
}

# Loki: JSON log lines of the service carrying a trace id (the line filter keeps startup lines out); the
# first such id is remembered for the next check.
check_loki_logs() {
  local now body
  now=$(date +%s)
  body=$(grafana_get /api/datasources/proxy/uid/loki/loki/api/v1/query_range \
    --data-urlencode "query=${LOKI_SELECTOR} |= \"traceId\"" --data-urlencode 'limit=100' --data-urlencode 'direction=backward' \
    --data-urlencode "start=$((now - LOOKBACK_SECONDS))000000000" --data-urlencode "end=${now}000000000") || return 1
  TRACE_ID=$(jq -r --arg svc "$SERVICE_NAME" '
    [.data.result[]?.values[]?[1] | fromjson? | objects
     | select(.service == $svc and (.traceId // "" | length) > 0) | .traceId] | first // empty' <<<"$body")
  [[ -n $TRACE_ID ]]
}

# Tempo: the trace named by that log line exists (logs -> traces correlation, end to end).
check_tempo_trace_of_log() {
  [[ -n $TRACE_ID ]] || return 1
  grafana_get "/api/datasources/proxy/uid/tempo/api/traces/${TRACE_ID}" \
    | jq -e '((.batches // .resourceSpans // []) | length) > 0' >/dev/null
}

# Tempo: a TraceQL search finds traces of the service.
check_tempo_search() {
  local now
  now=$(date +%s)
  grafana_get /api/datasources/proxy/uid/tempo/api/search \
    --data-urlencode "q={ resource.service.name = \"${SERVICE_NAME}\" }" --data-urlencode 'limit=20' \
    --data-urlencode "start=$((now - LOOKBACK_SECONDS))" --data-urlencode "end=${now}" \
    | jq -e '(.traces // []) | length > 0' >/dev/null
}

# A dashboard panel's own query (index into the PANEL_* arrays) returns data from the panel's datasource.
check_panel() {
  local i=$1 now body
  now=$(date +%s)
  case ${PANEL_KIND[$i]} in
    logql)
      body=$(grafana_get "/api/datasources/proxy/uid/${PANEL_DS[$i]}/loki/api/v1/query_range" \
        --data-urlencode "query=${PANEL_EXPR[$i]}" --data-urlencode 'limit=100' \
        --data-urlencode "start=$((now - LOOKBACK_SECONDS))000000000" --data-urlencode "end=${now}000000000") || return 1
      jq -e '(.data.result // []) | length > 0' <<<"$body" >/dev/null
      ;;
    traceql)
      body=$(grafana_get "/api/datasources/proxy/uid/${PANEL_DS[$i]}/api/search" \
        --data-urlencode "q=${PANEL_EXPR[$i]}" --data-urlencode 'limit=20' \
        --data-urlencode "start=$((now - LOOKBACK_SECONDS))" --data-urlencode "end=${now}") || return 1
      jq -e '(.traces // []) | length > 0' <<<"$body" >/dev/null
      ;;
    *) return 1 ;;
  esac
}

run_check() {
  if [[ $1 == check_panel:* ]]; then check_panel "${1#check_panel:}"; else "$1"; fi
}

# name|function|what it proves -- in order: the log check must run before the trace-of-log check.
CHECKS=(
  "grafana|check_grafana|Grafana answers and its database is ok"
  "metrics|check_prometheus_http|Prometheus has http_server_requests_seconds_count for /api routes"
  "business-metrics|check_prometheus_business|Prometheus has shop_orders_placed_total above zero"
  "logs|check_loki_logs|Loki has JSON log lines of ${SERVICE_NAME} with a traceId"
  "trace-of-log|check_tempo_trace_of_log|Tempo returns the trace whose id a log line carries"
  "traces|check_tempo_search|Tempo search finds traces of ${SERVICE_NAME}"
)
[[ $CHECK_EXEMPLARS == 1 ]] && CHECKS+=("exemplars|check_prometheus_exemplars|Prometheus stores exemplars with a trace_id")
[[ $CHECK_SPANMETRICS == 1 ]] && CHECKS+=("span-metrics|check_spanmetrics|Tempo's metrics generator wrote traces_spanmetrics_calls_total")
PANEL_KIND=() PANEL_DS=() PANEL_EXPR=()
if [[ -n $PANEL_QUERIES ]]; then
  count=$(jq -e 'length' "$PANEL_QUERIES" 2>/dev/null) || { echo "verify-stack: PANEL_QUERIES ${PANEL_QUERIES} is not a JSON list" >&2; exit 2; }
  ((count > 0)) || { echo "verify-stack: PANEL_QUERIES ${PANEL_QUERIES} lists no query" >&2; exit 2; }
  for ((i = 0; i < count; i++)); do
    PANEL_KIND+=("$(jq -r ".[$i].kind" "$PANEL_QUERIES")")
    PANEL_DS+=("$(jq -r ".[$i].datasource" "$PANEL_QUERIES")")
    PANEL_EXPR+=("$(jq -r ".[$i].expr" "$PANEL_QUERIES")")
    CHECKS+=("panel $(jq -r ".[$i].panel" "$PANEL_QUERIES")|check_panel:$i|its ${PANEL_KIND[$i]} query returns data: ${PANEL_EXPR[$i]}")
  done
fi

declare -A PASSED=()
deadline=$(($(date +%s) + WAIT_SECONDS))
while :; do
  pending=0
  for entry in "${CHECKS[@]}"; do
    IFS='|' read -r name fn _ <<<"$entry"
    [[ -n ${PASSED[$name]:-} ]] && continue
    if run_check "$fn"; then PASSED[$name]=1; else pending=$((pending + 1)); fi
  done
  if [[ $pending -eq 0 || $(date +%s) -ge $deadline ]]; then break; fi
  sleep "$POLL_SECONDS"
done

report=$'| Check | Result | What it proves |\n|---|---|---|\n'
failed=0
for entry in "${CHECKS[@]}"; do
  IFS='|' read -r name _ what <<<"$entry"
  if [[ -n ${PASSED[$name]:-} ]]; then
    result=pass
  else
    result=FAIL
    failed=$((failed + 1))
  fi
  report+="| ${name} | ${result} | ${what//|/\\|} |"$'\n'
done
printf '%s' "$report"
[[ -n $TRACE_ID ]] && echo "trace id followed from the logs: ${TRACE_ID}"
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  { echo "### Telemetry reached the stack"; echo; printf '%s' "$report"; } >>"$GITHUB_STEP_SUMMARY"
fi
if [[ $failed -gt 0 ]]; then
  echo "verify-stack: ${failed} check(s) failed after ${WAIT_SECONDS}s" >&2
  exit 1
fi
echo "verify-stack: all checks passed"
