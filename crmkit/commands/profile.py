"""`crmkit profile STUDENT ... | --all`: competence profile per learning outcome (HTML + CSV).

Writes ``grading/reports/profiles/<student>.html`` (plot, the rule in Finnish and English, a table)
and ``<student>.csv``. The rule is in :mod:`crmkit.grading.profile`. Named students are profiled
even if the policy's ``ignore_students`` would leave them out (e.g. ``demo_solution``); ``--all``
profiles everyone else.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "competence profile per learning outcome (HTML + CSV) for a student or --all"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Write a competence profile per learning outcome A1-B7 (level shown: none, 1-2, 3-4, 5) "
                          "from the outcome tags of the graded cells and the gradebook's scores.")
    parser.add_argument("students", nargs="*", metavar="STUDENT", help="nbgrader student id(s)")
    parser.add_argument("--all", action="store_true", help="every student in the gradebook")
    parser.add_argument("--policy", default=None, help="policy file (default grading/policy.toml): threshold, exclude")
    parser.add_argument("--out-dir", default=None, help="folder (default grading/reports/profiles)")
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)  # a course copy (tests)


def load(root: Path, policy_path=None, ignore: bool = True):
    """(policy, gradebook data, tags, tag problems) for profiles of every profiled assignment."""
    from crmkit.grading import gradebook, policy
    from crmkit.grading import profile as prof

    pol = policy.load(policy_path, root, check_assignments=False)
    assignments = pol.profile_assignments()
    data = gradebook.read(root, assignments, ignore=pol.ignored if ignore else (lambda s: False))
    tags, problems = prof.read_tags(root, [a for a in assignments if a in pol.available])
    return pol, data, tags, problems


def run(args: argparse.Namespace) -> int:
    from crmkit.grading import gradebook, output, policy
    from crmkit.grading import profile as prof
    from crmkit.paths import ROOT

    root = Path(args.root).resolve() if args.root else ROOT
    if not args.students and not args.all:
        print("Name one or more students, or give --all.")
        return 2
    try:
        pol, data, tags, problems = load(root, args.policy, ignore=not args.students)
    except (policy.PolicyError, gradebook.GradebookError) as e:
        print(e)
        return 2
    for p in problems:
        print(f"warning: {p}")
    students = data.students if args.all else args.students
    unknown = [s for s in students if s not in data.students]
    if unknown:
        print(f"Unknown student(s): {', '.join(unknown)}; the gradebook has: {', '.join(data.students) or 'none'}")
        return 2
    if not tags:
        print("warning: no graded cell in solutions/ carries outcome tags; every profile shows 'none'")
    out_dir = Path(args.out_dir) if args.out_dir else root / "grading" / "reports" / "profiles"
    course = " – ".join(x for x in (pol.course, pol.title) if x)
    for s in students:
        p = prof.student_profile(s, data, tags, pol.profile_threshold)
        header, rows = prof.csv_rows(p)
        print(output.write(out_dir / f"{s}.html", prof.render_html(p, course)))
        print(output.write(out_dir / f"{s}.csv", output.csv_text(header, rows)))
        shown = ", ".join(f"{r.outcome} {r.shown}" for r in p.outcomes if r.shown != prof.NONE)
        print(f"  {s}: {shown or 'no level shown yet'}"
              + (f"; {len(p.pending)} cell(s) await grading" if p.pending else ""))
    return 0
