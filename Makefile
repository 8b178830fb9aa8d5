# Entry points for people and for CI: the GitHub workflows and .ci/run call these targets and nothing else.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# `make help` lists every target from its `##` comment; `##@` lines are section headings.
# One fragment per concern is included below; each lives beside the files it drives.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

MVN ?= mvn -B -ntp
# `$(REQUIRE) <target>` first in a recipe: the tools toolchain/tools.tsv lists for that target are there, installed
# with apt-get as root on Debian/Ubuntu, else each missing one is named with how to get it (make doctor lists all).
REQUIRE := toolchain/tools.sh require
JAR := target/quarkus-app/quarkus-run.jar
VERSION := $(shell sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*?## "} \
	  /^##@/ {printf "\n\033[1m%s\033[0m\n", substr($$0, 5)} \
	  /^[a-zA-Z0-9_.-]+:.*?## / {printf "  \033[36m%-24s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Service

# The parts of `make test`, in order. toolchain/test.sh runs them here, or in ci.yml's image when Docker is there
# and this is not Debian as root, and ends with which passed, failed or could not run (toolchain/README.md).
# The restore drill (test-backup) and the live alerting and canary runs take minutes each on 2 cores: test-live runs
# them in CI's live job on every push; make test keeps their no-service parts (backup-check-static, the derivations).
TEST_PARTS := test-java test-observability test-compose test-load test-k8s test-workflows backup-check-static test-bench test-breakages

.PHONY: test
test: ## Everything CI runs (Java suite, stack proofs, load gates, manifests, workflows, restore drill, breakage drill); in CI's image when Docker runs
	@MAKE="$(MAKE)" toolchain/test.sh $(TEST_PARTS)

.PHONY: test-live
test-live: test-observability-live test-backup ## Not in make test (minutes each): live alerting, live canary analysis, the restore drill; CI's live job
	@echo "test-live: live alerting, canary analysis and restore drill passed"

.PHONY: test-java
test-java: check-java ## Java suite (mvn verify): the whole API contract on a real PostgreSQL, no Docker
	$(MVN) verify

.PHONY: mutation
# PIT_CLASSES / PIT_TESTS narrow a run to some classes and tests (a glob, or a regular expression after ~), for
# example PIT_CLASSES=dev.shopwatch.order.OrderService PIT_TESTS=dev.shopwatch.order.OrderServiceTest; the gate applies.
# PIT halts its minion JVMs, so the repository tests' PostgreSQL (support/PlainDatabase.java) outlives them: it is
# stopped here, pass or fail.
mutation: check-java ## PIT mutation testing of the service: fails below the score, line-coverage and survivor limits in pom.xml (README "Mutation testing"); too slow for make test, CI runs it in its own job
	@status=0; $(MVN) -Dloadtest.skip=true test-compile org.pitest:pitest-maven:mutationCoverage \
	  $(if $(PIT_CLASSES),-Dpitest.targetClasses='$(PIT_CLASSES)') $(if $(PIT_TESTS),-Dpitest.targetTests='$(PIT_TESTS)') \
	  || status=$$?; \
	pid=target/plain-postgres/postmaster.pid; \
	if [ -f "$$pid" ]; then kill "$$(head -n 1 "$$pid")" 2>/dev/null || true; fi; \
	echo "mutation: report target/pit-reports/index.html"; exit "$$status"

.PHONY: build
build: check-java ## Package the service (target/quarkus-app/quarkus-run.jar) unless it is already built
	@if [ -f $(JAR) ]; then echo "build: $(JAR) exists (make rebuild to force)"; else $(MVN) package -DskipTests; fi

.PHONY: rebuild
rebuild: check-java ## Package the service again, skipping tests
	$(MVN) package -DskipTests

.PHONY: run
run: build ## Run the packaged service against the PostgreSQL named by QUARKUS_DATASOURCE_JDBC_URL/_USERNAME/_PASSWORD
	@if [ -z "$${QUARKUS_DATASOURCE_JDBC_URL:-}" ]; then \
	  echo "run: using jdbc:postgresql://localhost:5432/shop (user shop); set QUARKUS_DATASOURCE_JDBC_URL to use another database"; fi
	java $${JAVA_OPTS:-} -jar $(JAR)

.PHONY: run-local
run-local: build ## Start the packaged service on a throwaway local PostgreSQL (loopback, no Docker); stop with make stop-local
	@$(REQUIRE) $@
	src/test/scripts/local-service.sh start

.PHONY: stop-local
stop-local: ## Stop what run-local started
	src/test/scripts/local-service.sh stop

.PHONY: bench
bench: build ## Benchmark: pgbench -S, GET by id at tracing off/10 %/100 %, search cost, start to ready with the image's JVM (table + target/bench/summary.json)
	@$(REQUIRE) $@
	src/test/scripts/bench.sh

.PHONY: bench-start
bench-start: build ## Start to ready only, image JVM settings: START_RUNS starts, alternating with START_B_OPTS added when set (A/B medians by thread and phase)
	@$(REQUIRE) $@
	src/test/scripts/bench.sh start

.PHONY: test-bench
test-bench: ## Seconds: the image starts from its trained AOT cache, make bench and make capacity run the image's JVM (image-jvm.sh), make bench withholds rounds that disagree; shellcheck of their scripts
	@$(REQUIRE) $@
	python3 src/test/scripts/bench_test.py
	shellcheck src/test/scripts/bench.sh src/test/scripts/image-jvm.sh src/main/docker/aot-train.sh loadtest/scripts/loadtest.sh

.PHONY: profile
profile: build ## CPU flame graphs (SVG, async-profiler) of GET /api/products/{id} at tracing 100 %, 10 % and off, in target/bench/profiles
	@$(REQUIRE) $@
	MVN="$(MVN)" src/test/scripts/bench.sh profile

.PHONY: check-java
check-java: ## The JDK and Maven the Java targets need are there (installed with apt-get as root on Debian/Ubuntu, else named with how to get them)
	@$(REQUIRE) $@

include compose/compose.mk
include observability/observability.mk
include loadtest/loadtest.mk
include k8s/k8s.mk
include .github/github.mk
include drill/drill.mk
include backup/backup.mk
include toolchain/toolchain.mk
