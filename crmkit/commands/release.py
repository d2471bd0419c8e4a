"""`crmkit release [SLUG ...]`: regenerate notebooks/ from solutions/ with nbgrader.

Runs ``nbgrader generate_assignment <slug> --force`` for every assignment (every
``solutions/<slug>/<slug>.ipynb``) or the ones named. nbgrader also records each assignment and its
grade cells in the gradebook (grading/gradebook.db), which autograding needs.
"""

from __future__ import annotations

import argparse

HELP = "regenerate notebooks/ from solutions/ (nbgrader generate_assignment)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Regenerate the student notebooks in notebooks/ from solutions/ with nbgrader."
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="assignments to release (default: all)")


def run(args: argparse.Namespace) -> int:
    from crmkit import nbg
    from crmkit.paths import ROOT

    known = nbg.assignments(ROOT)
    slugs = args.slugs or known
    unknown = [s for s in slugs if s not in known]
    if unknown:
        print(f"Unknown assignment(s): {', '.join(unknown)}; solutions/ has: {', '.join(known) or 'none'}")
        return 2
    if not slugs:
        print("solutions/ has no assignments yet (solutions/<slug>/<slug>.ipynb); nothing to release.")
        return 0
    for slug, path in zip(slugs, nbg.generate_many(slugs, ROOT)):
        print(f"released {slug} -> {path.relative_to(ROOT)}")
    return 0
