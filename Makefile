# Cloud Engine: every target sets itself up (creates .venv, installs pinned requirements).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# Checkov (IaC scanner) is heavy, so it gets a virtualenv of its own, created on first use.
CHECKOV_VENV := .venv-checkov

.PHONY: help setup setup-dev setup-focus checkov azurite demo test lint typecheck bench run migrate clean

help:
	@echo "make demo   - set up and run the offline end-to-end demo (SQLite, sandbox Terraform, rules advisor)"
	@echo "make test   - set up and run the whole test suite (lint included)"
	@echo "make typecheck - set up and run mypy (strict) on bot/, cogs/ and cloud_engine/"
	@echo "make bench  - set up and print the benchmarks"
	@echo "make checkov - create .venv-checkov with the pinned Checkov (the scanner the tests judge provider HCL with)"
	@echo "make azurite - install the pinned Azurite (Azure Storage emulator, needs npm) into .tools/azurite"
	@echo "make setup-focus - create .venv-focus (python3.12, else python3.13) with the FOCUS validator"
	@echo "make run    - run the Discord bot (needs DISCORD_TOKEN in .env)"

$(VENV)/.runtime-stamp: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.runtime-stamp requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

# Checked strictly by `make typecheck`: all of bot/, cogs/ and cloud_engine/.
TYPED := bot cogs cloud_engine/core cloud_engine/store cloud_engine/ai cloud_engine/data cloud_engine/ops cloud_engine/notify \
	cloud_engine/cli cloud_engine/iac cloud_engine/finops \
	cloud_engine/errors.py cloud_engine/logging_setup.py cloud_engine/private_files.py cloud_engine/secret_text.py \
	cloud_engine/services.py cloud_engine/settings.py

$(CHECKOV_VENV)/.stamp: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt
	touch $@

setup: $(VENV)/.runtime-stamp
setup-dev: $(VENV)/.dev-stamp
checkov: $(CHECKOV_VENV)/.stamp

# The FinOps Foundation's focus-validator needs Python >= 3.12, so it lives in its own venv,
# created on first use. pyenv shims refuse a version that is not selected, so each candidate is
# tried for real, then pyenv's own installs.
FOCUS_VENV := .venv-focus
FOCUS_PYTHON ?= $(shell for p in python3.12 python3.13; do $$p -c '' 2>/dev/null && { command -v $$p; exit 0; }; done; \
	root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
	for p in $$root/versions/3.12*/bin/python3.12 $$root/versions/3.13*/bin/python3.13; do \
	test -x $$p && { echo $$p; exit 0; }; done)

$(FOCUS_VENV)/.stamp: requirements-focus.txt
	@test -n "$(FOCUS_PYTHON)" || { echo "setup-focus: no python3.12 or python3.13 found (set FOCUS_PYTHON=/path/to/python3.12)" >&2; exit 1; }
	test -x $(FOCUS_VENV)/bin/python || $(FOCUS_PYTHON) -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/pip install -q -r requirements-focus.txt
	touch $@

setup-focus: $(FOCUS_VENV)/.stamp

demo: setup
	$(PY) main.py demo

lint: setup-dev
	$(VENV)/bin/ruff check .

typecheck: setup-dev
	$(VENV)/bin/mypy $(TYPED)

# Azurite (the Azure Storage emulator, npm) for the Blob export tests, pinned, in a local prefix.
AZURITE_VERSION := 3.37.0
AZURITE := .tools/azurite/.stamp-$(AZURITE_VERSION)
$(AZURITE):
	@command -v npm >/dev/null || { echo "azurite: npm not found; install Node.js and npm (e.g. apt-get install nodejs npm)" >&2; exit 1; }
	npm install --prefix .tools/azurite --no-audit --no-fund --save-exact azurite@$(AZURITE_VERSION)
	touch $@
azurite: $(AZURITE)

test: setup-dev setup-focus checkov lint typecheck azurite
	$(PY) -m pytest -q

bench: setup-dev
	$(PY) -m bench

run: setup
	$(PY) main.py run

migrate: setup
	$(PY) main.py db migrate

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache data/demo
