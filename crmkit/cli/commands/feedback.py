"""`crmkit feedback ASSIGNMENT [--student ID …]`: nbgrader's HTML feedback without the hidden tests.

Writes ``grading/feedback/<student>/ASSIGNMENT/ASSIGNMENT.html`` for every autograded student
(see crmkit.engine.feedback); a failed submission's page says why it could not be graded.
Every page is checked for hidden-test lines; a page that shows one is removed (exit status 1).
"""

from __future__ import annotations

import argparse

from crmkit.cli.commands import find_course
from crmkit.runtime.errors import KitError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit feedback`."""
    parser.add_argument("assignment", help="the assignment (folder name in solutions/)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID", help="only these students")


def run(args: argparse.Namespace) -> int:
    """Write the pages; 1 if a page had to be removed for showing a hidden test."""
    from crmkit.engine import feedback

    course = find_course(args)
    if args.assignment not in course.assignments():
        raise KitError(f"unknown assignment {args.assignment!r}; solutions/ has: {', '.join(course.assignments())}")
    res = feedback.generate(course, args.assignment, args.student)
    print(f"feedback {args.assignment}: {len(res['written'])} page(s) in "
          f"{course.step_dir('feedback')}/<student>/{args.assignment}/; "
          f"{len(res['failed'])} explain a failed submission; hidden tests checked absent from every page")
    return 1 if res["leaks"] else 0
