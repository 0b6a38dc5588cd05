# The two commands a newcomer needs: `make demo` and `make test`. Each sets itself up on first use.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PROFILE ?= sandbox

# Offline and quiet CDK: no version check, no telemetry, no Node end-of-life banner.
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: demo test test-fast bench synth lint deploy destroy clean

$(PY_STAMP): pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(PY_STAMP)
	$(BIN)/mlops-demo demo --profile $(PROFILE)

test: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

test-fast: $(PY_STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not slow"

# Benchmark-only dependencies (Evidently, for the drift comparison): never installed by `make test`.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(PY_STAMP) pyproject.toml requirements.lock benchmarks/requirements-bench.lock
	$(BIN)/pip install --quiet -c requirements.lock -c benchmarks/requirements-bench.lock -e '.[dev,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(PY_STAMP)
	$(BIN)/ruff check .

synth: $(PY_STAMP) $(NODE_STAMP)
	npx --no-install cdk synth --quiet --no-notices -c profile=$(PROFILE)

# Real AWS: needs credentials, a region and a bootstrapped account (see README).
deploy: $(PY_STAMP) $(NODE_STAMP)
	npx --no-install cdk deploy --all --no-notices -c profile=$(PROFILE)

# The deploy workflow's endpoint is not a CloudFormation resource: delete it first, or it keeps billing.
destroy: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/mlops-demo teardown --profile $(PROFILE)
	npx --no-install cdk destroy --all --no-notices -c profile=$(PROFILE)

clean:
	rm -rf cdk.out .local-aws .pytest_cache
