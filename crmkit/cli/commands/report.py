"""`crmkit report [--assignment SLUG]`: the class report, one self-contained HTML page.

Grade distribution, scores per category and per assignment, per assignment the most common
mistakes (Yleisimmät virheet: per exercise the share who passed and the messages students saw,
ranked), the outcome heatmap, and every failed, missing or waiting submission with its reason
(grading/reports/class.html; see crmkit.engine.grades.report). ``--assignment SLUG`` writes one
week's mistakes page to show in class (grading/reports/SLUG-virheet.html).
"""

from __future__ import annotations

import argparse
import sys

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit report`."""
    parser.add_argument("--policy", default=None, help="policy file (default grading/policy.toml)")
    parser.add_argument("--attendance", default=None, metavar="CSV", help="attendance CSV for absence rules")
    parser.add_argument("--out", default=None, help="HTML file (default grading/reports/class.html)")
    parser.add_argument("--assignment", default=None, metavar="SLUG",
                        help="only one week's page: the assignment's most common mistakes, to show in class "
                             "(grading/reports/SLUG-virheet.html)")
    parser.add_argument("--per-student", action="store_true",
                        help="name the students behind each mistake (for the teacher; not for showing in class)")


def run(args: argparse.Namespace) -> int:
    """Write the report; warnings go to stderr."""
    from crmkit.engine.grades import report

    message, warnings = report.write(find_course(args), policy_path=args.policy, attendance_path=args.attendance,
                                     out=args.out, assignment=args.assignment, per_student=args.per_student)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(message)
    return 0
