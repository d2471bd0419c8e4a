# The course kit's entry points. `make demo` and `make test` work on a fresh clone on a machine that
# has only python3 (3.11+) and access to the package registry: `setup` makes the local .venv.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.crmkit-setup.stamp
# Keep Jupyter, IPython, matplotlib and nbgrader state inside the repository (.jupyter/); the list
# of variables lives in crmkit/env.py, `crmkit env` prints it as exports.
JUPYTER_ENV = eval "$$($(BIN)/crmkit env)"

.PHONY: help setup sandbox-tools demo test test-browser lab data release bundle bench

help:
	@echo "make demo     data world, release, a student's run, autograde (the main job)"
	@echo "make test     all tests and quality gates (pytest), the browser tests included"
	@echo "make test-browser  only the browser tests: JupyterLab, widgets, nbgrader pages in Chromium"
	@echo "make setup    create/update the local .venv (reruns only when pyproject.toml changes)"
	@echo "make lab      JupyterLab on the kit, nbgrader extensions enabled"
	@echo "make data     regenerate the sample data world into data/"
	@echo "make release  regenerate notebooks/ from solutions/ (nbgrader generate_assignment)"
	@echo "make bundle   the student kit dist/*.zip (notebooks, data, environment, guides; leak-checked)"
	@echo "make bench    run the benchmarks bench/bench_*.py"

setup: $(STAMP)

# pip's exit status is checked (pipefail), and so are the ERROR lines pip prints with exit status 0
# (dependency conflicts); `pip check` then proves the environment is consistent.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer needed, $(VENV) has " + sys.version.split()[0] + "; remove $(VENV) and run make setup PYTHON=python3.11")'
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[dev]" 2>&1 | tee $(VENV)/pip-install.log
	@if grep -q '^ERROR' $(VENV)/pip-install.log; then echo "pip reported errors (above); setup failed"; exit 1; fi
	$(BIN)/python -m pip check
	$(JUPYTER_ENV); $(BIN)/crmkit lab --check-extensions
	@$(MAKE) --no-print-directory sandbox-tools
	@touch $(STAMP)

# System packages from Debian, missing ones installed in one apt-get call: bubblewrap for the
# autograding sandbox (prlimit/setpriv come with util-linux) and chromium for the browser tests
# (tests/browser/: Playwright drives /usr/bin/chromium; no browser is ever downloaded). Installed as
# root directly, else with `sudo -n`; otherwise a loud notice: autograding then runs with resource
# limits only (crmkit autograde says so too), and the browser tests are SKIPPED with the reason.
sandbox-tools:
	@missing=""; command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -z "$$missing" ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then echo "!!! no apt-get: install$$missing by hand."; \
	elif [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "!!! apt-get install$$missing failed."; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then (sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "!!! sudo apt-get install$$missing failed."; \
	else echo "!!! not root and no sudo -n: cannot install$$missing. Ask an admin: apt-get install$$missing"; fi
	@if command -v bwrap >/dev/null 2>&1; then echo "sandbox: $$(bwrap --version)"; \
	else echo "!!! NO SANDBOX: bubblewrap (bwrap) is not installed. Autograding will run with resource limits only."; fi
	@if test -x /usr/bin/chromium; then echo "browser: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else echo "!!! NO BROWSER: chromium (/usr/bin/chromium) is not installed. The browser tests (tests/browser/) will be SKIPPED."; fi

demo: setup sandbox-tools
	$(BIN)/crmkit demo

test: setup sandbox-tools
	$(JUPYTER_ENV); $(BIN)/python -m pytest

# Screenshots of every page: screenshots/browser/ (git-ignored).
test-browser: setup sandbox-tools
	$(JUPYTER_ENV); $(BIN)/python -m pytest tests/browser

lab: setup
	$(BIN)/crmkit lab

data: setup
	$(BIN)/crmkit data

release: setup
	$(BIN)/crmkit release

bundle: setup
	$(BIN)/crmkit bundle

bench: setup
	$(JUPYTER_ENV); shopt -s nullglob; files=(bench/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no bench/bench_*.py yet"; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f"; done
