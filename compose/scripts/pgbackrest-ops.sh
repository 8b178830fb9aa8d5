#!/bin/sh
# Backup operations on top of pgBackRest, shared by the compose stack (run inside the postgres/backup containers
# by compose/scripts/backup.sh) and by the restore drill of `make test-backup` (run on Debian's pgBackRest).
# pgBackRest command reference: https://pgbackrest.org/command.html
#
#   pgbackrest-ops.sh init               create the stanza (idempotent) and check that WAL archiving works
#   pgbackrest-ops.sh backup [TYPE]      base backup: full | diff | incr (default: full when none exists, else diff)
#   pgbackrest-ops.sh check              the repository is restorable: at least one backup, every file's checksum
#                                        valid (pgbackrest verify), no gap in the archived WAL
#   pgbackrest-ops.sh restore            restore into pg1-path: the latest state, or TARGET_TIME (UTC,
#                                        'YYYY-MM-DD HH:MM:SS[.ffffff]'); PostgreSQL replays WAL and promotes when
#                                        started. Needs CONFIRM=yes when pg1-path holds a database.
#   pgbackrest-ops.sh metrics            backup age, size and count in the Prometheus text format (stdout)
#
# pgBackRest takes its settings from PGBACKREST_CONFIG / PGBACKREST_* variables (stanza, pg1-path, repo1-path).
# POSIX sh on purpose: the postgres image is Alpine (busybox), the drill runs it on Debian (dash).
# Every refusal is one line starting with "backup: " and exits 1 before anything is written.
set -eu

die() { echo "backup: $*" >&2; exit 1; }

stanza=${PGBACKREST_STANZA:?set PGBACKREST_STANZA (the pgBackRest stanza)}

# pg1-path as pgBackRest sees it: the environment, else the config file.
pg_path() {
  if [ -n "${PGBACKREST_PG1_PATH:-}" ]; then echo "$PGBACKREST_PG1_PATH"; return; fi
  sed -n 's/^pg1-path=//p' "${PGBACKREST_CONFIG:-/etc/pgbackrest/pgbackrest.conf}" | tail -n 1
}

info_json() {
  pgbackrest --stanza="$stanza" --output=json info 2>/dev/null || die "pgbackrest info failed: is the backup repository mounted?"
}

# Number of backups in the repository, from `pgbackrest info --output=json` (one "label" per backup).
backup_count() { printf '%s' "$1" | grep -o '"label":"[^"]*"' | wc -l | tr -d ' '; }

# Seconds since the epoch at which the oldest (first) / newest (last) backup finished.
backup_stop() { printf '%s' "$1" | grep -o '"timestamp":{"start":[0-9]*,"stop":[0-9]*}' | sed 's/.*"stop":\([0-9]*\)}/\1/' | "$2" -n 1; }

# A WAL segment name TTTTTTTTLLLLLLLLSSSSSSSS as one number (log * 256 + segment; 16 MiB segments).
wal_number() {
  log=$(printf '%s' "$1" | cut -c9-16)
  seg=$(printf '%s' "$1" | cut -c17-24)
  echo $(( $(printf '%d' "0x$log") * 256 + $(printf '%d' "0x$seg") ))
}

check() {
  json=$(info_json)
  n=$(backup_count "$json")
  [ "$n" -gt 0 ] || die "no backup in the repository (stanza $stanza): take one first (make backup)"
  # verify re-reads every backup file and WAL segment against the checksums in the manifests. Its exit code is 0
  # even when it finds damage (pgBackRest 2.45), so the stanza status it prints is what counts.
  out=$(pgbackrest --stanza="$stanza" --log-level-console=detail --verbose verify 2>&1) ||
    die "pgbackrest verify failed: $(printf '%s' "$out" | grep -E 'ERROR|error' | head -n 1)"
  status=$(printf '%s\n' "$out" | sed -n 's/^ *status: //p' | head -n 1)
  if [ "$status" != ok ]; then
    bad=$(printf '%s\n' "$out" | grep -E 'invalid checksum|missing|status: invalid' | grep -vE ': 0(,|$)' | head -n 3 | sed 's/^.*INFO: //; s/^ *//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')
    die "the backup repository is corrupt (pgbackrest verify: status ${status:-unknown}): ${bad:-see pgbackrest verify}; refusing to use it"
  fi
  # verify reports each run of consecutive WAL segments it found; a segment missing in the middle splits a run.
  # A later run may start at or before the previous run's end (a new timeline after a restore), never after it + 1.
  prev=""
  for range in $(printf '%s\n' "$out" | sed -n 's/.*wal start: \([0-9A-F]\{24\}\), wal stop: \([0-9A-F]\{24\}\).*/\1:\2/p'); do
    start=${range%%:*}
    if [ -n "$prev" ] && [ "$(wal_number "$start")" -gt $(( $(wal_number "$prev") + 1 )) ]; then
      die "the WAL archive has a gap after segment $prev (next is $start): point-in-time recovery past it is impossible; refusing to use it"
    fi
    prev=${range#*:}
  done
  [ -n "$prev" ] || die "the repository holds no archived WAL: is archive_command running pgbackrest archive-push?"
  newest=$(backup_stop "$json" tail)
  echo "backup-check: ok: $n backup(s), newest finished $(date -u -d "@$newest" '+%Y-%m-%d %H:%M:%S') UTC, WAL archived up to $prev, every checksum valid"
}

restore() {
  pgdata=$(pg_path)
  [ -n "$pgdata" ] || die "pg1-path is not set (PGBACKREST_PG1_PATH or pg1-path in the config)"
  # A postmaster.pid naming a live postgres process: the server runs. (pg_ctl status would be fooled in a one-off
  # container, where the pid a crashed server left behind, often 1, belongs to another process.)
  pid=""
  [ -f "$pgdata/postmaster.pid" ] && pid=$(head -n 1 "$pgdata/postmaster.pid")
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
    die "PostgreSQL is running on $pgdata (pid $pid): stop it first (a restore never writes under a live server)"
  fi
  if [ -f "$pgdata/PG_VERSION" ] && [ "${CONFIRM:-}" != yes ]; then
    die "$pgdata holds a database that the restore would overwrite: set CONFIRM=yes to go ahead"
  fi
  target=${TARGET_TIME:-}
  if [ -n "$target" ]; then
    printf '%s' "$target" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$' ||
      die "TARGET_TIME '$target' is not 'YYYY-MM-DD HH:MM:SS' (UTC, optional .ffffff)"
    target_s=$(date -u -d "${target%.*}" +%s 2>/dev/null) || die "TARGET_TIME '$target' is not a valid date"
    [ "$target_s" -le "$(date -u +%s)" ] || die "TARGET_TIME '$target' UTC is in the future"
  fi
  check
  json=$(info_json)
  if [ -n "$target" ]; then
    first=$(backup_stop "$json" head)
    [ "$target_s" -gt "$first" ] ||
      die "TARGET_TIME '$target' UTC is not after the oldest backup, which finished $(date -u -d "@$first" '+%Y-%m-%d %H:%M:%S') UTC: nothing to recover it from"
  fi
  if [ -n "$pid" ]; then
    echo "backup: removing the postmaster.pid a stopped or crashed server left behind (no postgres process $pid)"
    rm -f "$pgdata/postmaster.pid"
  fi
  mkdir -p "$pgdata" && chmod 700 "$pgdata"
  delta=""
  [ -f "$pgdata/PG_VERSION" ] && delta=--delta
  t0=$(date +%s)
  if [ -n "$target" ]; then
    # recovery_target_time, then promote (pgBackRest's default target-action is pause, which would leave the
    # server read-only waiting for an operator).
    pgbackrest --stanza="$stanza" --log-level-console=warn $delta --type=time --target="$target+00" \
      --target-action=promote restore || die "pgbackrest restore failed (see above); $pgdata may be incomplete: restore again"
  else
    pgbackrest --stanza="$stanza" --log-level-console=warn $delta restore ||
      die "pgbackrest restore failed (see above); $pgdata may be incomplete: restore again"
  fi
  upto="the end of the archived WAL"
  [ -z "$target" ] || upto="$target UTC"
  echo "restore: files restored into $pgdata in $(( $(date +%s) - t0 )) s; at start PostgreSQL replays WAL up to $upto, then opens for writes"
}

backup() {
  type=${1:-}
  if [ -z "$type" ]; then
    type="diff"
    [ "$(backup_count "$(info_json)")" -gt 0 ] || type="full"
  fi
  case "$type" in full|diff|incr) ;; *) die "backup type '$type' is not full, diff or incr" ;; esac
  t0=$(date +%s)
  pgbackrest --stanza="$stanza" --log-level-console=warn --type="$type" backup || die "pgbackrest backup failed (see above)"
  echo "backup: $type backup done in $(( $(date +%s) - t0 )) s"
}

init() {
  pgbackrest --stanza="$stanza" --log-level-console=warn stanza-create || die "pgbackrest stanza-create failed (see above)"
  # check forces a WAL switch and waits until archive_command has stored the segment: archiving really works.
  pgbackrest --stanza="$stanza" --log-level-console=warn check || die "WAL archiving does not work: pgbackrest check failed (see above)"
  echo "backup: stanza $stanza ready, WAL archiving works"
}

# Prometheus text format: https://prometheus.io/docs/instrumenting/exposition_formats/
metrics() {
  json=$(pgbackrest --stanza="$stanza" --output=json info 2>/dev/null) || json=""
  up=0; [ -n "$json" ] && printf '%s' "$json" | grep -q '"status":{"code":0' && up=1
  echo "# HELP pgbackrest_up 1 when pgbackrest info answered and the stanza status is ok."
  echo "# TYPE pgbackrest_up gauge"
  echo "pgbackrest_up $up"
  [ -n "$json" ] || return 0
  n=$(backup_count "$json")
  echo "# HELP pgbackrest_backups Backups held in the repository."
  echo "# TYPE pgbackrest_backups gauge"
  echo "pgbackrest_backups $n"
  [ "$n" -gt 0 ] || return 0
  # The newest backup is the last one listed; "size" is the database it copied, "repository" its stored size.
  last=$(printf '%s' "$json" | grep -o '"info":{"delta":[0-9]*,"repository":{"delta":[0-9]*,"size":[0-9]*},"size":[0-9]*}' | tail -n 1)
  echo "# HELP pgbackrest_backup_last_completion_timestamp_seconds When the newest backup finished (Unix time)."
  echo "# TYPE pgbackrest_backup_last_completion_timestamp_seconds gauge"
  echo "pgbackrest_backup_last_completion_timestamp_seconds $(backup_stop "$json" tail)"
  echo "# HELP pgbackrest_backup_last_size_bytes Size of the database the newest backup copied."
  echo "# TYPE pgbackrest_backup_last_size_bytes gauge"
  echo "pgbackrest_backup_last_size_bytes $(printf '%s' "$last" | sed 's/.*},"size":\([0-9]*\)}$/\1/')"
  echo "# HELP pgbackrest_backup_last_repository_size_bytes Bytes the newest backup occupies in the repository (compressed)."
  echo "# TYPE pgbackrest_backup_last_repository_size_bytes gauge"
  echo "pgbackrest_backup_last_repository_size_bytes $(printf '%s' "$last" | sed 's/.*"repository":{"delta":[0-9]*,"size":\([0-9]*\)}.*/\1/')"
}

case "${1:-}" in
  init) init ;;
  backup) backup "${2:-}" ;;
  check) check ;;
  restore) restore ;;
  metrics) metrics ;;
  *) die "usage: $0 init|backup [full|diff|incr]|check|restore|metrics" ;;
esac
