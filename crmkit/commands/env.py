"""`crmkit env`: print the shell exports that keep Jupyter state inside the repository.

The Makefile runs ``eval "$(crmkit env)"`` before anything that may start Jupyter, IPython,
matplotlib or nbgrader, so the list of variables lives in one place (:mod:`crmkit.env`).
"""

from __future__ import annotations

import argparse
import shlex

from crmkit.env import jupyter_state_env

HELP = "print shell exports that keep Jupyter/IPython/matplotlib state in .jupyter/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Print `export NAME=value` lines for the variables that keep Jupyter, IPython, "
                          "matplotlib and nbgrader state inside the repository; use with eval \"$(crmkit env)\". "
                          "Values already set in the environment are kept.")


def run(args: argparse.Namespace) -> int:
    # cli.main already applied crmkit.env.isolate_jupyter_state(), which keeps values the caller set
    import os

    for key in jupyter_state_env():
        print(f"export {key}={shlex.quote(os.environ[key])}")
    return 0
