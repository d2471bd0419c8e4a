"""`crmkit course [--check]`: the learning-outcome matrix in course/osaamistavoitteet.md.

Regenerates the matrix outcome × notebook × graded cells from the ``crmkit`` tags of every graded
cell in ``solutions/*/*.ipynb``. ``--check`` writes nothing and fails (exit 1) when the committed
matrix is stale or an outcome A1–B7 has no graded evidence.
"""

from __future__ import annotations

import argparse

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit course`."""
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the matrix is stale or an outcome has no evidence")


def run(args: argparse.Namespace) -> int:
    """Check or rewrite the matrix."""
    from crmkit.course import matrix

    course = find_course(args)
    if args.check:
        problems = matrix.check(course)
        for p in problems:
            print(p)
        if not problems:
            print(f"{matrix.OUTCOMES_DOC}: the matrix is current; every outcome has evidence")
        return 1 if problems else 0
    changed = matrix.update(course)
    print(f"{matrix.OUTCOMES_DOC}: {'matrix updated' if changed else 'already current'}")
    missing = matrix.missing_outcomes(course)
    for o in missing:
        print(f"warning: outcome {o} has no graded cell in any notebook")
    return 1 if missing else 0
