"""`crmkit profile STUDENT ... | --all`: competence profile per learning outcome (HTML + CSV).

Writes ``grading/reports/profiles/<student>.html`` (plot, the rule in Finnish and English, a table)
and ``<student>.csv``. The rule is in crmkit.engine.grades.profile. Named students are profiled
even if the policy's ``ignore_students`` would leave them out (e.g. ``demo_solution``); ``--all``
profiles everyone else.
"""

from __future__ import annotations

import argparse
import sys

from crmkit.cli.commands import find_course
from crmkit.runtime.errors import KitError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit profile`."""
    parser.add_argument("students", nargs="*", metavar="STUDENT", help="nbgrader student id(s)")
    parser.add_argument("--all", action="store_true", help="every student in the gradebook")
    parser.add_argument("--policy", default=None, help="policy file (default grading/policy.toml): threshold, exclude")
    parser.add_argument("--out-dir", default=None, help="folder (default grading/reports/profiles)")


def run(args: argparse.Namespace) -> int:
    """Write the named students' profiles (or everyone's) and say the levels shown."""
    from crmkit.engine.grades import profile as prof

    if not args.students and not args.all:
        raise KitError("name one or more students, or give --all")
    res = prof.write_profiles(find_course(args), args.students or None, policy_path=args.policy,
                              out_dir=args.out_dir)
    for p in res.problems:
        print(f"warning: {p}", file=sys.stderr)
    if not res.tagged:
        print("warning: no graded cell in solutions/ carries outcome tags; every profile shows 'none'", file=sys.stderr)
    for message in res.messages:
        print(message)
    for p in res.profiles:
        shown = ", ".join(f"{r.outcome} {r.shown}" for r in p.outcomes if r.shown != prof.NONE)
        print(f"  {p.student}: {shown or 'no level shown yet'}"
              + (f"; {len(p.pending)} cell(s) await grading" if p.pending else ""))
    return 0
