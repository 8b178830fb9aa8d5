# Docker Compose targets, included by the root Makefile. compose/README.md explains the stack.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# Docker Compose CLI: https://docs.docker.com/reference/cli/docker/compose/

COMPOSE_DIR     := compose
COMPOSE_CMD     := docker compose --project-directory $(COMPOSE_DIR) -f $(COMPOSE_DIR)/compose.yaml --env-file $(COMPOSE_DIR)/.env
COMPOSE_STACK   := $(COMPOSE_DIR)/scripts/stack.sh
# How long `make up` waits for every container to report healthy.
UP_TIMEOUT      ?= 300
# `make logs SERVICE=tempo` follows one service; empty follows all of them.
SERVICE         ?=
# The service image: name and build bases come from compose/.env, the one place they are pinned.
COMPOSE_ENV_VALUE = $(shell sed -n 's/^$(1)=//p' $(COMPOSE_DIR)/.env)

##@ Compose stack (Docker)

.PHONY: up
up: ## Build the image, start the whole stack, wait until every container is healthy, print the URLs
	@$(COMPOSE_STACK) preflight
	@$(COMPOSE_DIR)/scripts/api-keys.sh $(COMPOSE_DIR)/.secrets
	$(COMPOSE_CMD) up -d --build --remove-orphans
	@$(COMPOSE_STACK) wait $(UP_TIMEOUT)
	@$(COMPOSE_STACK) urls

# `make credential ROLE=client`; KIND=1 reads the kind cluster's Secret shop-api-credentials instead (namespace
# CREDENTIAL_NAMESPACE), which k8s/scripts/kind-secrets.sh made at deploy time (k8s/tests/secrets.test.mjs reads it so).
ROLE ?= admin
CREDENTIAL_NAMESPACE ?= shop

.PHONY: credential
credential: ## Print a working API key: make credential ROLE=admin|client (compose, made by make up); KIND=1 for the kind cluster's
	@case "$(ROLE)" in admin|client) ;; *) echo "credential: ROLE must be admin or client, not '$(ROLE)'" >&2; exit 2 ;; esac
	@if [ -n "$(KIND)" ]; then \
	  key=$$(kubectl --context kind-$${KIND_CLUSTER:-shop} -n $(CREDENTIAL_NAMESPACE) get secret shop-api-credentials -o jsonpath='{.data.$(ROLE)}') \
	    && [ -n "$$key" ] || { echo "credential: no $(ROLE) key in Secret $(CREDENTIAL_NAMESPACE)/shop-api-credentials of kind-$${KIND_CLUSTER:-shop} (make kind-deploy makes it with k8s/scripts/kind-secrets.sh)" >&2; exit 1; }; \
	  printf '%s' "$$key" | base64 -d && echo; \
	else $(COMPOSE_DIR)/scripts/api-keys.sh $(COMPOSE_DIR)/.secrets $(ROLE); fi

.PHONY: down
down: ## Stop and remove the containers (named volumes, and so all data, are kept)
	@$(COMPOSE_STACK) preflight
	$(COMPOSE_CMD) down --remove-orphans

.PHONY: clean
clean: ## Stop the stack and delete its volumes (PostgreSQL, Prometheus, Loki, Tempo, Grafana data)
	@$(COMPOSE_STACK) preflight
	$(COMPOSE_CMD) down --volumes --remove-orphans

.PHONY: ps
ps: ## Show the stack's containers with their health
	@$(COMPOSE_STACK) preflight
	$(COMPOSE_CMD) ps --all

.PHONY: logs
logs: ## Follow the logs of every service, or of one: make logs SERVICE=shop
	@$(COMPOSE_STACK) preflight
	$(COMPOSE_CMD) logs --follow --tail 200 $(SERVICE)

.PHONY: image
image: ## Build the shop image (tag SHOP_IMAGE from compose/.env) from src/main/docker/Dockerfile
	@docker info >/dev/null 2>&1 || { echo "error: Docker is not running (\`docker info\` failed). Start Docker Desktop or the docker service, then retry." >&2; exit 1; }
	docker build -f src/main/docker/Dockerfile \
	  --build-arg MAVEN_IMAGE=$(call COMPOSE_ENV_VALUE,MAVEN_IMAGE) \
	  --build-arg JRE_IMAGE=$(call COMPOSE_ENV_VALUE,JRE_IMAGE) \
	  -t $(call COMPOSE_ENV_VALUE,SHOP_IMAGE) .

.PHONY: demo-fault
demo-fault: ## Make 20 % of API requests fail and 30 % slow (+400 ms) in the running stack; undo with demo-fault-off
	@$(COMPOSE_STACK) preflight
	@$(COMPOSE_STACK) fault-on

.PHONY: demo-fault-off
demo-fault-off: ## Turn the injected faults off again
	@$(COMPOSE_STACK) preflight
	@$(COMPOSE_STACK) fault-off

.PHONY: test-compose
test-compose: build ## Offline checks of the stack: compose config, Compose-spec schema, cross-file names/ports/log fields, yamllint
	@$(REQUIRE) $@
	$(COMPOSE_DIR)/tests/run.sh

.PHONY: test-compose-static
test-compose-static: ## Seconds, no build: only the cross-file checks (check_compose.py) on the committed capture of the service's output
	@python3 -c 'import yaml' 2>/dev/null || { echo "error: python3 with PyYAML is needed: install python3-yaml (make test-compose installs it as root)" >&2; exit 1; }
	python3 $(COMPOSE_DIR)/tests/check_compose.py --log-sample $(COMPOSE_DIR)/tests/samples/service-log.jsonl \
	  --metrics-sample $(COMPOSE_DIR)/tests/samples/metrics-exemplars.txt
