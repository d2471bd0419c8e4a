"""`crmkit lab [--port N] [--no-browser]`: JupyterLab on the course, from its directory.

The Jupyter state is kept in the course's .jupyter/ (the command line keeps it there first). nbgrader's lab extensions and server extensions
(formgrader, assignment list, …) come with the nbgrader package and are enabled in the
environment; `make setup` checks them. ``--allow-root`` is added when running as root (e.g. in a
container), where JupyterLab refuses to start without it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit lab`."""
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: Jupyter's, 8888)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--check-extensions", action="store_true",
                        help="only check that nbgrader's server and lab extensions are enabled (enable "
                             "missing ones in this environment), then exit; `make setup` runs this")


#: nbgrader's Jupyter server extensions the kit needs (formgrader for the teacher, the rest for students)
SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.course_list",
)
#: nbgrader's JupyterLab extension (Formgrader, Assignments, Validate button, create-assignment toolbar)
LAB_EXTENSIONS = ("@jupyter/nbgrader",)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _jupyter(*args: str) -> str:
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, "-m", "jupyter", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    return _ANSI.sub("", proc.stdout + proc.stderr)


def _enabled(listing: str, name: str) -> bool:
    return any(name in line.split() and "enabled" in line.split() for line in listing.splitlines())


def check_extensions(fix: bool = True) -> list[str]:
    """The nbgrader extensions that are not enabled (after enabling them if ``fix``)."""
    missing = []
    for kind, names, enable in (("server", SERVER_EXTENSIONS, ("server", "extension", "enable", "--sys-prefix")),
                                ("lab", LAB_EXTENSIONS, ("labextension", "enable"))):
        list_args = ("server", "extension", "list") if kind == "server" else ("labextension", "list")
        listing = _jupyter(*list_args)
        todo = [name for name in names if not _enabled(listing, name)]
        if todo and fix:
            for name in todo:
                print(f"enabling {kind} extension {name}")
                _jupyter(*enable, name)
            listing = _jupyter(*list_args)
        missing += [f"{kind} extension {name}" for name in names if not _enabled(listing, name)]
    return missing


def command(args: argparse.Namespace, root) -> list[str]:
    """The jupyter lab command line for ``args``, serving the course at ``root``."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}"]
    if args.port:
        cmd.append(f"--port={args.port}")
    if args.no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def run(args: argparse.Namespace) -> int:
    """Check the extensions, or run JupyterLab until it is stopped."""
    if args.check_extensions:
        missing = check_extensions(fix=True)
        for name in missing:
            print(f"NOT ENABLED: {name}")
        if not missing:
            print("nbgrader's server and lab extensions are enabled.")
        return 1 if missing else 0

    bindir = os.path.dirname(sys.executable)  # nbgrader runs its own scripts (alembic) by name
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    # a non-inline MPLBACKEND (e.g. Agg from a script's environment) would hide every plot in the
    # kernels; ipykernel picks the inline backend only when the variable is unset
    env.pop("MPLBACKEND", None)
    root = find_course(args).root
    try:
        return subprocess.call(command(args, root), cwd=str(root), env=env)
    except KeyboardInterrupt:
        return 0
