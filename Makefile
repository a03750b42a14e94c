# Quick start: `make run` serves the demo; `make test` runs every check and test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench load probe fuzz schema clean graphiql-assets

install: $(STAMP)

# Reinstall when the dependencies or their pins change. constraints.txt pins the whole tested set.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/planner serve --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# PostgreSQL is installed and started where missing (scripts/ensure-postgres.sh), so that
# every store-backed test runs on SQLite and on PostgreSQL.
test: lint
	bash scripts/ensure-browser-tests.sh
	url="$$(bash scripts/ensure-postgres.sh | tail -n 1)" && \
		PLANNER_TEST_POSTGRES_URL="$$url" $(BIN)/python -m pytest

# Speed and memory targets are measured here, never asserted by timed tests. pmcontrols
# (the bench extra) is timed beside our engine.
bench: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python -m bench

# A bounded load (four phases of 10 s) against a local `planner serve` on PostgreSQL; prints
# p50/p95/p99, throughput, 503s and /healthz latency. PLANNER_LOAD_URL targets a running server.
load: install
	url="$$(bash scripts/ensure-postgres.sh | tail -n 1)" && \
		PLANNER_LOAD_POSTGRES_URL="$$url" $(BIN)/python -m bench.load $(LOAD_ARGS)

# The requests of the security review and graphql-cop's probes, each with its answer and time;
# the slowest documents the bounds admit; /healthz while they run. Reports, asserts nothing.
probe: install
	$(BIN)/python -m bench.probe $(PROBE_ARGS)

# The schema fuzzer on a large budget (make test runs 120 cases per store): 0 HTTP 5xx and 0
# masked internal errors, on SQLite and PostgreSQL; prints what the cases met.
FUZZ_EXAMPLES ?= 1000
fuzz: install
	url="$$(bash scripts/ensure-postgres.sh | tail -n 1)" && \
		PLANNER_TEST_POSTGRES_URL="$$url" PLANNER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/python -m pytest -s -p no:cacheprovider tests/e2e/test_fuzz.py

schema: install
	$(BIN)/planner schema export

clean:
	rm -rf $(VENV) .planner .pytest_cache .mypy_cache .ruff_cache .hypothesis

# GraphiQL's scripts and styles, served offline: copies the browser builds of the npm packages
# pinned in adapters/asgi/graphiql/package-lock.json into adapters/asgi/graphiql/static/ (commit
# the result; the server needs no Node). Needs npm. README, "GraphiQL offline".
graphiql-assets:
	bash adapters/asgi/graphiql/copy-assets.sh
