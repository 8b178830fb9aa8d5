#!/bin/sh
# Main process of the compose stack's `backup` container: scheduled base backups and the backup metrics.
# pgBackRest: https://pgbackrest.org/command.html · busybox httpd: https://busybox.net/downloads/BusyBox.html#httpd
#
#   1. waits for PostgreSQL (shared Unix socket), then creates the stanza and checks that WAL archiving works
#      (pgbackrest-ops init; retried until it succeeds);
#   2. serves METRICS_DIR on :METRICS_PORT with busybox httpd: /metrics.txt, scraped by Prometheus (job pgbackrest);
#   3. every minute rewrites /metrics.txt (pgbackrest-ops metrics), and takes a full backup when the newest one is
#      older than BACKUP_INTERVAL_HOURS (and at first start). Retention (pgbackrest.conf) expires old ones.
# Continuous WAL archiving is not done here: the postgres container's archive_command pushes every segment.
set -eu

interval_h=${BACKUP_INTERVAL_HOURS:-24}
port=${METRICS_PORT:-9854}
dir=${METRICS_DIR:-/tmp/backup-metrics}
mkdir -p "$dir/www"
# The Prometheus text format's media type, so Prometheus 3.x accepts the scrape without a fallback protocol.
printf '.txt:text/plain; version=0.0.4; charset=utf-8\n' >"$dir/httpd.conf"
pgbackrest-ops metrics >"$dir/www/metrics.txt"
busybox-extras httpd -f -p "$port" -h "$dir/www" -c "$dir/httpd.conf" &

until pg_isready -q -h /var/run/postgresql; do sleep 2; done
until pgbackrest-ops init; do
  echo "backup-agent: stanza not ready (see above); retrying in 30 s"
  sleep 30
done

while :; do
  newest=$(pgbackrest-ops metrics | sed -n 's/^pgbackrest_backup_last_completion_timestamp_seconds //p')
  if [ -z "$newest" ] || [ $(( $(date +%s) - newest )) -ge $(( interval_h * 3600 )) ]; then
    pgbackrest-ops backup full || echo "backup-agent: scheduled backup failed; retrying in a minute"
  fi
  pgbackrest-ops metrics >"$dir/www/metrics.txt.new" && mv "$dir/www/metrics.txt.new" "$dir/www/metrics.txt"
  sleep 60
done
