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

.PHONY: help setup demo test lab data release bench

help:
	@echo "make demo     data world, release, a student's run, autograde (the main job)"
	@echo "make test     all tests and quality gates (pytest)"
	@echo "make setup    create/update the local .venv (reruns only when pyproject.toml changes)"
	@echo "make lab      JupyterLab on the kit, nbgrader extensions enabled"
	@echo "make data     regenerate the sample data world into data/"
	@echo "make release  regenerate notebooks/ from solutions/ (nbgrader generate_assignment)"
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
	@touch $(STAMP)

demo: setup
	$(BIN)/crmkit demo

test: setup
	$(JUPYTER_ENV); $(BIN)/python -m pytest

lab: setup
	$(BIN)/crmkit lab

data: setup
	$(BIN)/crmkit data

release: setup
	$(BIN)/crmkit release

bench: setup
	$(JUPYTER_ENV); shopt -s nullglob; files=(bench/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no bench/bench_*.py yet"; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f"; done
