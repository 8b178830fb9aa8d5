#!/usr/bin/env bash
# Reads the HPA replica timeline that `make kind-load` (k8s/scripts/kind-load.sh) writes: a header line, then
# one line per sample "HH:MM:SS <currentReplicas> <desiredReplicas> <readyReplicas> <cpu%>" ("-" when the HPA
# had no status yet), and "kind-load: ..." notes. HPA: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
#
#   hpa-timeline.sh summary FILE        markdown: peak, then the timeline as a table
#   hpa-timeline.sh check FILE MIN      exit 1 unless the current replica count went above MIN (minReplicas)
set -euo pipefail

usage() {
  echo "usage: $0 summary FILE | check FILE MIN_REPLICAS" >&2
  exit 2
}

# Largest current-replica count among the samples; 0 when there is none.
peak() {
  awk '$1 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ && $2 ~ /^[0-9]+$/ && $2 + 0 > max { max = $2 + 0 } END { print max + 0 }' "$1"
}

samples() {
  awk '$1 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ { n++ } END { print n + 0 }' "$1"
}

summary() {
  local file=$1
  echo "### HPA replica timeline"
  echo
  echo "Peak replicas: **$(peak "$file")** over $(samples "$file") samples."
  echo
  echo "<details><summary>Samples</summary>"
  echo
  echo '| Time (UTC) | Replicas | Desired | Ready | CPU % of request |'
  echo '|---|---:|---:|---:|---:|'
  # "<unknown>" (no metrics yet) would vanish as an HTML tag in markdown: escape the angle brackets.
  awk '$1 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ { gsub(/</, "\\&lt;"); gsub(/>/, "\\&gt;")
                                                   printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }
       /^kind-load: load finished/ { printf "| %s | | | | |\n", $0 }' "$file"
  echo
  echo "</details>"
}

check() {
  local file=$1 min=$2 top
  [[ $min =~ ^[0-9]+$ ]] || { echo "minReplicas must be a number, got '$min'" >&2; return 2; }
  top=$(peak "$file")
  if [[ $(samples "$file") -eq 0 ]]; then
    echo "no HPA samples in $file" >&2
    return 1
  fi
  if ((top > min)); then
    echo "HPA scaled out: peak ${top} replicas > minReplicas ${min}"
  else
    echo "HPA did not scale: peak ${top} replicas, minReplicas ${min} (see $file)" >&2
    return 1
  fi
}

[[ $# -ge 2 ]] || usage
[[ -f $2 ]] || { echo "no HPA timeline: $2 (written by make kind-load)" >&2; exit 1; }
case "$1" in
  summary) [[ $# -eq 2 ]] || usage; summary "$2" ;;
  check) [[ $# -eq 3 ]] || usage; check "$2" "$3" ;;
  *) usage ;;
esac
