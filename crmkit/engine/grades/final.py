"""Final grades: weighted percentages, category minimums, missing and failed work, rules, H-5.

The rules, in order (also in ``grading/README.md``):

1. **Assignment %** = score / max score × 100 (the score after nbgrader's late penalty; see
   :mod:`crmkit.engine.grades.gradebook`). Computed exactly with :class:`~decimal.Decimal`
   (28 significant digits), never rounded on the way.
2. **Missing work** (nothing submitted) counts as 0 % when the policy says
   ``missing_counts_as = "zero"``; with ``"incomplete"`` the final grade is not given (empty
   grade, the note names the missing work) until the work is in.
   **Failed work** (the autograde status file records a failure) is shown as failed with its reason
   and counts as 0 % (``failed_counts_as = "zero"``) or like missing work (``"missing"``).
3. **Category %** = the mean of its assignments' percentages (``combine = "mean"``, each assignment
   weighs the same) or all points earned / all points available (``combine = "points"``). Exact.
4. **Weighted %** = Σ weight × category %. Exact.
5. **Rounding**: a percentage is rounded half up to ``decimals`` places (default 2) – and only
   then compared: the grade is the highest grade whose threshold ≤ the rounded weighted %, so the
   grade always agrees with the number shown. 49.994 → 49.99 → H; 49.995 → 50.00 → 1;
   89.99 → 4; 90.00 → 5.
6. **Category minimums**: if a category's rounded % is below its ``minimum``, the grade is the fail
   grade (H), whatever the weighted %.
7. **Rules**, after that: absence over ``over`` % (strictly more) lowers the grade one step
   (1 → H) or fails it. Several rules can apply; a fail wins. A student without a readable
   attendance row gets no grade (empty, with the reason) rather than a guess.
8. **Pending work**: while a cell waits for hand grading, or a submission waits for autograding,
   final grades are refused (:class:`PendingError` lists every one) unless ``allow_pending``; then
   the grade is computed from the scores so far (ungraded cells count 0) and marked provisional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import attendance as att
from crmkit.engine.grades import gradebook as gbk
from crmkit.engine.grades import output
from crmkit.engine.grades import policy as pol_mod
from crmkit.engine.grades.attendance import Attendance
from crmkit.engine.grades.policy import Policy
from crmkit.runtime.errors import KitError

HUNDRED = Decimal(100)


class PendingError(KitError):
    """Final grades were asked for while work is still waiting; ``pending`` lists it."""

    exit_status = 3  # refused, not bad input

    def __init__(self, pending: list[gbk.Result]):
        self.pending = pending
        lines = []
        for r in pending:
            if r.status == gbk.PENDING:
                what = "cells awaiting manual grading: " + ", ".join(c.pending_note() for c in r.pending_cells)
            else:
                what = r.reason
            lines.append(f"  - {r.student} / {r.assignment}: {what}")
        super().__init__(
            f"Final grades refused: {len(pending)} submission(s) are not fully graded yet.\n"
            + "\n".join(lines)
            + "\nGrade them (nbgrader formgrader / `nbgrader autograde`), or pass --allow-pending for "
              "provisional grades.")


def round_percent(value: Decimal, decimals: int = 2) -> Decimal:
    """Round half up to ``decimals`` places (the only rounding the kit does)."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def grade_for(rounded_percent: Decimal, policy: Policy) -> str:
    """The highest grade whose threshold ≤ ``rounded_percent``; the fail grade below all."""
    grade = policy.fail_grade
    for g, threshold in policy.thresholds:
        if rounded_percent >= threshold:
            grade = g
    return grade


def lower(grade: str, policy: Policy, steps: int = 1) -> str:
    """``steps`` steps down the scale, not below the fail grade."""
    scale = policy.grades
    return scale[max(0, scale.index(grade) - steps)]


@dataclass
class StudentGrade:
    """One student's final grade and how it came about."""

    student: str
    categories: dict[str, Decimal | None]  # exact category %; None when it cannot be computed
    weighted: Decimal | None  # exact weighted %
    grade: str  # the fail grade, a pass grade, or "" (not given: see notes)
    notes: list[str] = field(default_factory=list)
    provisional: bool = False
    absence: Decimal | None = None
    counted: dict[str, Decimal | None] = field(default_factory=dict)  # assignment -> % that counts

    def rounded(self, value: Decimal | None, decimals: int) -> str:
        return "" if value is None else f"{round_percent(value, decimals):f}"


def pending_results(policy: Policy, data: gbk.GradebookData) -> list[gbk.Result]:
    """Every counted submission that waits for hand grading or for autograding."""
    return [data.result(s, a) for s in data.students for a in policy.assignments
            if data.result(s, a).status in (gbk.PENDING, gbk.NOT_AUTOGRADED)]


def _counted(policy: Policy, r: gbk.Result, max_score: Decimal, notes: list[str]):
    """(percent, score, max) that count for one result, or None (grade not given)."""
    status = r.status
    if status == gbk.FAILED:
        if policy.failed_counts_as == "zero":
            notes.append(f"{r.assignment} failed ({r.reason}): counts 0 %")
            return Decimal(0), Decimal(0), max_score
        status = gbk.MISSING
        notes.append(f"{r.assignment} failed ({r.reason}): counts as missing work")
    if status == gbk.MISSING:
        if policy.missing_counts_as == "zero":
            if r.status == gbk.MISSING:
                notes.append(f"{r.assignment} missing: counts 0 %")
            return Decimal(0), Decimal(0), max_score
        notes.append(f"{r.assignment} missing: no grade until it is submitted and graded")
        return None
    if status == gbk.NOT_AUTOGRADED:
        notes.append(f"{r.assignment} not autograded yet: counts 0 % for now")
        return Decimal(0), Decimal(0), max_score
    if not r.max_score:
        notes.append(f"{r.assignment}: the gradebook gives it no points (max score 0); cannot compute a %")
        return None
    return r.percent, r.score, r.max_score


def compute(policy: Policy, data: gbk.GradebookData, attendance: Attendance | None = None,
            allow_pending: bool = False) -> list[StudentGrade]:
    """Final grades for every student in ``data`` (see the module docstring for the rules)."""
    pending = pending_results(policy, data)
    if pending and not allow_pending:
        raise PendingError(pending)
    out = []
    absence_rules = [r for r in policy.rules if r.type == "absence"]
    for s in data.students:
        notes: list[str] = []
        counted: dict[str, Decimal | None] = {}
        cats: dict[str, Decimal | None] = {}
        provisional = False
        for cat in policy.categories:
            parts = []
            for a in cat.assignments:
                r = data.result(s, a)
                if r.status in (gbk.PENDING, gbk.NOT_AUTOGRADED):
                    provisional = True
                c = _counted(policy, r, data.max_scores.get(a, Decimal(0)), notes)
                counted[a] = None if c is None else c[0]
                parts.append(c)
            if any(p is None for p in parts):
                cats[cat.name] = None
            elif cat.combine == "points":
                total_max = sum((p[2] for p in parts), Decimal(0))
                if not total_max:
                    notes.append(f"{cat.name}: no points available (assignments not in the gradebook?)")
                    cats[cat.name] = None
                else:
                    cats[cat.name] = sum((p[1] for p in parts), Decimal(0)) / total_max * HUNDRED
            else:
                cats[cat.name] = sum((p[0] for p in parts), Decimal(0)) / len(parts)
        if all(v is not None for v in cats.values()):
            weighted = sum((c.weight * cats[c.name] for c in policy.categories), Decimal(0))
            grade = grade_for(round_percent(weighted, policy.decimals), policy)
        else:
            weighted, grade = None, ""
        if grade:
            for cat in policy.categories:
                if cat.minimum is not None and round_percent(cats[cat.name], policy.decimals) < cat.minimum:
                    notes.append(f"{cat.name} {round_percent(cats[cat.name], policy.decimals):f} % is below "
                                 f"its minimum {cat.minimum:f} %: {policy.fail_grade}")
                    grade = policy.fail_grade
        absence = None
        if absence_rules:
            if attendance is None:
                notes.append("no attendance file read: absence rules cannot be applied, no grade")
                grade = ""
            elif s in attendance.problems:
                notes.append(f"attendance: {attendance.problems[s]}; no grade")
                grade = ""
            elif s not in attendance.absence:
                notes.append(f"attendance: {s} is not in {attendance.path}; no grade")
                grade = ""
            else:
                absence = attendance.absence[s]
                for rule in absence_rules:
                    if absence > rule.over and grade:
                        shown = round_percent(absence, policy.decimals)
                        if rule.effect == "fail":
                            notes.append(f"absence {shown:f} % > {rule.over:f} %: {policy.fail_grade}")
                            grade = policy.fail_grade
                        elif grade != policy.fail_grade:
                            new = lower(grade, policy)
                            notes.append(f"absence {shown:f} % > {rule.over:f} %: grade lowered {grade} → {new}")
                            grade = new
        if provisional:
            notes.insert(0, "PROVISIONAL: work still waits for grading (see the assignment columns)")
        out.append(StudentGrade(student=s, categories=cats, weighted=weighted, grade=grade, notes=notes,
                                provisional=provisional, absence=absence, counted=counted))
    return out


def table(policy: Policy, data: gbk.GradebookData, grades: list[StudentGrade]) -> tuple[list[str], list[list[str]]]:
    """The final-grades CSV: header and rows.

    Columns: student_id, ``<category>_percent`` for each category, weighted_percent, grade,
    provisional (yes/empty), absence_percent (only with absence rules), notes, then for each counted
    assignment ``<assignment>_percent`` (what counts) and ``<assignment>_status`` (graded /
    awaiting manual grading: cells / not autograded: why / failed: reason / missing).
    """
    d = policy.decimals
    header = ["student_id"] + [f"{c.name}_percent" for c in policy.categories]
    header += ["weighted_percent", "grade", "provisional"]
    with_absence = any(r.type == "absence" for r in policy.rules)
    if with_absence:
        header.append("absence_percent")
    header.append("notes")
    for a in policy.assignments:
        header += [f"{a}_percent", f"{a}_status"]
    rows = []
    for g in grades:
        row = [g.student] + [g.rounded(g.categories[c.name], d) for c in policy.categories]
        row += [g.rounded(g.weighted, d), g.grade, "yes" if g.provisional else ""]
        if with_absence:
            row.append(g.rounded(g.absence, d))
        row.append("; ".join(g.notes))
        for a in policy.assignments:
            row += [g.rounded(g.counted.get(a), d), data.result(g.student, a).describe()]
        rows.append(row)
    return header, rows


# ---------------------------------------------------------------------------------------------
# the whole step, as `crmkit grades` and the demo run it


@dataclass
class FinalGrades:
    """What :func:`write` read, computed and wrote."""

    policy: Policy
    data: gbk.GradebookData
    attendance: Attendance | None
    grades: list[StudentGrade]
    path: Path
    message: str  # what output.write said about the grades CSV

    @property
    def provisional(self) -> list[str]:
        """Students whose grade is provisional (work still waits for grading)."""
        return [g.student for g in self.grades if g.provisional]


def load_inputs(course: CourseDir, policy_path=None, attendance_path=None, assignments=None):
    """(policy, gradebook data, attendance) for final grades; a KitError on bad input."""

    pol = pol_mod.load(course, policy_path)
    attendance = None
    if any(r.type == "absence" for r in pol.rules):
        attendance = att.read(Path(attendance_path) if attendance_path else pol.attendance_file)
    extra = sorted(set(attendance.absence) | set(attendance.problems)) if attendance else []
    data = gbk.read(course, assignments if assignments is not None else pol.assignments,
                    ignore=pol.ignored, extra_students=extra)
    return pol, data, attendance


def write(course: CourseDir, *, policy_path=None, out=None, attendance_path=None,
          allow_pending: bool = False) -> FinalGrades:
    """Compute the final grades and write ``grading/final_grades.csv``; raises :class:`PendingError`
    while work waits, unless ``allow_pending``."""

    pol, data, attendance = load_inputs(course, policy_path, attendance_path)
    grades = compute(pol, data, attendance, allow_pending=allow_pending)
    path = Path(out) if out else course.workspace / "final_grades.csv"
    header, rows = table(pol, data, grades)
    return FinalGrades(pol, data, attendance, grades, path, output.write(path, output.csv_text(header, rows)))
