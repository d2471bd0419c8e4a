"""Read what grading needs from nbgrader's gradebook, the autograde status files and submitted/.

For every student × assignment the reader gives one :class:`Result` with a status:

``graded``
    in the gradebook, no cell waits for hand grading;
``awaiting manual grading``
    in the gradebook, at least one cell has ``needs_manual_grade`` (nbgrader's flag): the cells are
    listed. A test cell that has no autograde score at all (deleted by the student, or the notebook
    never ran) also waits here, with that said;
``not autograded``
    a submission folder ``grading/submitted/<student>/<assignment>/`` exists but the gradebook has
    no submission: run ``nbgrader autograde``;
``failed``
    the autograde status file (below) records a failure, with its reason. nbgrader itself would
    export such a notebook as a silent 0.0; the kit always shows the failure and its reason;
``missing``
    nothing was submitted.

The autograde status files (:mod:`crmkit.engine.status`) count only where an entry says
``"status": "failed"``; other statuses are informational. ``reason`` is shown to the teacher as it
is. A failure entry wins over a score in the gradebook (autograde replaces the entry when a later
run succeeds), so a failure is never hidden behind an old score; a status file that cannot be read
is an error, never ignored.

Scores are read as :class:`~decimal.Decimal` from the shortest decimal form of nbgrader's floats
(2.5 stays 2.5). An assignment's score is nbgrader's: the sum of its cells' scores (a manual score
overrides the autograde score, extra credit is added) minus the late-submission penalty, never
below 0 – the same number ``nbgrader export`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from crmkit.engine import status
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.status import FAILED, GRADED, MISSING, PENDING
from crmkit.runtime.errors import KitError

NOT_AUTOGRADED = "not autograded"
STATUSES = (GRADED, PENDING, NOT_AUTOGRADED, FAILED, MISSING)


class GradebookError(KitError):
    """The gradebook or a status file cannot be read; the message says which and why."""


def dec(value) -> Decimal:
    """A float from the gradebook as the Decimal of its shortest decimal form (None -> 0)."""
    if value is None:
        return Decimal(0)
    return Decimal(repr(float(value)))


@dataclass
class CellResult:
    """One graded cell of one submission."""

    notebook: str
    name: str  # nbgrader's grade_id
    cell_type: str  # "code" (an autograded test cell) or "markdown" (a hand-graded answer)
    score: Decimal
    max_score: Decimal
    needs_manual_grade: bool
    auto_score: Decimal | None
    manual_score: Decimal | None

    @property
    def graded(self) -> bool:
        return not self.needs_manual_grade

    def pending_note(self) -> str:
        if self.cell_type == "code" and self.auto_score is None and self.manual_score is None:
            return f"{self.name} (test cell without an autograde score: deleted by the student, or never run?)"
        return self.name


@dataclass
class Result:
    """One student's one assignment."""

    student: str
    assignment: str
    status: str
    score: Decimal | None = None  # after the late penalty; None when there is no gradebook submission
    max_score: Decimal | None = None
    reason: str = ""  # failed: the status file's reason; not autograded: where the submission is
    penalty: Decimal = Decimal(0)
    cells: list[CellResult] = field(default_factory=list)

    @property
    def pending_cells(self) -> list[CellResult]:
        return [c for c in self.cells if c.needs_manual_grade]

    @property
    def percent(self) -> Decimal | None:
        """score / max × 100, exact (None without a score or with max 0)."""
        if self.score is None or not self.max_score:
            return None
        return self.score / self.max_score * 100

    def describe(self) -> str:
        """The status as the final-grades CSV shows it, with the reason or the pending cells."""
        if self.status == FAILED:
            return f"failed: {self.reason}"
        if self.status == PENDING:
            return f"{PENDING}: {', '.join(c.pending_note() for c in self.pending_cells)}"
        if self.status == NOT_AUTOGRADED:
            return f"{NOT_AUTOGRADED}: {self.reason}"
        return self.status


@dataclass
class GradebookData:
    """Everything read: students, assignments with their max scores, results, problems."""

    students: list[str]
    assignments: list[str]
    max_scores: dict[str, Decimal]  # from the gradebook (0 if the assignment is not in it)
    results: dict[tuple[str, str], Result]
    problems: list[str] = field(default_factory=list)  # things the teacher must know, e.g. bad entries

    def result(self, student: str, assignment: str) -> Result:
        return self.results[(student, assignment)]

    def by_status(self, *statuses: str) -> list[Result]:
        return [r for r in self.results.values() if r.status in statuses]


def open_gradebook(course: CourseDir):
    """nbgrader's Gradebook for the course; refuses to create a new empty one by accident."""
    from nbgrader.api import Gradebook

    path = course.db_path
    if path is not None and not path.exists():
        raise GradebookError(f"no gradebook at {path}: release and autograde first "
                             "(`crmkit release`, `crmkit autograde <assignment>`)")
    try:
        return Gradebook(course.db_url, course_id=course.course_id)
    except Exception as e:
        raise GradebookError(f"cannot open the gradebook {path or course.db_url}: {e}") from None


def assignment_names(course: CourseDir) -> list[str]:
    """The assignments recorded in the gradebook, sorted."""
    with open_gradebook(course) as gb:
        return sorted(a.name for a in gb.assignments)


def read(course: CourseDir, assignments: list[str] | None = None,
         ignore=lambda student: False, extra_students: list[str] = ()) -> GradebookData:
    """Read every student × assignment (default: all assignments in the gradebook).

    Students are the gradebook's, anyone with a folder in ``grading/submitted/`` or an entry in a
    status file, and ``extra_students`` (e.g. from an attendance list), minus those ``ignore``
    returns true for. No student is dropped silently: each gets a result for every assignment.
    """
    problems: list[str] = []
    submitted = course.step_dir("submitted")
    with open_gradebook(course) as gb:
        in_gb = {a.name: a for a in gb.assignments}
        if assignments is None:
            assignments = sorted(in_gb)
        statuses = {a: status.read(course.status_file(a)) for a in assignments}
        students = {s.id for s in gb.students}
        for a in assignments:
            students.update(statuses[a])
            if submitted.is_dir():
                students.update(p.parent.name for p in submitted.glob(f"*/{a}") if p.is_dir())
        students.update(extra_students)
        students = sorted(s for s in students if not ignore(s))
        max_scores = {a: dec(in_gb[a].max_score) if a in in_gb else Decimal(0) for a in assignments}
        results: dict[tuple[str, str], Result] = {}
        for a in assignments:
            subs = {}
            if a in in_gb:
                for sub in gb.assignment_submissions(a):
                    subs[sub.student.id] = sub
            for s in students:
                results[(s, a)] = _result(s, a, subs.get(s), statuses[a].get(s), max_scores[a],
                                          submitted / s / a)
    return GradebookData(students=students, assignments=list(assignments), max_scores=max_scores,
                         results=results, problems=problems)


def _result(student, assignment, sub, entry, max_score, folder: Path) -> Result:
    r = Result(student=student, assignment=assignment, status=MISSING, max_score=max_score)
    if sub is not None:
        cells = []
        for nb in sub.notebooks:
            for g in nb.grades:
                cells.append(CellResult(
                    notebook=nb.name, name=g.name, cell_type=g.cell_type,
                    score=dec(g.score), max_score=dec(g.max_score), needs_manual_grade=bool(g.needs_manual_grade),
                    auto_score=None if g.auto_score is None else dec(g.auto_score),
                    manual_score=None if g.manual_score is None else dec(g.manual_score)))
        r.cells = cells
        raw = sum((c.score for c in cells), Decimal(0))
        r.penalty = dec(sub.late_submission_penalty)
        r.score = max(Decimal(0), raw - r.penalty)
        r.max_score = dec(sub.max_score)
        r.status = PENDING if any(c.needs_manual_grade for c in cells) else GRADED
    elif folder.is_dir():
        r.status = NOT_AUTOGRADED
        r.reason = f"{folder} exists but the gradebook has no submission; run `nbgrader autograde {assignment}`"
    if entry and entry["status"] == FAILED:
        r.status = FAILED
        r.reason = str(entry.get("reason") or "no reason recorded")
    return r
