"""`crmkit demo`: the kit's main job, end to end, on the course directory.

Generates the data world if it is missing, releases every assignment, runs each release as a
student would, submits the solutions and a simulated class, autogrades them in the sandbox, and
makes the weighted grades, Moodle CSV, profiles, class report and feedback; then prints where each
output is (crmkit.course.demo has the steps). Exit status 1 if a solution lost points.
"""

from __future__ import annotations

import argparse

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit demo`."""
    from crmkit.course.demo import DEFAULT_STUDENT

    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="assignments to demo (default: all in solutions/)")
    parser.add_argument("--student", default=DEFAULT_STUDENT,
                        help=f"student id of the solved demo submission (default {DEFAULT_STUDENT})")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing demo submission instead of using a timestamped student id")
    parser.add_argument("--students", type=int, default=20,
                        help="size of the simulated class (default 20; 0 skips the class)")
    parser.add_argument("--jobs", type=int, default=None, help="autograde workers (default: number of cores)")
    parser.add_argument("--timeout", type=int, default=20,
                        help="seconds per cell when grading the class (default 20; the endless loop stops there)")


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    from crmkit.course.demo import run_demo

    return run_demo(find_course(args), args.slugs, student=args.student, force=args.force, students=args.students,
                    jobs=args.jobs, timeout=args.timeout)
