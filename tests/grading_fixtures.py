"""Synthetic courses and gradebooks for the grading tests, built with nbgrader's own Gradebook API.

``make_course`` writes a course directory in a temporary folder: the kit's nbgrader_config.py,
tiny solutions/ notebooks made with crmkit.course.authoring (so cells carry real crmkit outcome tags) and
a gradebook with the same assignments, notebooks and grade cells that ``nbgrader
generate_assignment`` would record. ``grade`` then enters one student's submission the way
autograde and formgrader leave it: test cells get an ``auto_score``, hand-graded cells a
``manual_score``; a score of ``None`` leaves the cell waiting for manual grading.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from repo import ROOT

from crmkit.course import authoring as a


@dataclass
class Cell:
    grade_id: str
    points: float
    kind: str = "code"  # "code": an autograded test cell; "markdown": a hand-graded answer
    outcomes: tuple[str, ...] = ("A1",)
    level: str = "1-2"


def _notebook_cells(slug: str, cells: list[Cell]) -> list:
    total = sum(c.points for c in cells)
    out = [a.markdown(f"# {slug}\n\n{a.TOTAL_PHRASE} {total:g}")]
    for c in cells:
        if c.kind == "code":
            out.append(a.answer(f"{c.grade_id}_vastaus", f"x_{c.grade_id} = 1", outcomes=list(c.outcomes),
                                level=c.level))
            out.append(a.tests(c.grade_id, f"assert x_{c.grade_id} == 1, 'väärin'\n### BEGIN HIDDEN TESTS\n"
                               f"assert x_{c.grade_id} + 0 == 1\n### END HIDDEN TESTS",
                               points=c.points, outcomes=list(c.outcomes), level=c.level))
        else:
            out.append(a.manual(c.grade_id, f"**Tehtävä** ({c.points:g} p) Perustele {c.grade_id}.",
                                f"Mallivastaus {c.grade_id}: asiakasymmärrys syntyy datasta.",
                                points=c.points, outcomes=list(c.outcomes), level=c.level))
    return out


def db_url(root: Path) -> str:
    return "sqlite:///" + str(root / "grading" / "gradebook.db")


@contextlib.contextmanager
def _venv_on_path():
    """nbgrader runs its environment's `alembic` by name when it creates a gradebook."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


@functools.lru_cache(maxsize=1)
def _empty_gradebook() -> bytes:
    """An empty gradebook, made once per session (nbgrader asks alembic, a 2-3 s subprocess)."""
    from nbgrader.api import Gradebook

    folder = Path(tempfile.mkdtemp(prefix="crmkit-test-gradebook-"))
    try:
        with _venv_on_path(), Gradebook("sqlite:///" + str(folder / "gradebook.db"), course_id="cus4lh102"):
            pass
        return (folder / "gradebook.db").read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_course(tmp: Path, assignments: dict[str, list[Cell]], solutions: bool = True,
                course_id: str = "cus4lh102") -> Path:
    """A course folder with ``assignments`` in solutions/ (if ``solutions``) and in the gradebook."""
    (tmp / "course" / "grading").mkdir(parents=True, exist_ok=True)
    (tmp / "course" / "grading" / "gradebook.db").write_bytes(_empty_gradebook())
    return _make_course(tmp, assignments, solutions, course_id)


def _make_course(tmp, assignments, solutions, course_id) -> Path:
    from nbgrader.api import Gradebook

    root = tmp / "course"
    (root / "grading").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "solutions").mkdir(exist_ok=True)
    with Gradebook(db_url(root), course_id=course_id) as gb:
        for slug, cells in assignments.items():
            if solutions:
                a.write(_notebook_cells(slug, cells), root / "solutions" / slug / f"{slug}.ipynb")
            gb.add_assignment(slug)
            gb.add_notebook(slug, slug)
            for c in cells:
                gb.add_grade_cell(c.grade_id, slug, slug, max_score=c.points, cell_type=c.kind)
    return root


_OPEN: dict[str, object] = {}


@contextlib.contextmanager
def session(root: Path, course_id: str = "cus4lh102"):
    """Keep one Gradebook open for many :func:`grade` calls (much faster on a busy machine)."""
    from nbgrader.api import Gradebook

    key = db_url(root)
    with Gradebook(key, course_id=course_id) as gb:
        _OPEN[key] = gb
        try:
            yield gb
        finally:
            _OPEN.pop(key, None)


def grade(root: Path, student: str, assignment: str, scores: dict[str, float | None],
          penalty: float = 0.0, course_id: str = "cus4lh102") -> None:
    """Enter ``student``'s graded submission of ``assignment``: grade_id -> score (None: pending)."""
    gb = _OPEN.get(db_url(root))
    if gb is None:
        with session(root, course_id) as gb:
            _grade(gb, student, assignment, scores, penalty)
    else:
        _grade(gb, student, assignment, scores, penalty)


def _grade(gb, student, assignment, scores, penalty) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from inside nbgrader's add_submission
        gb.update_or_create_student(student)
        sub = gb.add_submission(assignment, student)
        for nb in sub.notebooks:
            nb.late_submission_penalty = penalty
            for g in nb.grades:
                score = scores.get(g.name)
                if score is None:
                    continue  # needs_manual_grade stays True: waits in formgrader
                if g.cell_type == "code":
                    g.auto_score = score
                else:
                    g.manual_score = score
                g.needs_manual_grade = False
        gb.db.commit()


def add_student(root: Path, student: str, course_id: str = "cus4lh102") -> None:
    from nbgrader.api import Gradebook

    with Gradebook(db_url(root), course_id=course_id) as gb:
        gb.update_or_create_student(student)


def record_failure(root: Path, assignment: str, student: str, reason: str) -> None:
    """What the autograde helper writes when a submission cannot be graded."""
    path = root / "grading" / "status" / f"{assignment}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data[student] = {"status": "failed", "reason": reason, "time": "2026-03-01T12:00:00+00:00"}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


#: one 100-point test cell: a score in points is a percentage
def single(grade_id: str, kind: str = "code", outcomes=("A1",), level="1-2") -> list[Cell]:
    return [Cell(grade_id, 100, kind, tuple(outcomes), level)]
