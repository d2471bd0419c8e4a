"""The ``crmkit`` command line: thin. It parses, calls one function, and reports.

Each subcommand is a module of :mod:`crmkit.cli.commands` with ``add_arguments(parser)`` and
``run(args) -> int``; its help line is written once, in :data:`COMMANDS`, and its description is
the module's docstring. Every subcommand takes ``--course-dir`` (default: the course found from
the working folder upward, as nbgrader finds it). Results go to stdout; an expected error
(:class:`~crmkit.runtime.errors.KitError`) goes to stderr as one message, with its exit status
(2 for bad input, 3 for refused). Modules are imported only when their subcommand runs, so
``crmkit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand -> (module, one-line help)
COMMANDS = {
    "demo": ("crmkit.cli.commands.demo", "the main job: data world, release, student run, a class autograded"),
    "release": ("crmkit.cli.commands.release", "regenerate notebooks/ from solutions/ (nbgrader generate_assignment)"),
    "autograde": ("crmkit.cli.commands.autograde",
                  "parallel sandboxed autograding of the submitted ASSIGNMENT(s) into the gradebook"),
    "feedback": ("crmkit.cli.commands.feedback",
                 "nbgrader's HTML feedback with the hidden tests removed; failed submissions say why"),
    "grades": ("crmkit.cli.commands.grades", "weighted final grades (H-5) from the gradebook; Moodle CSV"),
    "moodle": ("crmkit.cli.commands.moodle",
               "Moodle round trip: collect its submissions zip; feedback zip and grading worksheet back"),
    "profile": ("crmkit.cli.commands.profile",
                "competence profile per learning outcome (HTML + CSV) for a student or --all"),
    "report": ("crmkit.cli.commands.report",
               "class report: one HTML page with grades, scores, outcomes, failed and missing work"),
    "bundle": ("crmkit.cli.commands.bundle",
               "the student kit: notebooks, data, environment, guides; provably without solutions"),
    "course": ("crmkit.cli.commands.course",
               "regenerate the learning-outcome matrix in course/osaamistavoitteet.md (--check: only verify)"),
    "data": ("crmkit.cli.commands.data", "generate the sample data world (CSV + SQLite CRM) deterministically"),
    "import": ("crmkit.cli.commands.import_csv", "import a company's export (Finnish Excel CSV) onto the kit's schema"),
    "lab": ("crmkit.cli.commands.lab", "open JupyterLab on the course with nbgrader's extensions"),
    "env": ("crmkit.cli.commands.env", "print shell exports that keep Jupyter/IPython/matplotlib state in .jupyter/"),
}


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmkit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_line) in COMMANDS.items():
        if argv and argv[0] == name:
            mod = importlib.import_module(module)
            p = sub.add_parser(name, help=help_line, description=mod.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
            mod.add_arguments(p)
        else:
            p = sub.add_parser(name, help=help_line)
        p.add_argument("--course-dir", metavar="DIR", default=None,
                       help="the course directory (default: the nearest folder with nbgrader_config.py "
                            "from the working folder upward)")
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    from crmkit.engine.coursedir import find_root
    from crmkit.engine.jupyter_env import isolate_jupyter_state
    from crmkit.runtime.errors import KitError

    argv = sys.argv[1:] if argv is None else argv
    args = _parser(argv).parse_args(argv)
    root = args.course_dir or find_root()
    isolate_jupyter_state(f"{root}/.jupyter" if root else None)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except KitError as e:
        print(f"crmkit {args.command}: {e}", file=sys.stderr)
        return e.exit_status


if __name__ == "__main__":
    sys.exit(main())
