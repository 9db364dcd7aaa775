# The two quick-start commands: `make run` and `make test`.
# Each creates .venv with pip when it is missing and installs the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck unit browser bench clean

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

# The browser tests (tests/e2e) need Debian's chromium and axe-core from npm: installed
# here when missing (chromium with apt, as root only; never `playwright install`, which
# downloads a browser build). The single sign-on and SMART launch tests run a real OpenID
# Provider, the oidc-provider package from npm (tests/oidc; provider.mjs for SSO,
# smart_provider.mjs configured as an EHR's SMART authorization server). The EHR tests run a real FHIR R4 server,
# Medplum's FHIR router with its in-memory repository from npm (tests/fhir_server).
# Without them the tests skip and say why.
CHROMIUM := /usr/bin/chromium
E2E_DIR  := tests/e2e
OIDC_DIR := tests/oidc
FHIR_DIR := tests/fhir_server

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "$(CHROMIUM) missing and not root: the browser tests will be skipped"; fi; \
	fi
	@if [ ! -d $(E2E_DIR)/node_modules ]; then \
	  if command -v npm >/dev/null; then npm ci --prefix $(E2E_DIR) --no-audit --no-fund; \
	  else echo "npm missing: the accessibility checks of the browser tests will be skipped"; fi; \
	fi
	@if [ ! -d $(OIDC_DIR)/node_modules ]; then \
	  if command -v npm >/dev/null; then npm ci --prefix $(OIDC_DIR) --no-audit --no-fund; \
	  else echo "npm missing: the SSO and SMART tests (a real OpenID Provider) will be skipped"; fi; \
	fi
	@if [ ! -d $(FHIR_DIR)/node_modules ]; then \
	  if command -v npm >/dev/null; then npm ci --prefix $(FHIR_DIR) --no-audit --no-fund; \
	  else echo "npm missing: the EHR tests (a real FHIR server) will be skipped"; fi; \
	fi

test: lint typecheck browser unit

# Benchmarks (bench/README.md): never part of `make test`; run on a quiet machine.
$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[bench]'
	@touch $@ $(VENV)/.run-installed

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/bench_decode.py
	$(BIN)/python bench/bench_screen.py
	$(BIN)/python bench/bench_cds.py
	$(BIN)/python bench/bench_pk.py
	$(BIN)/python bench/bench_web_pages.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis $(E2E_DIR)/node_modules \
	  $(OIDC_DIR)/node_modules $(FHIR_DIR)/node_modules
