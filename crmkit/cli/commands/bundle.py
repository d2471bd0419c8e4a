"""`crmkit bundle [--out dist/]`: the student kit, a zip a student or self-learner downloads.

Notebooks, data, environment, the student runtime (crmkit.runtime, nothing else of the kit), the
student README and the student and AHOT guides that exist; checked for leaks and answer keys
before it is written (see crmkit.course.bundle). Exit status 0 written (or unchanged), 2 refused.
"""

from __future__ import annotations

import argparse
from collections import Counter

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit bundle`."""
    parser.add_argument("--out", default=None, help="output folder (default dist/)")


def run(args: argparse.Namespace) -> int:
    """Make the kit and say what is in it."""
    from crmkit.course import bundle

    path, plan, message = bundle.make(find_course(args), args.out)
    print(message)
    tops = Counter(arc.split("/")[0] if "/" in arc else arc for arc, _ in plan.files)
    print("included: " + ", ".join(f"{k}{'/' if k in ('notebooks', 'data', 'crmkit', 'course') else ''}"
                                   f" ({n} file{'s' if n > 1 else ''})" for k, n in sorted(tops.items())))
    print("guides: " + (", ".join(plan.guides) if plan.guides else "none"))
    for a in plan.absent:
        print(f"not included (absent): {a}")
    print("checked: no solutions/, grading/, gradebook, salt or answer key; no solution or hidden-test text; "
          "notebooks import only the student runtime")
    return 0
