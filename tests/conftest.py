"""Test session set-up: Jupyter, IPython, matplotlib and nbgrader state go to a temporary folder.

The variables of :func:`crmkit.engine.jupyter_env.jupyter_state_env` are pointed into one temporary folder for
the whole session before any test runs, so no test (and no kernel or nbgrader process a test
starts) writes to the user's home or to the repository's ``.jupyter/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from crmkit.engine.jupyter_env import isolate_jupyter_state, jupyter_state_env

_STATE = Path(tempfile.mkdtemp(prefix="crmkit-test-jupyter-"))
_SAVED = {k: os.environ.get(k) for k in jupyter_state_env(_STATE)}


def pytest_configure(config):
    # set at import/configure time, before any fixture or test module can start a kernel
    isolate_jupyter_state(_STATE, override=True)


def pytest_unconfigure(config):
    for key, value in _SAVED.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(_STATE, ignore_errors=True)


@pytest.fixture(scope="session")
def jupyter_state() -> Path:
    """The session's temporary Jupyter state folder."""
    return _STATE
