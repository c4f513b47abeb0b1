# Every target sets up what it needs on a fresh machine: the virtualenv with the project's Python
# packages, and (for synth) the CDK CLI from npm as a project dev dependency.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
STAGE ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo local test test-fast synth bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

demo: $(STAMP)  ## local mode end to end: sample webhooks in, ERP/CRM/store state out
	$(VENV)/bin/synchub demo

local: $(STAMP)  ## local mode in the foreground until Ctrl-C (SYNCHUB_LOCAL_PORT, default 8787)
	$(VENV)/bin/synchub local

test: lint  ## style and types, then the whole suite: unit, contract, conformance, integration, infra, e2e (real Tryton)
	$(PY) -m pytest

test-fast: $(STAMP)  ## everything but e2e
	$(PY) -m pytest -m "not e2e"

synth: $(STAMP) $(NODE_STAMP)  ## CloudFormation template into cdk.out/ (no Docker, no AWS credentials)
	$(PY) -m infra.build_layers
	npx cdk synth -c stage=$(STAGE) --quiet

bench: $(STAMP)  ## benchmarks, printing figures and ratios against baselines measured in the same run
	$(PY) -m tests.bench

lint: $(STAMP)  ## ruff over all code; mypy over synchub, infra and every function (each its own module)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy layers/core/python/synchub infra
	for handler in functions/*/handler.py; do $(VENV)/bin/mypy --follow-imports=silent $$handler || exit 1; done

clean:
	rm -rf cdk.out layers/deps/python .synchub .pytest_cache
