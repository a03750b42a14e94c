# Quick start: `make run` serves the demo; `make test` runs every check and test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench schema clean

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
	url="$$(bash scripts/ensure-postgres.sh | tail -n 1)" && \
		PLANNER_TEST_POSTGRES_URL="$$url" $(BIN)/python -m pytest

# Speed and memory targets are measured here, never asserted by timed tests. pmcontrols
# (the bench extra) is timed beside our engine.
bench: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python -m bench

schema: install
	$(BIN)/planner schema export

clean:
	rm -rf $(VENV) .planner .pytest_cache .mypy_cache .ruff_cache .hypothesis
