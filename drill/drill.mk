# The breakage drill, included by the root Makefile. drill/README.md explains the catalogue and the verdicts.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
DRILL_DIR := drill

##@ Breakage drill

# Targets the quick tier runs at once, each in a scratch copy of its own (a target never twice at once): the quick
# targets are single-threaded Node, Python and promtool runs, so two use both cores of a 2-core machine.
DRILL_JOBS ?= 2

.PHONY: test-breakages
test-breakages: ## Plant every quick-tier breakage of drill/catalogue/ in a scratch copy; each must fail its target
	@$(REQUIRE) $@
	python3 $(DRILL_DIR)/tests/test_drill.py
	python3 $(DRILL_DIR)/drill.py --check-readme README.md
	python3 $(DRILL_DIR)/drill.py --tier quick --jobs $(DRILL_JOBS)

.PHONY: test-breakages-all
test-breakages-all: ## The whole drill, slow tier included (Java suites, live checks): its own CI job, about 30-60 min
	@command -v python3 >/dev/null || { echo "error: python3 not found: the drill runner is Python 3 (with PyYAML)" >&2; exit 1; }
	python3 $(DRILL_DIR)/tests/test_drill.py
	python3 $(DRILL_DIR)/drill.py --tier all

.PHONY: drill-list
drill-list: ## List every planted breakage of the catalogue (id, tier, catalogue, target, claim)
	@python3 $(DRILL_DIR)/drill.py --tier all --list
