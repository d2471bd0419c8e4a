"""`crmkit report`: the class report, one self-contained HTML page (grading/reports/class.html).

Grade distribution, scores per category and per assignment, the outcome heatmap, and every
failed, missing or waiting submission with its reason (see crmkit.engine.grades.report).
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


def run(args: argparse.Namespace) -> int:
    """Write the report; warnings go to stderr."""
    from crmkit.engine.grades import report

    message, warnings = report.write(find_course(args), policy_path=args.policy,
                                     attendance_path=args.attendance, out=args.out)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(message)
    return 0
