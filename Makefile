# Everyday commands. Each target is a thin alias for a script, so a machine without make can run
# the scripts directly (the README's two commands do).
.DEFAULT_GOAL := help
.PHONY: help up down status observe migrate migrate-status generate build lint test clean token

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

up: ## install everything, start the stack with the schema migrated, print the endpoints
	bash scripts/up.sh

down: ## stop what `make up` started
	bash scripts/services.sh down
	bash scripts/stack.sh down

status: ## report each server's health
	bash scripts/stack.sh status; bash scripts/services.sh status

observe: ## start the stack's Prometheus and Jaeger (with the rest of the stack) and print their URLs
	@bash scripts/stack.sh up | grep -E '^(prometheus|jaeger) '
	@echo "Grafana: provision grafana/ (dashboard grafana/dashboards/hft-overview.json); see docs/OBSERVABILITY.md"

migrate: ## apply pending database migrations
	npm run --silent migrate -- up

migrate-status: ## list migrations and their state
	npm run --silent migrate -- status

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

clean: ## remove build outputs and generated code (keeps .run/ data)
	rm -rf node_modules/.cache */dist */*.tsbuildinfo contract/src/gen engine-cpp/build*
