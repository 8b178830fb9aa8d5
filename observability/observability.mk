# Observability checks: Prometheus configuration and rules, promtool unit tests, dashboard and query static checks,
# and the live verification on a real Prometheus scraping the real service. Included by the root Makefile.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# promtool: https://prometheus.io/docs/prometheus/latest/command-line/promtool/
#
# Tools come from Debian (prometheus 2.42 with promtool, prometheus-postgres-exporter, prometheus-alertmanager 0.25
# with amtool) and npm (the query grammars, pinned in observability/tests/package-lock.json); they are installed
# here when missing.

OBS_DIR := observability
OBS_TESTS := $(OBS_DIR)/tests
OBS_PROM := $(OBS_DIR)/prometheus
# Loopback ports of the live verification; distinct from the defaults so it can run beside `make run-local`.
OBS_PORTS := API_PORT=18080 MGMT_PORT=19000 PG_PORT=15433 PROM_PORT=19090 PGEXP_PORT=19187 SHIM_PORT=19001

##@ Observability

.PHONY: test-observability
test-observability: obs-check-static obs-alert-routing obs-verify-live ## Prometheus config/rules checks, promtool rule tests, dashboard static checks, alert routing, live verification
	@echo "test-observability: all observability checks passed"

.PHONY: obs-check-static
obs-check-static: obs-tools ## promtool check config/rules, promtool test rules, dashboard/query/runbook static checks (no service needed)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  python3 $(OBS_TESTS)/gen_local_config.py $(OBS_PROM)/prometheus.yml --compat -o "$$tmp/prometheus.yml"; \
	  promtool check config "$$tmp/prometheus.yml"
	promtool check rules $(OBS_PROM)/rules/*.yml
	promtool test rules $(OBS_PROM)/tests/*.yml
	node $(OBS_TESTS)/check_queries.mjs

.PHONY: obs-alert-routing
obs-alert-routing: obs-tools ## Alertmanager: amtool check-config, routing table, every rule's alert reaches a receiver, inhibition on a real Alertmanager
	python3 $(OBS_TESTS)/alert_routing.py

.PHONY: obs-verify-live
obs-verify-live: obs-tools ## Live verification: packaged service + PostgreSQL + Prometheus on loopback, every query must return data
	@$(MAKE) build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  node $(OBS_TESTS)/check_queries.mjs --manifest "$$tmp/manifest.json"; \
	  $(OBS_PORTS) python3 $(OBS_TESTS)/verify_live.py --manifest "$$tmp/manifest.json"

.PHONY: obs-tools
obs-tools:
	@missing=""; \
	  command -v promtool >/dev/null && command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	  command -v prometheus-postgres-exporter >/dev/null || missing="$$missing prometheus-postgres-exporter"; \
	  command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "obs-tools: installing$$missing (apt)"; \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing >/dev/null; }; \
	    else \
	      echo "error: missing$$missing: install the Debian package(s)$$missing (or run as root with apt-get available)" >&2; exit 1; \
	    fi; \
	  fi
	@command -v python3 >/dev/null || { echo "error: python3 not found" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "error: node/npm not found: install Node.js 20 or newer" >&2; exit 1; }
	@if [ ! -d $(OBS_TESTS)/node_modules ] || [ $(OBS_TESTS)/package-lock.json -nt $(OBS_TESTS)/node_modules ]; then \
	  (cd $(OBS_TESTS) && npm ci --no-audit --no-fund --loglevel=error) && touch $(OBS_TESTS)/node_modules; fi
