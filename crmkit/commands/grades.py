"""`crmkit grades`: weighted final grades (H-5) from nbgrader's gradebook, and the Moodle CSV.

    crmkit grades [--policy grading/policy.toml] [--out grading/final_grades.csv]
                  [--moodle grading/moodle.csv] [--attendance FILE] [--allow-pending]

Reads the policy (validated), the gradebook, the autograde status files and, for absence rules,
the attendance CSV; writes one row per student (see :func:`crmkit.grading.final.table`). Refuses
while work waits for grading, listing it, unless ``--allow-pending`` (the grades are then marked
provisional and never written to Moodle). Exit status: 0 done, 2 bad input, 3 refused (pending),
1 written but some students could not go to the Moodle file.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

HELP = "weighted final grades (H-5) from the gradebook; Moodle CSV"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Compute weighted final grades (H-5) from nbgrader's gradebook under the grading "
                          "policy, with a status per assignment; optionally write Moodle's grade-import CSV.")
    parser.add_argument("--policy", default=None, help="policy file (default grading/policy.toml)")
    parser.add_argument("--out", default=None, help="final grades CSV (default grading/final_grades.csv)")
    parser.add_argument("--moodle", default=None, metavar="CSV", help="also write Moodle's grade-import CSV here")
    parser.add_argument("--attendance", default=None, metavar="CSV",
                        help="attendance CSV for absence rules (default: the policy's [attendance] file)")
    parser.add_argument("--allow-pending", action="store_true",
                        help="give provisional grades although some work waits for (manual) grading")
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)  # a course copy (tests)


def load_inputs(args, root: Path, assignments=None):
    """Policy, gradebook data and attendance, or (None, message) on bad input."""
    from crmkit.grading import attendance as att
    from crmkit.grading import gradebook, policy

    pol = policy.load(args.policy, root)
    attendance = None
    if any(r.type == "absence" for r in pol.rules):
        path = Path(args.attendance) if getattr(args, "attendance", None) else pol.attendance_file
        attendance = att.read(path)
    extra = sorted(set(attendance.absence) | set(attendance.problems)) if attendance else []
    data = gradebook.read(root, assignments if assignments is not None else pol.assignments,
                          ignore=pol.ignored, extra_students=extra)
    return pol, data, attendance


def run(args: argparse.Namespace) -> int:
    from crmkit.grading import attendance as att
    from crmkit.grading import final, gradebook, moodle, output, policy
    from crmkit.paths import ROOT

    root = Path(args.root).resolve() if args.root else ROOT
    try:
        pol, data, attendance = load_inputs(args, root)
    except (policy.PolicyError, gradebook.GradebookError, att.AttendanceError) as e:
        print(e)
        return 2
    for p in data.problems + (attendance.file_problems if attendance else []):
        print(f"warning: {p}")
    try:
        grades = final.compute(pol, data, attendance, allow_pending=args.allow_pending)
    except final.PendingError as e:
        print(e)
        return 3

    out = Path(args.out) if args.out else root / "grading" / "final_grades.csv"
    header, rows = final.table(pol, data, grades)
    print(output.write(out, output.csv_text(header, rows)))

    counts = Counter(g.grade or "not given" for g in grades)
    order = pol.grades + ["not given"]
    print(f"{len(grades)} student(s) under {pol.path.name} ({pol.course or 'course'}): "
          + ", ".join(f"{g}: {counts[g]}" for g in order if counts[g]))
    provisional = [g.student for g in grades if g.provisional]
    if provisional:
        print(f"PROVISIONAL grades (work still waits for grading): {', '.join(provisional)}")
    for status in (gradebook.FAILED, gradebook.MISSING, gradebook.NOT_AUTOGRADED, gradebook.PENDING):
        rs = [r for r in data.by_status(status) if r.assignment in pol.assignments]
        if rs:
            print(f"{status} ({len(rs)}):")
            for r in rs:
                print(f"  - {r.student} / {r.assignment}: {r.describe()}")
    not_given = [g for g in grades if not g.grade]
    for g in not_given:
        print(f"no grade for {g.student}: {'; '.join(g.notes)}")
    if pol.uncounted():
        print(f"not counted by the policy: {', '.join(pol.uncounted())}")

    if args.moodle:
        try:
            mh, mrows, unmapped = moodle.table(pol, grades)
        except moodle.MoodleError as e:
            print(e)
            return 2
        print(output.write(Path(args.moodle), output.csv_text(mh, mrows)))
        if provisional:
            print("Moodle: provisional grades are left empty.")
        if unmapped:
            print(f"Moodle: NOT written for {len(unmapped)} student(s) missing from {pol.moodle.id_map}: "
                  + ", ".join(unmapped))
            return 1
    return 0
