"""`crmkit bundle [--out dist/]`: the student kit, a zip a student or self-learner downloads.

Notebooks, data, environment, the crmkit package without the teacher's tools, the student README
and the student and AHOT guides that exist; checked for leaks before it is written (see
:mod:`crmkit.bundle`). Exit status 0 written (or unchanged), 2 refused.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

HELP = "the student kit: notebooks, data, environment, guides; provably without solutions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Make the student kit (zip): notebooks/, data/, environment.yml, the crmkit package the "
                          "notebooks import, the student README and guides. Refused if any solution, hidden test, "
                          "gradebook or salt would be inside.")
    parser.add_argument("--out", default=None, help="output folder (default dist/)")
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)  # a course copy (tests)


def run(args: argparse.Namespace) -> int:
    from crmkit import bundle
    from crmkit.paths import ROOT

    root = Path(args.root).resolve() if args.root else ROOT
    try:
        path, plan, message = bundle.make(root, args.out)
    except bundle.BundleError as e:
        print(e)
        return 2
    print(message)
    tops = Counter(arc.split("/")[0] if "/" in arc else arc for arc, _ in plan.files)
    print("included: " + ", ".join(f"{k}{'/' if k in ('notebooks', 'data', 'crmkit', 'course') else ''}"
                                   f" ({n} file{'s' if n > 1 else ''})" for k, n in sorted(tops.items())))
    print("guides: " + (", ".join(plan.guides) if plan.guides else "none"))
    for a in plan.absent:
        print(f"not included (absent): {a}")
    print(f"checked: no solutions/, grading/, gradebook or salt; no solution or hidden-test text")
    return 0
