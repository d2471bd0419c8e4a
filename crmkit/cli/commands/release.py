"""`crmkit release [SLUG ...]`: regenerate notebooks/ from solutions/ with nbgrader.

Runs ``nbgrader generate_assignment <slug> --force`` for every assignment (every
``solutions/<slug>/<slug>.ipynb``) or the ones named. nbgrader also records each assignment and its
grade cells in the gradebook, which autograding needs.
"""

from __future__ import annotations

import argparse

from crmkit.cli.commands import find_course
from crmkit.runtime.errors import KitError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit release`."""
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="assignments to release (default: all)")


def run(args: argparse.Namespace) -> int:
    """Release the named assignments, or all."""
    from crmkit.engine import nbg

    course = find_course(args)
    known = course.assignments()
    slugs = args.slugs or known
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise KitError(f"unknown assignment(s): {', '.join(unknown)}; solutions/ has: {', '.join(known) or 'none'}")
    if not slugs:
        print("solutions/ has no assignments yet (solutions/<slug>/<slug>.ipynb); nothing to release.")
        return 0
    for slug, path in zip(slugs, nbg.generate_many(course, slugs)):
        print(f"released {slug} -> {path.relative_to(course.root)}")
    return 0
