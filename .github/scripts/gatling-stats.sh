#!/usr/bin/env bash
# Reads the key numbers of Gatling HTML reports (their js/global_stats.json) for CI.
# Gatling reports: https://docs.gatling.io/reference/stats/reports/
#
#   gatling-stats.sh summary RESULTS_DIR            markdown table, one row per report, oldest first
#   gatling-stats.sh check RESULTS_DIR MAX_ERROR_PCT exits 1 when the newest report's failed share is above MAX_ERROR_PCT
#
# percentiles1..4 in global_stats.json are the percentiles configured in gatling.conf
# (charting.indicators.percentile1..4): 50, 75, 95 and 99 unless the load test changes them.
set -euo pipefail

usage() {
  echo "usage: $0 summary RESULTS_DIR | check RESULTS_DIR MAX_ERROR_PCT" >&2
  exit 2
}

# Report folders under RESULTS_DIR that hold a global_stats.json, oldest first.
reports() {
  local dir=$1
  [[ -d $dir ]] || { echo "no Gatling results folder: $dir" >&2; return 1; }
  find "$dir" -mindepth 3 -maxdepth 3 -path '*/js/global_stats.json' -printf '%T@ %h\n' \
    | sort -n | cut -d' ' -f2- | sed 's#/js$##'
}

summary() {
  local dir=$1 found=0 report
  echo '| Run | Requests | Failed | Error % | Mean RPS | p50 ms | p95 ms | p99 ms | Max ms |'
  echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
  while IFS= read -r report; do
    [[ -n $report ]] || continue
    found=1
    jq -r --arg run "$(basename "$report")" '
      def pct: if .numberOfRequests.total > 0
               then (.numberOfRequests.ko * 10000 / .numberOfRequests.total | round) / 100 else 0 end;
      "| \($run) | \(.numberOfRequests.total) | \(.numberOfRequests.ko) | \(pct) | "
      + "\(.meanNumberOfRequestsPerSecond.total * 100 | round / 100) | \(.percentiles1.total) | "
      + "\(.percentiles3.total) | \(.percentiles4.total) | \(.maxResponseTime.total) |"
    ' "$report/js/global_stats.json"
  done < <(reports "$dir")
  if [[ $found -eq 0 ]]; then
    echo "no Gatling report (js/global_stats.json) under $dir" >&2
    return 1
  fi
}

check() {
  local dir=$1 max=$2 report
  report=$(reports "$dir" | tail -n 1)
  [[ -n $report ]] || { echo "no Gatling report (js/global_stats.json) under $dir" >&2; return 1; }
  # jq's exit status (-e) carries the verdict: true when within the SLO.
  if jq -e --argjson max "$max" '
       .numberOfRequests.total > 0
       and (.numberOfRequests.ko * 100 / .numberOfRequests.total) <= $max' \
       "$report/js/global_stats.json" >/dev/null; then
    echo "error rate within SLO (<= ${max} %): $(basename "$report")"
  else
    jq -r --argjson max "$max" --arg run "$(basename "$report")" \
      '"error rate above SLO (> \($max) %) or no requests: \($run): \(.numberOfRequests.ko) of \(.numberOfRequests.total) failed"' \
      "$report/js/global_stats.json" >&2
    return 1
  fi
}

case "${1:-}" in
  summary) [[ $# -eq 2 ]] || usage; summary "$2" ;;
  check) [[ $# -eq 3 ]] || usage; check "$2" "$3" ;;
  *) usage ;;
esac
