#!/usr/bin/env bash
# Host side of `make backup`, `make backup-check` and `make restore` (backup/backup.mk) for the compose stack.
# The work happens in the `backup` container (image compose/postgres/Dockerfile) through pgbackrest-ops.
# Docker Compose CLI: https://docs.docker.com/reference/cli/docker/compose/ · backup/README.md has the procedures.
#
#   compose/scripts/backup.sh backup    full base backup now (the stack must be running)
#   compose/scripts/backup.sh check     the repository is restorable (checksums, WAL continuity, a backup exists)
#   compose/scripts/backup.sh restore   [TARGET_TIME='YYYY-MM-DD HH:MM:SS' (UTC)] CONFIRM=yes; the stack must be
#                                       stopped (make down): never writes under a running PostgreSQL
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
compose=(docker compose --project-directory "$here" -f "$here/compose.yaml" --env-file "$here/.env")

die() { echo "error: $*" >&2; exit 1; }

running() { [ -n "$("${compose[@]}" ps --status running --quiet "$1" 2>/dev/null)" ]; }

# pgbackrest-ops in the running backup container, or in a one-off one when the stack is down.
ops() {
  if running backup; then
    "${compose[@]}" exec -T backup pgbackrest-ops "$@"
  else
    "${compose[@]}" run --rm --no-deps -T --entrypoint pgbackrest-ops backup "$@"
  fi
}

case "${1:-}" in
  backup)
    running postgres || die "the stack is not running: make up first (a backup reads the live database)"
    ops backup full ;;
  check)
    ops check ;;
  restore)
    for svc in postgres shop backup; do
      ! running "$svc" || die "$svc is running: stop the stack first (make down); a restore never writes under a live database"
    done
    start=$(date +%s)
    "${compose[@]}" run --rm --no-deps -T -e TARGET_TIME="${TARGET_TIME:-}" -e CONFIRM="${CONFIRM:-}" \
      --entrypoint pgbackrest-ops backup restore
    echo "restore: took $(($(date +%s) - start)) s; make up starts PostgreSQL, which replays WAL${TARGET_TIME:+ to $TARGET_TIME UTC} and opens for writes" ;;
  *) die "usage: $0 backup|check|restore" ;;
esac
