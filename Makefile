# The two quick-start commands: `make run` and `make test`.
# Each creates .venv with pip when it is missing and installs the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	ISOTRACK_ENV=development ISOTRACK_CDS_ALLOW_UNSIGNED=true $(BIN)/isotrack serve --demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

unit: $(VENV)/.test-installed
	$(BIN)/pytest -n auto --dist loadfile

test: lint typecheck unit

# Benchmarks (bench/README.md): never part of `make test`; run on a quiet machine.
$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[bench]'
	@touch $@ $(VENV)/.run-installed

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/bench_decode.py
	$(BIN)/python bench/bench_screen.py
	@if [ -f bench/bench_cds.py ]; then $(BIN)/python bench/bench_cds.py; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
