"""`crmkit lab [--port N] [--no-browser]`: JupyterLab on the kit, from the repository root.

The Jupyter state is kept in .jupyter/ (``crmkit.cli.main`` calls
:func:`crmkit.env.isolate_jupyter_state` first). nbgrader's lab extensions and server extensions
(formgrader, assignment list, …) come with the nbgrader package and are enabled in the
environment; `make setup` checks them. ``--allow-root`` is added when running as root (e.g. in a
container), where JupyterLab refuses to start without it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HELP = "open JupyterLab on the kit with nbgrader's extensions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Start JupyterLab in the repository root (the nbgrader course directory)."
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: Jupyter's, 8888)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")


def command(args: argparse.Namespace) -> list[str]:
    """The jupyter lab command line for ``args``."""
    from crmkit.paths import ROOT

    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}"]
    if args.port:
        cmd.append(f"--port={args.port}")
    if args.no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def run(args: argparse.Namespace) -> int:
    from crmkit.paths import ROOT

    bindir = os.path.dirname(sys.executable)  # nbgrader runs its own scripts (alembic) by name
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    # a non-inline MPLBACKEND (e.g. Agg from a script's environment) would hide every plot in the
    # kernels; ipykernel picks the inline backend only when the variable is unset
    env.pop("MPLBACKEND", None)
    try:
        return subprocess.call(command(args), cwd=str(ROOT), env=env)
    except KeyboardInterrupt:
        return 0
