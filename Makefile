# The two commands: `make run` and `make test`. Everything else is what they need.
# `make run` uses the instance folder every `.venv/bin/planflow` command uses (README, Configuration).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench bench-quick bench-full soak clean

run: $(VENV)/.installed
	$(BIN)/planflow init --demo
	$(BIN)/planflow serve --host 127.0.0.1 --port 5000

# The suite on every core: each test file in one worker, its tests in order (the template databases
# and servers a test starts are its own). PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= auto

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check src tests
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

# Benchmarks (benchmarks/README.md). `make bench`: every benchmark's quick mode, under 10 minutes on
# 2 cores, rewriting benchmarks/RESULTS.md (each section says its mode); BENCH_OUT=FILE writes a copy
# instead. `make bench-full` (or `make bench MODE=full`): the large figures, on a quiet machine.
MODE      ?= quick
BENCH_OUT ?= benchmarks/RESULTS.md

bench: bench-$(MODE)

bench-quick: $(VENV)/.installed-test
	mkdir -p $(dir $(BENCH_OUT)) benchmarks/.work
	[ -f $(BENCH_OUT) ] || cp benchmarks/RESULTS.md $(BENCH_OUT)
	$(BIN)/python benchmarks/run.py --quick --output $(BENCH_OUT)
	$(BIN)/python benchmarks/api.py --output $(BENCH_OUT)
	$(BIN)/python benchmarks/load.py --quick --output $(BENCH_OUT) --json benchmarks/.work/load-quick.json
	$(BIN)/python benchmarks/returns.py --quick --output $(BENCH_OUT)
	$(BIN)/python benchmarks/audit.py --quick --output $(BENCH_OUT)
	@echo "quick figures written to $(BENCH_OUT)"

bench-full: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/scheduler.py
	$(BIN)/python benchmarks/load.py $(LOAD_ARGS)
	$(BIN)/python benchmarks/returns.py
	$(BIN)/python benchmarks/audit.py

# The long fault runs: the tests marked `soak` at full length (200 kills per database), then one long
# load run that must stay sound (no 5xx, no deadlock, exact accounting).
soak: $(VENV)/.installed-test
	PLANFLOW_SOAK=1 $(BIN)/python -m pytest tests -m soak -p no:cacheprovider -s $(PYTEST_ARGS)
	mkdir -p benchmarks/.work
	$(BIN)/python benchmarks/load.py --soak --check --label soak --output benchmarks/.work/SOAK.md

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
