# CortexOps — every target installs what it needs on first use (see README.md).
SHELL := /bin/bash
PNPM := scripts/pnpm

.PHONY: help bootstrap build lint up demo down status test test-unit test-integration bench demo-failure backup restore

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

bootstrap: ## install pnpm (pinned, into the cache) and the workspace dependencies
	@$(PNPM) install --frozen-lockfile --reporter=silent

build: bootstrap ## type-check and build every package (policy wasm included)
	$(PNPM) run build

lint: bootstrap ## eslint over the whole repository
	$(PNPM) run lint

up: bootstrap ## start the local stack and the services (idempotent; restarts only what died)
	@$(PNPM) --silent --filter @cortexops/policy run ensure
	$(PNPM) --silent stack up --all

demo: up ## bring everything up, report each service's health, then inject a failure and watch it remediated, verified and audited
	@$(PNPM) --silent stack status --check
	@for port in $${CORTEXOPS_API_PORT:-8080} $${CORTEXOPS_INGESTION_PORT:-8081} $${CORTEXOPS_CORRELATOR_PORT:-8082} $${CORTEXOPS_WORKER_PORT:-8083} $${CORTEXOPS_APPROVALS_PORT:-8084}; do \
	  curl -fsS "http://127.0.0.1:$$port/debug/healthz"; echo; done
	@$(PNPM) --silent stack demo

demo-failure: up ## chaos scenarios (servers killed, workers killed, changes that do not settle), each on private servers beside the stack; a PASS/FAIL table, exit 1 unless all pass
	@$(PNPM) --silent exec tsx packages/testkit/src/chaos/cli.ts $(if $(ONLY),--only $(ONLY))

backup: bootstrap ## back up the local stack (PostgreSQL, Temporal's store, NATS KV buckets and dead letters, Qdrant, the audit checkpoint) into a new directory under INTO (default <cache>/backups); prints it
	@$(PNPM) --silent stack backup $(if $(INTO),--into "$(INTO)")

restore: bootstrap ## restore a backup into the local stack: make restore BACKUP=<dir> (FORCE=1 replaces servers that hold data); checks every file first, verifies the audit chain after
	@test -n "$(BACKUP)" || { echo 'usage: make restore BACKUP=<backup directory> [FORCE=1]  (make backup prints the directory)' >&2; exit 2; }
	@$(PNPM) --silent stack restore "$(BACKUP)" $(if $(FORCE),--force)

down: bootstrap ## stop the services and the stack (data stays in the cache)
	$(PNPM) --silent stack down

status: bootstrap ## where everything listens, and whether it is healthy
	$(PNPM) --silent stack status

test: build lint ## every test: unit, then integration against the real local stack
	$(PNPM) run test

test-unit: bootstrap
	$(PNPM) run test:unit

test-integration: bootstrap
	$(PNPM) run test:integration

bench: build ## benchmarks (each prints a table against its same-run baseline)
	$(PNPM) run bench
