"""`crmkit grades`: weighted final grades (H-5) from nbgrader's gradebook, and the Moodle CSV.

    crmkit grades [--policy grading/policy.toml] [--out grading/final_grades.csv]
                  [--moodle grading/moodle.csv] [--attendance FILE] [--allow-pending]

Reads the policy (validated), the gradebook, the autograde status files and, for absence rules,
the attendance CSV; writes one row per student (see crmkit.engine.grades.final). Refuses
while work waits for grading, listing it, unless ``--allow-pending`` (the grades are then marked
provisional and never written to Moodle). Students the Moodle file cannot hold (no known Moodle
identifier, no final grade) are listed first and left out (crmkit.engine.grades.moodle says why).
Exit status: 0 done, 2 bad input, 3 refused (pending), 1 written but some students could not go to
the Moodle file.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit grades`."""
    parser.add_argument("--policy", default=None, help="policy file (default grading/policy.toml)")
    parser.add_argument("--out", default=None, help="final grades CSV (default grading/final_grades.csv)")
    parser.add_argument("--moodle", default=None, metavar="CSV", help="also write Moodle's grade-import CSV here")
    parser.add_argument("--attendance", default=None, metavar="CSV",
                        help="attendance CSV for absence rules (default: the policy's [attendance] file)")
    parser.add_argument("--allow-pending", action="store_true",
                        help="give provisional grades although some work waits for (manual) grading")


def run(args: argparse.Namespace) -> int:
    """Compute and write the grades (and the Moodle CSV); print a summary."""
    from crmkit.engine.grades import final, gradebook, moodle

    res = final.write(find_course(args), policy_path=args.policy, out=args.out,
                      attendance_path=args.attendance, allow_pending=args.allow_pending)
    pol, data = res.policy, res.data
    for p in data.problems + (res.attendance.file_problems if res.attendance else []):
        print(f"warning: {p}", file=sys.stderr)
    print(res.message)
    counts = Counter(g.grade or "not given" for g in res.grades)
    print(f"{len(res.grades)} student(s) under {pol.path.name} ({pol.course or 'course'}): "
          + ", ".join(f"{g}: {counts[g]}" for g in pol.grades + ["not given"] if counts[g]))
    if res.provisional:
        print(f"PROVISIONAL grades (work still waits for grading): {', '.join(res.provisional)}")
    for status in (gradebook.FAILED, gradebook.MISSING, gradebook.NOT_AUTOGRADED, gradebook.PENDING):
        rs = [r for r in data.by_status(status) if r.assignment in pol.assignments]
        if rs:
            print(f"{status} ({len(rs)}):")
            for r in rs:
                print(f"  - {r.student} / {r.assignment}: {r.describe()}")
    for g in res.grades:
        if not g.grade:
            print(f"no grade for {g.student}: {'; '.join(g.notes)}")
    if pol.uncounted():
        print(f"not counted by the policy: {', '.join(pol.uncounted())}")
    if args.moodle:
        _, _, left_out = moodle.table(pol, res.grades)
        if left_out:  # listed before the file is written: each would stop or spoil Moodle's import
            print(f"Moodle: NOT written for {len(left_out)} student(s):", file=sys.stderr)
            for line in left_out:
                print(f"  - {line}", file=sys.stderr)
        message, _ = moodle.write(args.moodle, pol, res.grades)
        print(message)
        if res.provisional:
            print("Moodle: provisional grades are left out (an empty grade would erase one in Moodle).")
        if left_out:
            return 1
    return 0
