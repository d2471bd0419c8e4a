"""The course hub tested for real: JupyterHub, throwaway Linux users, nbgrader's exchange between
them, PostgreSQL, and Debian's Chromium through the hub's login page.

Every test here is marked ``hub`` (``pytest -m hub``, or ``pytest tests/hub``). The live hub's
modules (test_hub_*.py) need root
(users, PAM, servers started as other users), ``useradd``/``runuser``/``setpriv``/``setfacl``, the
proxy that ``make hub-tools`` installs, and for the browser flow Playwright with
``/usr/bin/chromium``, for the PostgreSQL flow Debian's PostgreSQL server binaries. Where one is
missing the tests are SKIPPED with the reason, loudly (as the browser tests do).

See hubworld.py for what is created and how it is always removed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "browser"))  # labpage: driving JupyterLab

import hubworld  # noqa: E402
from labpage import CHROMIUM, launched_chromium  # noqa: E402

VIEWPORT = {"width": 1440, "height": 1100}


def hub_skip_reason() -> str | None:
    """Why the hub cannot be tested on this machine, or None."""
    if sys.platform != "linux":
        return "the course hub runs on Linux (PAM, system users)"
    if os.geteuid() != 0:
        return "not root: the hub tests create Linux users and start servers as them (run make test as root)"
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "chpasswd", "runuser", "setpriv", "setfacl"):
        if not shutil.which(tool):
            return f"{tool} is missing (make hub-tools installs acl; the others come with Debian's passwd/util-linux)"
    try:
        hubworld.crmkit_hub.find_proxy()
    except hubworld.crmkit_hub.SettingsError as e:
        return str(e)
    return None


def browser_skip_reason() -> str | None:
    """Why the hub's pages cannot be driven in a browser here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (make setup installs Debian's chromium)"
    return None


def postgres_skip_reason() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None."""
    if hubworld.pg_bin_dir() is None:
        return "no PostgreSQL server binaries (initdb/pg_ctl): make hub-tools installs Debian's postgresql"
    return None


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if Path(str(item.fspath)).is_relative_to(HERE)]
    # Playwright's sync API runs one instance per thread: tests/browser/ keeps its Chromium for the
    # whole session, so the hub's (module-scoped) browser must come and go before it starts.
    if mine and len(mine) < len(items):
        ids = {id(item) for item in mine}
        items[:] = mine + [item for item in items if id(item) not in ids]
    for item in mine:
        item.add_marker(pytest.mark.hub)
    # the live hub's modules (test_hub_*.py) need root; test_z2jh.py runs anywhere
    mine = [item for item in mine if Path(str(item.fspath)).name.startswith("test_hub_")]
    reason = hub_skip_reason()
    if reason and mine:
        msg = f"!!! HUB TESTS SKIPPED: {reason}"
        print("\n" + msg, file=sys.stderr)
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=msg))
        return
    for item in mine:
        if "browser" in item.keywords and browser_skip_reason():
            item.add_marker(pytest.mark.skip(reason=f"!!! HUB BROWSER TEST SKIPPED: {browser_skip_reason()}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed and Path(str(item.fspath)).is_relative_to(HERE):
        hubworld.STEPS_FAILED.append((item.module.__name__, item.name))


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, launched by Playwright (no browser download); one per module,
    closed before tests/browser/ starts its own (see pytest_collection_modifyitems)."""
    with launched_chromium() as chromium:
        yield chromium
