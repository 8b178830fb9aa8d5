# Observability checks: Prometheus configuration and rules, promtool unit tests, dashboard and query static checks,
# and the live verification on a real Prometheus scraping the real service. Included by the root Makefile.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# promtool: https://prometheus.io/docs/prometheus/latest/command-line/promtool/
#
# Tools come from Debian (prometheus 2.42 with promtool, prometheus-postgres-exporter, prometheus-alertmanager 0.25
# with amtool, prometheus-blackbox-exporter 0.23; toolchain/tools.tsv lists them for obs-tools and obs-alert-routing) and npm (the query grammars,
# pinned in observability/tests/package-lock.json); they are installed when missing.

OBS_DIR := observability
OBS_TESTS := $(OBS_DIR)/tests
OBS_PROM := $(OBS_DIR)/prometheus
# Loopback ports of the live verification; distinct from the defaults so it can run beside `make run-local`.
OBS_PORTS := API_PORT=18080 MGMT_PORT=19000 PG_PORT=15433 PROM_PORT=19090 PGEXP_PORT=19187 SHIM_PORT=19001

##@ Observability

# make test runs the checks that take seconds to a minute or two; the live alerting and canary runs take several
# minutes each on 2 cores, so they are test-observability-live, run by make test-live in CI's live job (ci.yml).
# Their no-service parts stay in make test: obs-alerting-derivation here, the canary templates' checks in test-k8s.
.PHONY: test-observability
test-observability: obs-check-static obs-alert-routing obs-alerting-derivation obs-verify-live ## Prometheus config/rules checks, promtool rule tests, dashboard static checks, alert routing, the live alerting test's derivation, live verification
	@echo "test-observability: all observability checks passed"

.PHONY: test-observability-live
test-observability-live: obs-alerting-live obs-canary-live ## Not in make test (minutes): live alerting and live canary analysis; part of make test-live (CI's live job)
	@echo "test-observability-live: live alerting and canary analysis passed"

.PHONY: obs-check-static
obs-check-static: obs-tools ## promtool check config/rules, promtool test rules, dashboard/query/runbook static checks (no service needed)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  python3 $(OBS_TESTS)/gen_local_config.py $(OBS_PROM)/prometheus.yml --compat -o "$$tmp/prometheus.yml"; \
	  promtool check config "$$tmp/prometheus.yml"
	promtool check rules $(OBS_PROM)/rules/*.yml
	promtool test rules $(OBS_PROM)/tests/*.yml
	node $(OBS_TESTS)/check_queries.mjs

.PHONY: obs-alert-routing
obs-alert-routing: obs-tools ## Alertmanager routing/inhibition (amtool, a real Alertmanager), rules reach receivers, Prometheus->Alertmanager and probe wiring (compose, kind)
	@$(REQUIRE) $@
	python3 $(OBS_TESTS)/alert_routing.py

# The query checks alone (check_queries.mjs: parsing, datasources, alerts and runbook, kube-state-metrics names, LogQL
# labels against the Alloy pipeline), for the breakage drill.
.PHONY: obs-check-queries
obs-check-queries: obs-tools ## check_queries.mjs only: dashboards' and rules' queries, upstream metric names, LogQL labels vs Alloy
	node $(OBS_TESTS)/check_queries.mjs

# The rule unit tests alone; RULE_TESTS narrows them to some files (the breakage drill's SLO entries do).
RULE_TESTS ?= $(OBS_PROM)/tests/*.yml
.PHONY: obs-test-rules
obs-test-rules: obs-tools ## promtool test rules only (RULE_TESTS=observability/prometheus/tests/FILE.yml for one file)
	promtool test rules $(RULE_TESTS)

.PHONY: obs-alerting-live
obs-alerting-live: obs-tools obs-alerting-derivation ## Live alerting (minutes, test-scaled timers): PostgreSQL down, service down, chaos errors -> the expected page (sinks), inhibitions, resolved; prints times
	@$(REQUIRE) $@
	@$(MAKE) build
	python3 $(OBS_TESTS)/verify_alerting.py

.PHONY: obs-alerting-derivation
obs-alerting-derivation: ## The live alerting test's scaled copies of the rules and alertmanager.yml differ from the shipped files in durations and addresses only (no service needed)
	python3 $(OBS_TESTS)/verify_alerting.py --check-derivation

.PHONY: obs-verify-live
obs-verify-live: obs-tools ## Live verification: packaged service + PostgreSQL + Prometheus on loopback, every query must return data
	@$(MAKE) build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  node $(OBS_TESTS)/check_queries.mjs --manifest "$$tmp/manifest.json"; \
	  $(OBS_PORTS) python3 $(OBS_TESTS)/verify_live.py --manifest "$$tmp/manifest.json"

# Loopback ports of the live canary analysis check; distinct from obs-verify-live's so both can run at once.
OBS_CANARY_PORTS := API_PORT=18280 MGMT_PORT=19200 PG_PORT=15633 PROM_PORT=19290 SHIM_PORT=19201
.PHONY: obs-canary-live
obs-canary-live: obs-tools ## Live (~5 min): the canary AnalysisTemplates' queries on a real Prometheus and the real service pass clean, fail with injected errors and latency; prints the values
	@$(REQUIRE) $@
	@$(MAKE) build
	$(OBS_CANARY_PORTS) python3 $(OBS_TESTS)/verify_canary.py

.PHONY: obs-tools
obs-tools: obs-node-deps ## The tools the observability checks need are there (toolchain/tools.tsv; apt-get as root on Debian/Ubuntu) and their npm packages
	@$(REQUIRE) $@

# The query grammars check_queries.mjs imports (also needed by make verify-stack, which reads the dashboards with it).
.PHONY: obs-node-deps
obs-node-deps: ## npm ci of observability/tests (the query grammars) when its lockfile is newer than node_modules
	@if [ ! -d $(OBS_TESTS)/node_modules ] || [ $(OBS_TESTS)/package-lock.json -nt $(OBS_TESTS)/node_modules ]; then \
	  (cd $(OBS_TESTS) && npm ci --no-audit --no-fund --loglevel=error) && touch $(OBS_TESTS)/node_modules; fi
