# Kubernetes on kind: cluster, deployment, load with autoscaling, offline manifest tests. Included by the root
# Makefile; k8s/README.md explains the layout and the numbers.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# kind: https://kind.sigs.k8s.io/docs/user/quick-start/   kustomize: https://kubectl.docs.kubernetes.io/

K8S_DIR            := k8s
KIND_CLUSTER       ?= shop
# What kind-deploy applies: the default overlay, or a combination such as k8s/tests/kind-keda-request-rate.
K8S_OVERLAY        ?= $(K8S_DIR)/overlays/kind
# What kind-deploy-envs applies, in this order: the shared stack, then the environments (k8s/README.md, Environments).
K8S_ENV_OVERLAYS   ?= $(K8S_DIR)/overlays/observability $(K8S_DIR)/overlays/staging $(K8S_DIR)/overlays/production
# Remote add-ons, applied by URL at pinned versions (both support Kubernetes 1.32, the node image's version).
METRICS_SERVER_VERSION ?= v0.7.2
# The edge (k8s/edge; k8s/README.md, "Edge"): Gateway API CRDs of the standard channel at the version Traefik
# implements (its go.mod and docs at v3.7.9: v1.5.1; CRDs validated by upstream on Kubernetes 1.31-1.35), Traefik's
# CRDs (the Middleware of the rate limit), cert-manager for the local CA (v1.20: e2e on Kubernetes 1.31-1.35; 1.21
# starts at 1.33). Their CRD schemas for the offline tests: k8s/tests/third-party/<project>-v<version>/.
GATEWAY_API_VERSION    ?= 1.5.1
TRAEFIK_VERSION        ?= 3.7.9
CERT_MANAGER_VERSION   ?= 1.20.3
# Where make kind-ca writes the local CA's certificate (for curl --cacert, Gatling's truststore, the OS).
KIND_CA_FILE           ?= .kind/ca.crt
# Only for the keda-request-rate component (make kind-keda); supports Kubernetes 1.30-1.32.
KEDA_VERSION           ?= 2.17.2
# CloudNativePG operator for the cloudnative-pg component (the kind overlay's PostgreSQL), release manifest by URL.
# Its CRD schemas for the offline tests live in k8s/tests/third-party/cloudnative-pg-v$(CNPG_VERSION)/.
CNPG_VERSION           ?= 1.30.0
# Argo CD for the GitOps deployment (make kind-argocd, make kind-gitops), release manifest by URL: the newest release
# whose tested Kubernetes versions include 1.32 (3.4.x; 3.5 starts at 1.33). Its CRD schemas and the facts the tests
# use live in k8s/tests/third-party/argo-cd-v$(ARGOCD_VERSION)/.
ARGOCD_VERSION         ?= 3.4.7
# Argo Rollouts controller for the canary component (k8s/components/canary: production's shop is a Rollout),
# release manifest by URL. v1.9.1: the newest stable release whose e2e tests run Kubernetes 1.32 (they run 1.32-1.35).
# Its CRD schemas for the offline tests live in k8s/tests/third-party/argo-rollouts-v$(ARGO_ROLLOUTS_VERSION)/.
ARGO_ROLLOUTS_VERSION  ?= 1.9.1
# External Secrets Operator for the external-secrets component (make kind-external-secrets), release manifest by URL
# (helm template of its chart, attached to each release). Its CRD schemas and the facts the script uses live in
# k8s/tests/third-party/external-secrets-v$(ESO_VERSION)/.
ESO_VERSION            ?= 2.9.0
# make kind-canary: BAD=1 releases a revision with injected errors (must abort), BAD=0 a clean one (must promote).
BAD                    ?= 0
CANARY_NAMESPACE       ?= shop-production
# The shop image on kind: SHOP_IMAGE of compose/.env with a tag per source state (k8s/scripts/kind-image.sh), so
# kind-deploy rolls the pods after every change. Set K8S_SHOP_IMAGE=name:tag to deploy another local image.
K8S_SHOP_IMAGE     ?=
# Where kind-load writes the HPA replica timeline.
KIND_LOAD_LOG      ?= target/kind-load/hpa-timeline.txt

export KIND_CLUSTER K8S_OVERLAY METRICS_SERVER_VERSION GATEWAY_API_VERSION TRAEFIK_VERSION CERT_MANAGER_VERSION KIND_CA_FILE KEDA_VERSION CNPG_VERSION ARGOCD_VERSION K8S_SHOP_IMAGE KIND_LOAD_LOG
export ARGO_ROLLOUTS_VERSION BAD CANARY_NAMESPACE ESO_VERSION

##@ Kubernetes (kind)

.PHONY: kind-up
kind-up: ## Create the kind cluster (1 control plane + 2 workers) with metrics-server, the edge (Gateway API, Traefik, cert-manager local CA) and the CloudNativePG operator, load the shop image
	MAKE="$(MAKE)" $(K8S_DIR)/scripts/kind-up.sh up

.PHONY: kind-edge
kind-edge: ## (Re)install the edge into an existing kind cluster: Gateway API and Traefik CRDs, cert-manager, k8s/edge; writes the local CA (kind-up does it too)
	$(K8S_DIR)/scripts/kind-up.sh edge

.PHONY: kind-ca
kind-ca: ## Write the edge's local CA certificate to KIND_CA_FILE (.kind/ca.crt) and a JVM truststore next to it; print how to trust it (curl, Java, OS)
	$(K8S_DIR)/scripts/kind-up.sh ca

.PHONY: kind-edge-check
kind-edge-check: ## On kind: http answers 301 to https, TLS verified by the local CA with HSTS, 401 on a write without a credential, 429 past production's per-client limit
	$(K8S_DIR)/scripts/kind-edge-check.sh

.PHONY: kind-keda
kind-keda: ## Install KEDA (pinned) for the keda-request-rate component; then make kind-deploy K8S_OVERLAY=k8s/tests/kind-keda-request-rate
	$(K8S_DIR)/scripts/kind-up.sh keda

.PHONY: kind-cnpg
kind-cnpg: ## Install the CloudNativePG operator (pinned, CNPG_VERSION) into an existing kind cluster (kind-up does it too)
	$(K8S_DIR)/scripts/kind-up.sh cnpg

.PHONY: kind-argocd
kind-argocd: ## Install Argo CD (pinned, ARGOCD_VERSION) into namespace argocd and wait until every part of it is ready
	$(K8S_DIR)/scripts/kind-gitops.sh install

.PHONY: kind-gitops
kind-gitops: ## GitOps deploy of HEAD: in-cluster git server fed from this checkout, ApplicationSet pinned to HEAD's SHA and its shop image; waits for staging
	MAKE="$(MAKE)" $(K8S_DIR)/scripts/kind-gitops.sh deploy

.PHONY: kind-gitops-check
kind-gitops-check: ## Fail unless Argo CD shows staging Synced and Healthy at HEAD's SHA
	$(K8S_DIR)/scripts/kind-gitops.sh check

.PHONY: kind-rollouts
kind-rollouts: ## Install the Argo Rollouts controller (pinned, ARGO_ROLLOUTS_VERSION) for the canary component
	$(K8S_DIR)/scripts/kind-canary.sh install

.PHONY: kind-external-secrets
kind-external-secrets: ## Install the External Secrets Operator (pinned, ESO_VERSION), a kind-only OpenBao dev server and its ClusterSecretStore, seed it; then make kind-deploy K8S_OVERLAY=k8s/tests/kind-external-secrets
	$(K8S_DIR)/scripts/kind-external-secrets.sh install

.PHONY: kind-openbao-seed
kind-openbao-seed: ## Put random values for the ExternalSecrets of ESO_OVERLAY (default k8s/tests/kind-external-secrets) into OpenBao, keeping existing ones
	$(K8S_DIR)/scripts/kind-external-secrets.sh seed

.PHONY: kind-canary
kind-canary: ## Release a new shop revision by canary (BAD=1: injected errors, must abort and roll back; BAD=0: must be promoted); prints the timeline
	$(K8S_DIR)/scripts/kind-canary.sh run

.PHONY: kind-deploy
kind-deploy: ## Build and load the shop image tagged per source state, apply the kind overlay (K8S_OVERLAY=...) with it, wait until every workload is ready
	MAKE="$(MAKE)" $(K8S_DIR)/scripts/kind-deploy.sh

.PHONY: kind-image
kind-image: ## Build the shop image (unless one of this source state exists) under its per-source-state tag and load it into kind
	MAKE="$(MAKE)" $(K8S_DIR)/scripts/kind-image.sh load

.PHONY: kind-deploy-envs
kind-deploy-envs: ## Apply the shared stack (namespace observability) and the staging and production environments, wait until ready
	K8S_OVERLAYS="$(K8S_ENV_OVERLAYS)" $(K8S_DIR)/scripts/kind-deploy.sh

.PHONY: kind-image-check
kind-image-check: ## Fail unless the shop Deployment and all its pods on kind run the image of this source state (after kind-deploy)
	$(K8S_DIR)/scripts/kind-image.sh check

.PHONY: kind-load
kind-load: ## Gatling stress through the edge (https://localhost, server verified with the local CA) while printing the HPA replica count over time
	MAKE="$(MAKE)" $(K8S_DIR)/scripts/kind-load.sh

.PHONY: kind-failover-drill
kind-failover-drill: ## Delete the primary PostgreSQL instance under Gatling load; fail unless the API serves again within FAILOVER_BOUND_SECONDS (60)
	MAKE="$(MAKE)" $(K8S_DIR)/scripts/kind-failover-drill.sh

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	@command -v kind >/dev/null || { echo "error: kind not found: see k8s/README.md (Prerequisites)" >&2; exit 1; }
	kind delete cluster --name $(KIND_CLUSTER)

.PHONY: test-k8s
test-k8s: ## Offline: kustomize builds, strict schema validation, security/ports/autoscaling/network-policy tests, admission policy (CEL), shellcheck
	@$(K8S_DIR)/scripts/test-k8s.sh
	@$(MAKE) --no-print-directory test-k8s-policy

# The admission policies' CEL, evaluated by CEL for Java on every built overlay and on failing fixtures: a Maven project
# of its own (k8s/tests/policy/pom.xml); Maven reaches the network only for what the local repository lacks.
.PHONY: test-k8s-policy
test-k8s-policy: ## Offline: the ValidatingAdmissionPolicies of k8s/base/admission, compiled and evaluated with CEL for Java on every built overlay and failing fixtures
	$(MVN) -q -f $(K8S_DIR)/tests/policy/pom.xml test

.PHONY: test-k8s-manifests
test-k8s-manifests: ## Offline, only the manifest checks of test-k8s (k8s.test.mjs: schemas, security, ports, network policies)
	@$(K8S_DIR)/scripts/test-k8s.sh k8s.test.mjs

.PHONY: test-k8s-scripts
test-k8s-scripts: ## Offline, only the script tests of test-k8s: kind-up/kind-deploy/kind-load against stub commands (scripts.test.mjs)
	@$(K8S_DIR)/scripts/test-k8s.sh scripts.test.mjs

.PHONY: test-kind-image
test-kind-image: ## Offline, only the tests of kind-image.sh (scripts.test.mjs): the shop image's tag per source state, built only when missing
	@$(K8S_DIR)/scripts/test-k8s.sh --test-name-pattern=kind-image scripts.test.mjs

.PHONY: test-k8s-edge
test-k8s-edge: ## Offline, only the edge checks of test-k8s (edge.test.mjs: Gateway, redirect, HSTS, rate limit, local CA, edge NetworkPolicies, CRD schemas; edge-script.test.mjs: kind-edge-check.sh)
	@$(K8S_DIR)/scripts/test-k8s.sh edge.test.mjs edge-script.test.mjs

.PHONY: test-k8s-cnpg
test-k8s-cnpg: ## Offline, only the CloudNativePG checks of test-k8s (cnpg.test.mjs: failover, backups, metrics, shop on -rw)
	@$(K8S_DIR)/scripts/test-k8s.sh cnpg.test.mjs

.PHONY: test-k8s-envs
test-k8s-envs: ## Offline, only the environment checks of test-k8s (environments.test.mjs: labels, differences table, cross-namespace flows, RBAC)
	@$(K8S_DIR)/scripts/test-k8s.sh environments.test.mjs
.PHONY: test-k8s-canary
test-k8s-canary: ## Offline, only the canary checks of test-k8s (canary.test.mjs: Rollout, analysis queries vs the SLO rules, timeline; kind-canary.sh)
	@$(K8S_DIR)/scripts/test-k8s.sh canary.test.mjs canary-script.test.mjs

.PHONY: test-k8s-gitops
test-k8s-gitops: ## Offline, only the GitOps checks of test-k8s (gitops.test.mjs: Argo CD schemas, ApplicationSet, git server, kind-gitops.sh)
	@$(K8S_DIR)/scripts/test-k8s.sh gitops.test.mjs

.PHONY: test-k8s-sizing
test-k8s-sizing: ## Offline, only the sizing of test-k8s: every build against loadtest/capacity.yaml (sizing.test.mjs)
	@$(K8S_DIR)/scripts/test-k8s.sh sizing.test.mjs

.PHONY: test-k8s-secrets
test-k8s-secrets: ## Offline, only the credential checks of test-k8s: no Secret in any build, kind-secrets.sh against a stub kubectl, the literal-credential scan
	@$(K8S_DIR)/scripts/test-k8s.sh secrets.test.mjs secrets-scan.test.mjs

.PHONY: test-secrets-scan
test-secrets-scan: ## Offline, seconds: fail when a committed manifest or config (k8s, observability, backup, loadtest, .github, toolchain, compose but its local-only defaults) carries a literal credential
	@$(K8S_DIR)/scripts/test-k8s.sh secrets-scan.test.mjs

.PHONY: test-kind-secrets
test-kind-secrets: ## Offline, only the tests of kind-secrets.sh against a stub kubectl (random, Contract A key file, never overwritten)
	@$(K8S_DIR)/scripts/test-k8s.sh --test-name-pattern=kind-secrets secrets.test.mjs

.PHONY: test-k8s-eso
test-k8s-eso: ## Offline, only the external-secrets component: ExternalSecrets vs secrets.list, ESO CRD schemas, OpenBao store, kind-external-secrets.sh against a stub kubectl
	@$(K8S_DIR)/scripts/test-k8s.sh external-secrets.test.mjs
