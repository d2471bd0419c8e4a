"""`crmkit report`: the class report, one self-contained HTML page (grading/reports/class.html).

Grade distribution, scores per category and per assignment, the outcome heatmap, and every
failed, missing or waiting submission with its reason (see :mod:`crmkit.grading.report`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "class report: one HTML page with grades, scores, outcomes, failed and missing work"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Write the class report: grade distribution, per-category and per-assignment scores, "
                          "the learning-outcome heatmap, failed and missing submissions with reasons.")
    parser.add_argument("--policy", default=None, help="policy file (default grading/policy.toml)")
    parser.add_argument("--attendance", default=None, metavar="CSV", help="attendance CSV for absence rules")
    parser.add_argument("--out", default=None, help="HTML file (default grading/reports/class.html)")
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)  # a course copy (tests)


def run(args: argparse.Namespace) -> int:
    from crmkit.grading import gradebook, output, policy, report
    from crmkit.paths import ROOT

    root = Path(args.root).resolve() if args.root else ROOT
    try:
        rd = report.collect(root, args.policy, args.attendance)
    except (policy.PolicyError, gradebook.GradebookError) as e:
        print(e)
        return 2
    for w in rd.warnings:
        print(f"warning: {w}")
    out = Path(args.out) if args.out else root / "grading" / "reports" / "class.html"
    print(output.write(out, report.render(rd)))
    return 0
