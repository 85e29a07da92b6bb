# Everyday commands. Each target is a thin alias for a script, so a machine without make can run
# the scripts directly (the README's two commands do). Variables: SERVICE (logs), ARGS (health,
# backup, restore, bench, load, soak), FILE (restore), BENCH (bench), PROFILE (load), MINUTES (soak), ACCOUNT and ROLE (token).
.DEFAULT_GOAL := help
.PHONY: help up down restart status logs health migrate migrate-status backup restore token generate build lint test audit secrets bench load soak profile observe clean docker-build docker-up docker-down certs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

up: ## install everything, start the stack and the services with the schema migrated, print the endpoints
	bash scripts/up.sh

down: ## stop what `make up` started: the services (with a drain), then the stack
	bash scripts/services.sh down
	bash scripts/stack.sh down

restart: ## stop and start the engine and the services; the stack keeps running
	bash scripts/services.sh down
	bash scripts/services.sh up

status: ## report each server's and service's state
	bash scripts/stack.sh status; bash scripts/services.sh status

logs: ## follow the services' logs in .run/logs; one log: make logs SERVICE=gateway (or engine, postgres, ...)
	@bash scripts/logs.sh $(SERVICE)

health: ## check services, stack, disk and lags (scripts/monitor.sh; exit 0 ok, 1 warning, 2 critical, 3 unknown); ARGS=--json
	@bash scripts/monitor.sh $(ARGS)

migrate: ## apply pending database migrations
	npm run --silent migrate -- up

migrate-status: ## list migrations and their state
	npm run --silent migrate -- status

backup: ## back up the database and the engine's journal and snapshots into .run/backups (ARGS="--format plain --retention-days 30 ...")
	bash scripts/backup.sh --engine-dir .run/engine $(ARGS)

restore: ## restore backups: make restore FILE="<hft-db-*.dump> [<hft-engine-*.tar.gz>]" [ARGS=--yes]
	bash scripts/restore.sh $(ARGS) $(FILE)

token: ## print a local dev token: make token ACCOUNT=alice ROLE=trader (viewer|trader|admin)
	@test -n "$(ACCOUNT)" || { echo "usage: make token ACCOUNT=<name> [ROLE=viewer|trader|admin]" >&2; exit 2; }
	@npm run --silent dev-token -- "$(ACCOUNT)" "$(or $(ROLE),trader)"

generate: ## generate TypeScript from proto/
	npm run --silent generate

build: generate ## generate and compile the TypeScript workspaces
	npx tsc -b

lint: ## buf lint/format/breaking, eslint, type-check
	bash scripts/check-contract.sh
	npx eslint --max-warnings=0 .
	npx tsc -p tsconfig.check.json

test: ## run every test suite (starts the stack when needed)
	bash scripts/test.sh

audit: ## dependencies against the advisory databases (npm audit, osv-scanner) and the secret scan; exit 2 when a database is out of reach
	bash scripts/audit.sh

secrets: ## the secret scan alone: gitleaks over every commit, exceptions in .gitleaks.toml
	bash scripts/secret-scan.sh

bench: ## every bench/ scenario beside its ceiling, profile quick (a few minutes, JSON in .run/bench/); BENCH=report rewrites docs/BENCHMARKS.md from the last runs; BENCH=engine|replay|grpc|orders|analytics|gateway one benchmark alone; ARGS=<flags>
	bash scripts/bench.sh $(or $(BENCH),all) $(ARGS)

load: ## the bench/ scenarios with a longer profile of bench/profiles.json: make load PROFILE=standard (bounded rates, durations, concurrency; loopback only); ARGS=--only=<scenario,...>
	bash scripts/bench.sh all --profile=$(or $(PROFILE),standard) $(ARGS)

soak: ## a bounded mixed load on processes of its own, reporting memory and handle growth per service (JSON in .run/soak/): make soak MINUTES=10 ARGS="--rate=100 ..."
	node --conditions=@hft/source --import tsx scripts/soak.ts --minutes=$(or $(MINUTES),10) $(ARGS)

profile: ## CPU flame graphs of a server under load into docs/profiles: make profile BENCH=orders|gateway LABEL=<name> [ARGS=<orders flags>]
	bash scripts/profile.sh $(or $(BENCH),orders) $(or $(LABEL),current) $(ARGS)

observe: ## start the stack's Prometheus and Jaeger (with the rest of the stack) and print their URLs
	@bash scripts/stack.sh up | grep -E '^(prometheus|jaeger) '
	@echo "Grafana: provision grafana/ (dashboard grafana/dashboards/hft-overview.json); see docs/OBSERVABILITY.md"

clean: ## remove build outputs and generated code (keeps .run/ data)
	rm -rf node_modules/.cache */dist */*.tsbuildinfo contract/src/gen engine-cpp/build*

docker-build: ## build the images of docker-compose.yml (settings from compose.env)
	docker compose --env-file compose.env build

docker-up: ## start the whole platform on Docker, detached
	docker compose --env-file compose.env up -d

docker-down: ## stop and remove the Docker containers (named volumes are kept)
	docker compose --env-file compose.env down

certs: ## create a development CA and certificates in .run/certs (scripts/certs.sh)
	bash scripts/certs.sh
