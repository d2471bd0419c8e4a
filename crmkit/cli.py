"""The `crmkit` command line. Each subcommand lives in its own module.

A subcommand module provides ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are imported only when their subcommand runs, so `crmkit --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand name -> module that implements it
SUBCOMMANDS = {
    "data": "crmkit.commands.data",
    "import": "crmkit.commands.import_csv",
    "lab": "crmkit.commands.lab",
    "demo": "crmkit.commands.demo",
    "release": "crmkit.commands.release",
    "env": "crmkit.commands.env",
    "grades": "crmkit.commands.grades",
    "profile": "crmkit.commands.profile",
    "report": "crmkit.commands.report",
    "bundle": "crmkit.commands.bundle",
    "autograde": "crmkit.commands.autograde",
    "feedback": "crmkit.commands.feedback",
    "course": "crmkit.commands.course",
}

HELPS = {
    "data": "generate the sample data world (CSV + SQLite CRM) deterministically",
    "import": "import a Finnish Excel CSV export onto the kit's schema",
    "lab": "open JupyterLab on the kit with nbgrader's extensions",
    "demo": "the main job: data world, release, student run, autograde",
    "release": "regenerate notebooks/ from solutions/ (nbgrader generate_assignment)",
    "env": "print shell exports that keep Jupyter/IPython/matplotlib state in .jupyter/",
    "grades": "weighted final grades (H-5) from the gradebook; Moodle CSV",
    "profile": "competence profile per learning outcome (HTML + CSV) for a student or --all",
    "report": "class report: one HTML page with grades, scores, outcomes, failed and missing work",
    "bundle": "the student kit: notebooks, data, environment, guides; provably without solutions",
    "autograde": "parallel sandboxed autograding of grading/submitted/*/ASSIGNMENT into the gradebook",
    "feedback": "nbgrader's HTML feedback with the hidden tests removed; failed submissions say why",
    "course": "regenerate the learning-outcome matrix in course/osaamistavoitteet.md (--check: only verify)",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    from crmkit.env import isolate_jupyter_state

    isolate_jupyter_state()
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="crmkit")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=HELPS.get(name, ""))
        p.set_defaults(_module=module)
        if argv and argv[0] == name:
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
