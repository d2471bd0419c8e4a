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

.PHONY: help setup sandbox-tools hub-tools hub demo test test-browser lab data release bundle bench

help:
	@echo "make demo     data world, release, a student's run, autograde (the main job)"
	@echo "make test     all tests and quality gates (pytest), the browser tests included"
	@echo "make test-browser  only the browser tests: JupyterLab, widgets, nbgrader pages in Chromium"
	@echo "make hub PORT=8000  JupyterHub for a class on this server (root): PAM users, nbgrader exchange"
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

# Install the Debian packages named in the shell variable $$missing in one apt-get call: as root
# directly, else with `sudo -n`, else a loud notice ending with $(1).
define apt_install_missing
if [ -z "$$missing" ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then echo "!!! no apt-get: install$$missing by hand."; \
	elif [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "!!! apt-get install$$missing failed."; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then (sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "!!! sudo apt-get install$$missing failed."; \
	else echo "!!! not root and no sudo -n: cannot install$$missing. $(1)"; fi
endef

# System packages from Debian, missing ones installed in one apt-get call: bubblewrap for the
# autograding sandbox (prlimit/setpriv come with util-linux) and chromium for the browser tests
# (tests/browser/: Playwright drives /usr/bin/chromium; no browser is ever downloaded). Installed as
# root directly, else with `sudo -n`; otherwise a loud notice: autograding then runs with resource
# limits only (crmkit autograde says so too), and the browser tests are SKIPPED with the reason.
sandbox-tools:
	@missing=""; command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	$(call apt_install_missing,Ask an admin: apt-get install$$missing)
	@if command -v bwrap >/dev/null 2>&1; then echo "sandbox: $$(bwrap --version)"; \
	else echo "!!! NO SANDBOX: bubblewrap (bwrap) is not installed. Autograding will run with resource limits only."; fi
	@if test -x /usr/bin/chromium; then echo "browser: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else echo "!!! NO BROWSER: chromium (/usr/bin/chromium) is not installed. The browser tests (tests/browser/) will be SKIPPED."; fi

# What the course hub (deploy/hub/) and its tests (tests/hub/) need besides the Python packages:
# Debian's postgresql (initdb/pg_ctl: the tests' gradebook server), acl (setfacl: prepare.py's
# --grant-traverse), nodejs/npm if missing; and configurable-http-proxy from npm, pinned by
# deploy/hub/proxy/package-lock.json, installed with `npm ci` into $(VENV)/hub-node (again only
# when the lock file changes). Without root (or sudo -n) a loud notice: the hub tests are SKIPPED.
HUB_NODE := $(VENV)/hub-node
hub-tools: setup
	@missing=""; ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v setfacl >/dev/null 2>&1 || missing="$$missing acl"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	$(call apt_install_missing,The hub tests (tests/hub/) will be SKIPPED.)
	@if ! command -v npm >/dev/null 2>&1; then echo "!!! NO npm: configurable-http-proxy not installed; the hub tests will be SKIPPED."; \
	elif ! cmp -s deploy/hub/proxy/package-lock.json $(HUB_NODE)/package-lock.json || ! test -x $(HUB_NODE)/node_modules/.bin/configurable-http-proxy; then \
	    mkdir -p $(HUB_NODE) && cp deploy/hub/proxy/package.json deploy/hub/proxy/package-lock.json $(HUB_NODE)/ && \
	    (cd $(HUB_NODE) && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || echo "!!! npm ci failed: the hub tests will be SKIPPED."; fi
	@if test -x $(HUB_NODE)/node_modules/.bin/configurable-http-proxy; then echo "proxy: configurable-http-proxy $$($(HUB_NODE)/node_modules/.bin/configurable-http-proxy --version)"; fi
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "postgresql: $$(ls -d /usr/lib/postgresql/*/bin | tail -1)"; \
	else echo "!!! NO PostgreSQL server binaries: the hub tests' PostgreSQL gradebook will be SKIPPED."; fi

# JupyterHub for a class on this server, as root, on PORT (a trial: the systemd unit
# deploy/hub/crmkit-hub.service runs the same for real). prepare.py makes the groups, the course
# directory (a copy of this kit), the exchange and the data folder under /srv (see deploy/README.md).
PORT ?= 8000
hub: setup hub-tools
	@test "$$(id -u)" = 0 || { echo "make hub needs root: PAM logins and one Linux user per person"; exit 2; }
	$(BIN)/python deploy/hub/prepare.py --create-groups --grant-traverse --protect-kit
	@echo "Add people: useradd -m -K HOME_MODE=0700 -G crmkit-students NAME && passwd NAME  (teachers: -G crmkit-teachers)"
	@echo "Then open http://$$(hostname -f 2>/dev/null || hostname):$(PORT)/ ; stop with Ctrl+C."
	umask 0007; CRMKIT_HUB_BIND_URL=http://:$(PORT) $(BIN)/jupyterhub -f deploy/hub/jupyterhub_config.py

demo: setup sandbox-tools
	$(BIN)/crmkit demo

# The hub tests (tests/hub/) run beside the rest, in a second pytest: they mostly wait for servers to
# start and Linux users to log in, so on a 2-core machine they overlap the CPU-bound quality gates
# and `make test` stays under CI's 20 minutes. Their output follows the rest's; either failing fails
# (pytest's 5, "no test selected", is not a failure of the hub run: PYTEST_ADDOPTS=-k … may do it).
HUB_LOG := $(VENV)/hub-tests.log
test: setup sandbox-tools hub-tools
	@$(JUPYTER_ENV); \
	$(BIN)/python -m pytest tests/hub -p no:cacheprovider >$(HUB_LOG) 2>&1 & hub=$$!; \
	status=0; $(BIN)/python -m pytest --ignore=tests/hub || status=$$?; \
	hub_status=0; wait $$hub || hub_status=$$?; \
	echo "== tests/hub (run beside the rest; log $(HUB_LOG))"; cat $(HUB_LOG); \
	if [ $$hub_status -eq 5 ]; then hub_status=0; fi; \
	if [ $$status -ne 0 ]; then exit $$status; fi; exit $$hub_status

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

bench: setup hub-tools
	$(JUPYTER_ENV); shopt -s nullglob; files=(bench/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no bench/bench_*.py yet"; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f"; done
