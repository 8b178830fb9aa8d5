# Data safety: backups and restores of the compose stack (pgBackRest), the restore drill, the expand/contract
# check of the Flyway migrations. Included by the root Makefile. backup/README.md explains the design.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html · pgBackRest: https://pgbackrest.org/command.html

BACKUP_DIR := backup
MIGRATIONS := src/main/resources/db/migration
BACKUP_SH  := compose/scripts/backup.sh
# `make restore TARGET_TIME='2026-11-30 17:20:00'` (UTC) recovers to that moment; empty: the latest state.
TARGET_TIME ?=
# A restore overwrites the stopped stack's database only with CONFIRM=yes.
CONFIRM ?=

##@ Data safety

.PHONY: backup
backup: ## Compose: full base backup now (WAL is archived continuously; a full backup runs daily by itself)
	@$(COMPOSE_STACK) preflight
	@$(BACKUP_SH) backup

.PHONY: backup-check
backup-check: ## Compose: the backup repository is restorable (a backup exists, checksums valid, no WAL gap)
	@$(COMPOSE_STACK) preflight
	@$(BACKUP_SH) check

.PHONY: restore
restore: ## Compose, stack stopped: restore the latest state, or TARGET_TIME='YYYY-MM-DD HH:MM:SS' (UTC); needs CONFIRM=yes
	@$(COMPOSE_STACK) preflight
	@TARGET_TIME="$(TARGET_TIME)" CONFIRM="$(CONFIRM)" $(BACKUP_SH) restore

.PHONY: test-backup
test-backup: backup-check-static backup-tools ## Restore drill: WAL archiving, base backup, mistake, PITR with pgBackRest, orders checked via the API; corrupt backups refused
	@$(MAKE) build
	python3 $(BACKUP_DIR)/restore_drill.py

.PHONY: backup-check-static
backup-check-static: test-migrations ## Backup configuration (RPO, retention, volumes, metrics port) and restore guards, without Docker or PostgreSQL
	@$(REQUIRE) $@
	python3 $(BACKUP_DIR)/check_backup_config.py

.PHONY: test-migrations
test-migrations: ## Flyway migrations keep the previous release working (expand/contract); the check's own fixtures
	python3 $(BACKUP_DIR)/check_migrations.py --fixtures $(BACKUP_DIR)/tests/migrations
	python3 $(BACKUP_DIR)/check_migrations.py $(MIGRATIONS)

.PHONY: backup-tools
backup-tools: ## The tools the backup checks and the restore drill need are there (toolchain/tools.tsv; apt-get as root on Debian/Ubuntu)
	@$(REQUIRE) $@
