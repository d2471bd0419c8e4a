"""`crmkit course [--check]`: the learning-outcome matrix in course/osaamistavoitteet.md.

Regenerates the matrix outcome × notebook × graded cells from the ``crmkit`` tags of every graded
cell in ``solutions/*/*.ipynb``. ``--check`` writes nothing and fails (exit 1) when the committed
matrix is stale or an outcome A1–B7 has no graded evidence.
"""

from __future__ import annotations

import argparse

HELP = "regenerate the learning-outcome matrix in course/osaamistavoitteet.md (--check: only verify)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Regenerate the matrix learning outcome × notebook × graded cells in "
                          "course/osaamistavoitteet.md from the notebooks' metadata.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the matrix is stale or an outcome has no evidence")


def run(args: argparse.Namespace) -> int:
    from crmkit import course
    from crmkit.paths import ROOT

    if args.check:
        problems = course.check(ROOT)
        for p in problems:
            print(p)
        if not problems:
            print(f"{course.OUTCOMES_DOC}: the matrix is current; every outcome has evidence")
        return 1 if problems else 0
    changed = course.update(ROOT)
    print(f"{course.OUTCOMES_DOC}: {'matrix updated' if changed else 'already current'}")
    missing = course.missing_outcomes(ROOT)
    for o in missing:
        print(f"warning: outcome {o} has no graded cell in any notebook")
    return 1 if missing else 0
