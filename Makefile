# Quick start: `make run` serves the demo; `make test` runs every check and test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench load probe fuzz schema clean synth lambda-deps graphiql-assets

install: $(STAMP)

# Reinstall when the dependencies or their pins change. constraints.txt pins the whole tested set.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# tests/infra/ synthesize the CDK app in the test environment (never in a Lambda); `make run`
# does not need the CDK, so only `make test` installs it.
INFRA_STAMP := $(VENV)/.infra-installed-stamp
$(INFRA_STAMP): $(STAMP) infra/cdk/requirements.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -r infra/cdk/requirements.txt
	touch $(INFRA_STAMP)

run: install
	$(BIN)/planner serve --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# PostgreSQL is installed and started where missing (scripts/ensure-postgres.sh), so that
# every store-backed test runs on SQLite and on PostgreSQL.
# The suite runs on TEST_WORKERS pytest-xdist workers, which share out the tests one by one;
# each worker has its own PostgreSQL database, temp dirs and free ports. Tests marked `serial`
# (they bound how long something takes) run afterwards, alone.
TEST_WORKERS ?= 2
test: lint $(INFRA_STAMP)
	bash scripts/ensure-browser-tests.sh
	url="$$(bash scripts/ensure-postgres.sh | tail -n 1)" && \
		PLANNER_TEST_POSTGRES_URL="$$url" $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial" && \
		PLANNER_TEST_POSTGRES_URL="$$url" $(BIN)/python -m pytest -m serial

# Speed and memory targets are measured here, never asserted by timed tests. pmcontrols
# (the bench extra) is timed beside our engine.
bench: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python -m bench

# A bounded load (four phases of 10 s) against a local `planner serve` on PostgreSQL; prints
# p50/p95/p99, throughput, 503s and /healthz latency. PLANNER_LOAD_URL targets a running server;
# LOAD_ARGS="--baseline-ref REF" measures commit REF first and prints the ratios against it.
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

# The AWS deployment as CloudFormation, offline: no credentials, no Docker, no network once the
# CDK's environment and the Lambda dependencies are installed. infra/cdk/.venv holds the CDK
# (infra/cdk/requirements.txt); infra/cdk/build/lambda-deps/ holds the project's runtime
# dependencies as Linux wheels for Lambda's Python 3.12 (the dependency layer); app.py writes
# infra/cdk/cdk.out/. Deploy it with the CDK CLI (README, "Deploying to AWS").
CDK_DIR := infra/cdk
CDK_VENV := $(CDK_DIR)/.venv
CDK_STAMP := $(CDK_VENV)/.installed-stamp
LAMBDA_DEPS := $(CDK_DIR)/build/lambda-deps
LAMBDA_DEPS_STAMP := $(CDK_DIR)/build/.lambda-deps-stamp
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels and older.
LAMBDA_PYTHON := 3.12
LAMBDA_PLATFORMS ?= manylinux_2_28_x86_64 manylinux2014_x86_64
PLANNER_STAGE ?= production

$(CDK_STAMP): $(CDK_DIR)/requirements.txt constraints.txt
	$(PYTHON) -m venv $(CDK_VENV)
	$(CDK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CDK_VENV)/bin/python -m pip install --quiet -c constraints.txt -r $(CDK_DIR)/requirements.txt
	touch $@

# The project's [project] dependencies only (no dev, bench or infra packages, and not those
# infra/cdk/lambda_requirements.py leaves out), pinned by constraints.txt, as wheels for the
# Lambda platform: nothing is compiled, no Docker.
$(LAMBDA_DEPS_STAMP): pyproject.toml constraints.txt $(CDK_DIR)/lambda_requirements.py $(CDK_STAMP)
	rm -rf $(LAMBDA_DEPS)
	mkdir -p $(LAMBDA_DEPS)
	$(CDK_VENV)/bin/python $(CDK_DIR)/lambda_requirements.py > $(CDK_DIR)/build/lambda-requirements.txt
	$(CDK_VENV)/bin/python -m pip install --quiet --target $(LAMBDA_DEPS)/python \
		$(addprefix --platform ,$(LAMBDA_PLATFORMS)) --implementation cp --python-version $(LAMBDA_PYTHON) \
		--only-binary=:all: \
		-c constraints.txt -r $(CDK_DIR)/build/lambda-requirements.txt
	size="$$(du -sm $(LAMBDA_DEPS) | cut -f1)" && if [ "$$size" -gt 240 ]; then \
		echo "the Lambda layer is $$size MB; Lambda takes 250 MB with the code" >&2; exit 1; fi
	touch $@

lambda-deps: $(LAMBDA_DEPS_STAMP)

synth: $(CDK_STAMP) $(LAMBDA_DEPS_STAMP)
	cd $(CDK_DIR) && JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PLANNER_STAGE=$(PLANNER_STAGE) \
		.venv/bin/python app.py

# GraphiQL's scripts and styles, served offline: copies the browser builds of the npm packages
# pinned in adapters/asgi/graphiql/package-lock.json into adapters/asgi/graphiql/static/ (commit
# the result; the server needs no Node). Needs npm. README, "GraphiQL offline".
graphiql-assets:
	bash adapters/asgi/graphiql/copy-assets.sh
