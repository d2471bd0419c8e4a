"""`crmkit env`: print the shell exports that keep Jupyter state inside the course directory.

The Makefile runs ``eval "$(crmkit env)"`` before anything that may start Jupyter, IPython,
matplotlib or nbgrader, so the list of variables lives in one place (crmkit.engine.jupyter_env).
Values already set in the environment are kept.
"""

from __future__ import annotations

import argparse
import os
import shlex

from crmkit.engine.jupyter_env import jupyter_state_env


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`crmkit env` has no options of its own."""


def run(args: argparse.Namespace) -> int:
    """Print one export per variable (the command line already set them, keeping the caller's)."""
    for key in jupyter_state_env():
        print(f"export {key}={shlex.quote(os.environ[key])}")
    return 0
