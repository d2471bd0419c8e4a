"""`crmkit feedback ASSIGNMENT [--student ID …]`: nbgrader's HTML feedback without the hidden tests.

Writes ``grading/feedback/<student>/ASSIGNMENT/ASSIGNMENT.html`` for every autograded student
(see :mod:`crmkit.feedback`); a failed submission's page says why it could not be graded.
Every page is checked for hidden-test lines; a page that shows one is removed (exit status 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "nbgrader's HTML feedback with the hidden tests removed; failed submissions say why"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "nbgrader's HTML feedback with hidden tests (source and tracebacks) removed."
    parser.add_argument("assignment", help="the assignment (folder name in solutions/)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID", help="only these students")
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from crmkit import feedback, nbg
    from crmkit.paths import ROOT

    root = Path(args.root).resolve() if args.root else ROOT
    if args.assignment not in nbg.assignments(root):
        print(f"Unknown assignment {args.assignment!r}; solutions/ has: {', '.join(nbg.assignments(root))}")
        return 2
    res = feedback.generate(args.assignment, root, args.student)
    print(f"feedback {args.assignment}: {len(res['written'])} page(s) in "
          f"{nbg._step_dir(root, 'feedback')}/<student>/{args.assignment}/; "
          f"{len(res['failed'])} explain a failed submission; hidden tests checked absent from every page")
    return 1 if res["leaks"] else 0
