# The two commands a newcomer needs are `make run` and `make test`; both build .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= $(shell command -v python3.13 >/dev/null 2>&1 && python3.13 -c 'import sys' >/dev/null 2>&1 && echo python3.13 || \
	( [ -x "$$HOME/.pyenv/versions/3.13.0/bin/python3.13" ] && echo $$HOME/.pyenv/versions/3.13.0/bin/python3.13 ) || \
	( ls -1 $$HOME/.pyenv/versions/3.13.*/bin/python3.13 2>/dev/null | tail -n1 ))
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help setup browser run test test-slow lint typecheck unit synth deploy clean bench schemas

help:
	@echo "make run    run the whole system locally on an embedded AWS (moto)"
	@echo "make test   run every test, lint and type check"
	@echo "make test-slow  fuzzing, fault injection, ten cold starts of the local runtime (minutes; before a release)"
	@echo "make bench  run the benchmarks (minutes): prints the table, writes bench/results.json"
	@echo "make schemas  regenerate events/schemas/*.json from the event models (helpdesk.domain.events)"
	@echo "make synth  synthesize the CloudFormation templates offline (cdk-nag included)"
	@echo "make deploy deploy to your AWS account (see README)"

# .venv is rebuilt only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON_BIN)" || { echo "Python 3.13 not found: install it (e.g. pyenv install 3.13) and retry"; exit 1; }
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Browser tests use Debian's Chromium (Playwright can't download its own browsers on a closed network).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

setup: $(VENV)/.installed $(CDK) browser

run: $(VENV)/.installed
	$(PY) -m localrt

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=functions $(VENV)/bin/lint-imports --no-cache

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy functions local infra tests bench

test: setup lint typecheck
	$(VENV)/bin/pytest -n 2 -m "not slow"

# The tests that take minutes (marked slow): schemathesis against both OpenAPI documents, a full
# scenario under injected AWS faults, each on its own local runtime, and ten cold starts of the
# local runtime (fresh bytecode cache) under a burst of requests. CI runs `make test` only, to stay
# within its half hour; run these before a release.
test-slow: setup
	$(VENV)/bin/pytest -m slow -n 2 -s

# Not part of `make test`: takes minutes, and its figures are ratios measured on this machine.
bench: $(VENV)/.installed
	$(PY) -m bench --update-readme

# The published event schemas are generated from the pydantic event models; a test fails when they differ.
schemas: $(VENV)/.installed
	$(PY) -m helpdesk.domain.event_schemas events/schemas

synth: $(VENV)/.installed $(CDK)
	$(CDK) synth --quiet
	@echo "Templates written to cdk.out/ (one *.template.json per stack)"

deploy: $(VENV)/.installed $(CDK)
	$(CDK) deploy --all $(DEPLOY_ARGS)

clean:
	rm -rf $(VENV) node_modules cdk.out layers/build .pytest_cache .mypy_cache .ruff_cache
