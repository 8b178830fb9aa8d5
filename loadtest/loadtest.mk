# Load-test targets (Gatling), included by the root Makefile. loadtest/README.md explains profiles, gates and results.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# The work is done by loadtest/scripts/loadtest.sh; these targets only pass the variables on.

# make load PROFILE=load BASE_URL=http://localhost:8080 [RPS=..] [USERS=..] [DURATION=..] [STEPS=..]
# HTTPS with a private CA: GATLING_TRUSTSTORE=/abs/path.p12 (PKCS12; make kind-load sets the kind edge's).
PROFILE  ?= smoke
BASE_URL ?= http://localhost:8080
LOADTEST := loadtest/scripts/loadtest.sh
# The local service of `capacity` and `test-load` runs on its own ports, next to anything on 8080/9000/5432.
LOADTEST_ENV = MVN="$(MVN)" API_PORT=$${LOADTEST_API_PORT:-28080} MGMT_PORT=$${LOADTEST_MGMT_PORT:-29000} \
  PG_PORT=$${LOADTEST_PG_PORT:-15434} RPS="$(RPS)" USERS="$(USERS)" DURATION="$(DURATION)" STEPS="$(STEPS)"

##@ Load tests (Gatling)

.PHONY: load
load: check-java ## Gatling run against any URL (compose, kind, ...): make load [PROFILE=smoke|load|stress|spike|soak] [BASE_URL=http://localhost:8080]
	@$(LOADTEST_ENV) PROFILE="$(PROFILE)" BASE_URL="$(BASE_URL)" $(LOADTEST) load

.PHONY: capacity
capacity: build ## Stress the packaged service on loopback: sustained RPS at the SLO, service CPU, Gatling's CPU share
	@$(REQUIRE) $@
	@$(LOADTEST_ENV) $(LOADTEST) capacity

.PHONY: test-load
test-load: build ## Smoke passes against the packaged service on PostgreSQL; chaos errors fail its failed-% gate, chaos latency its p95 and p99 gates
	@$(REQUIRE) $@
	@$(LOADTEST_ENV) $(LOADTEST) test-load

.PHONY: test-load-gates
test-load-gates: check-java ## Unit test, no service: the Gatling gates of every profile are the p95/p99/failed-% of loadtest/README.md
	$(MVN) -q -f loadtest/pom.xml test
