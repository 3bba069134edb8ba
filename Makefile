# Cloud Engine: every target sets itself up (creates .venv, installs pinned requirements).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip

.PHONY: help setup setup-dev demo test lint typecheck bench run migrate clean

help:
	@echo "make demo   - set up and run the offline end-to-end demo (SQLite, sandbox Terraform, rules advisor)"
	@echo "make test   - set up and run the whole test suite (lint included)"
	@echo "make typecheck - set up and run mypy (strict) on bot/, cogs/, cloud_engine/core/ and cloud_engine/store/"
	@echo "make bench  - set up and print the benchmarks"
	@echo "make run    - run the Discord bot (needs DISCORD_TOKEN in .env)"

$(VENV)/.runtime-stamp: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.runtime-stamp requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime-stamp
setup-dev: $(VENV)/.dev-stamp

demo: setup
	$(PY) main.py demo

lint: setup-dev
	$(VENV)/bin/ruff check .

typecheck: setup-dev
	$(VENV)/bin/mypy bot cogs cloud_engine/core cloud_engine/store

test: setup-dev lint typecheck
	$(PY) -m pytest -q

bench: setup-dev
	$(PY) -m bench

run: setup
	$(PY) main.py run

migrate: setup
	$(PY) main.py db migrate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data/demo
