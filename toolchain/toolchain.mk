# The tools the make targets use, and how `make test` runs on a laptop; included by the root Makefile.
# GNU make manual: https://www.gnu.org/software/make/manual/make.html
# toolchain/README.md explains the tool table (tools.tsv), `make doctor` and the dispatch of `make test`.

##@ Toolchain

.PHONY: doctor
doctor: ## Every tool the targets use: found or not, where, which version, which targets need it, and how to get it
	@toolchain/tools.sh doctor

# TOOLCHAIN_ONLY=dispatch | 'tool table' | 'private folder' runs one group of the tests (the drill's narrow targets).
TOOLCHAIN_ONLY ?=

.PHONY: test-toolchain
test-toolchain: $(GH_TESTS)/node_modules/.package-lock.json ## Tests of make test's dispatch, the tool table and local-service.sh from a private folder (stubbed commands)
	cd $(GH_TESTS) && node --test $(if $(TOOLCHAIN_ONLY),--test-name-pattern='$(TOOLCHAIN_ONLY)') laptop.test.mjs
