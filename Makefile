# The two commands: `make run` and `make test`. Everything else is what they need.
# `make run` uses the instance folder every `.venv/bin/planflow` command uses (README, Configuration).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean

run: $(VENV)/.installed
	$(BIN)/planflow init --demo
	$(BIN)/planflow serve --host 127.0.0.1 --port 5000

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check src tests
	$(BIN)/python -m mypy

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Catalog edits are compiled by the install's build hook (hatch_build.py).
CATALOGS := $(wildcard src/planflow/translations/*/LC_MESSAGES/*.po)

$(VENV)/.installed: pyproject.toml hatch_build.py $(CATALOGS) | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml hatch_build.py $(CATALOGS) | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) build dist .pytest_cache
