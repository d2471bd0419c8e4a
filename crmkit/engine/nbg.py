"""Drive nbgrader's steps from Python: generate, submit, autograde, read scores.

nbgrader runs as a subprocess (``python -m nbgrader ...``) in the course directory, exactly as a
teacher runs it there: the course's ``nbgrader_config.py`` is found and read the usual way, and a
temporary copy of the course (the quality gates grade there) behaves the same as the real one.
Releases of many assignments use nbgrader's own API in this process. Scores are read from the
gradebook with nbgrader's own ``Gradebook`` class.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from crmkit.engine.coursedir import CourseDir
from crmkit.engine.jupyter_env import isolate_jupyter_state
from crmkit.runtime.errors import KitError


class NbgraderError(KitError):
    """An nbgrader command failed; the message holds its output."""


def _alembic_on_path() -> str:
    """PATH with this environment's bin/ first: nbgrader runs its `alembic` script by name (gradebook
    creation), so that environment must come first even when the venv is not activated."""
    return os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def run(course: CourseDir, args: list[str], check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course directory; raise :class:`NbgraderError` on failure.

    nbgrader's own exit status is not enough: ``autograde`` exits 0 even when a notebook could not
    be graded, so its log is checked for ``[ERROR]`` lines as well.
    """

    isolate_jupyter_state(course.root / ".jupyter")  # unless the caller pointed it elsewhere
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=str(course.root), env={**os.environ, "PATH": _alembic_on_path(), **(env or {})},
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    output = proc.stdout + proc.stderr
    if check and (proc.returncode != 0 or "[ERROR]" in output):
        raise NbgraderError(f"`nbgrader {' '.join(args)}` failed in {course.root} "
                            f"(exit {proc.returncode}):\n{output}")
    return proc


def generate(course: CourseDir, slug: str) -> Path:
    """``nbgrader generate_assignment <slug> --force``: write the release, record it in the gradebook.

    nbgrader 0.9 creates the assignment in the gradebook on generate (``create_assignment`` is on
    by default) and records its notebooks and grade cells, which autograde needs.
    """
    run(course, ["generate_assignment", slug, "--force"])
    return course.release_notebook(slug)


def generate_many(course: CourseDir, slugs: list[str], progress=None) -> list[Path]:
    """``generate_assignment --force`` for several assignments in one nbgrader start (nbgrader's
    own ``NbGraderAPI`` in this process; one subprocess per assignment costs ~2 s of imports each).
    Raises :class:`NbgraderError` naming the assignment whose generation failed."""
    from nbgrader.apps import NbGraderAPI


    isolate_jupyter_state(course.root / ".jupyter")
    cfg = course.nbgrader_config()
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = _alembic_on_path()
    try:
        from nbgrader.coursedir import CourseDirectory

        api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
        out = []
        for slug in slugs:
            result = api.generate_assignment(slug, force=True)
            log = result.get("log", "")
            if not result.get("success") or "[ERROR]" in log:
                raise NbgraderError(f"generate_assignment {slug} failed in {course.root}:\n{log}\n{result.get('error', '')}")
            out.append(course.release_notebook(slug))
            if progress is not None:
                progress(slug)
        return out
    finally:
        os.environ["PATH"] = path


def write_timestamp(folder: Path, when: datetime | None = None) -> Path:
    """nbgrader's ``timestamp.txt`` in a submission folder (the submission time; late penalties read it)."""
    when = when or datetime.now(timezone.utc)
    path = Path(folder) / "timestamp.txt"
    path.write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f %Z") + "\n", encoding="utf-8")
    return path


def submit(course: CourseDir, slug: str, student: str, notebook: str | os.PathLike, force: bool = False) -> Path:
    """Put ``notebook`` in as ``student``'s submission of ``slug`` (as ``nbgrader collect`` would).

    Refuses to overwrite an existing submission unless ``force``.
    """
    dest = course.submitted_notebook(slug, student)
    if dest.exists() and not force:
        raise NbgraderError(f"{dest} exists; choose another student id or pass force=True")
    if dest.parent.exists():
        shutil.rmtree(dest.parent)
    dest.parent.mkdir(parents=True)
    shutil.copyfile(notebook, dest)
    write_timestamp(dest.parent)
    return dest


def autograde(course: CourseDir, slug: str, student: str | None = None) -> None:
    """``nbgrader autograde <slug> [--student <student>] --force`` (all submissions if no student)."""
    args = ["autograde", slug, "--force"]
    if student:
        args += ["--student", student]
    run(course, args)


@dataclass
class CellScore:
    """One graded cell of a submission, as the gradebook holds it."""

    name: str
    kind: str  # "autograded" (a test cell) or "manual" (a hand-graded answer)
    score: float | None
    max_score: float
    needs_manual_grade: bool


@dataclass
class Score:
    """A submission's scores: autograded part, total, and per cell."""

    slug: str
    student: str
    score: float
    max_score: float
    code_score: float
    max_code_score: float
    cells: list[CellScore] = field(default_factory=list)

    @property
    def autograded(self) -> list[CellScore]:
        return [c for c in self.cells if c.kind == "autograded"]


def scores(course: CourseDir, slug: str, student: str) -> Score:
    """Read one submission's scores from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course_id=course.course_id) as gb:
        sub = gb.find_submission(slug, student)
        cells = []
        for nb in sub.notebooks:
            solution_cells = {c.name for c in nb.notebook.solution_cells}
            for grade in nb.grades:
                test_cell = grade.cell.cell_type == "code" and grade.name not in solution_cells
                kind = "autograded" if test_cell else "manual"
                score = grade.manual_score if grade.manual_score is not None else grade.auto_score
                cells.append(CellScore(grade.name, kind, score, grade.max_score, grade.needs_manual_grade))
        return Score(slug, student, sub.score, sub.max_score, sub.code_score, sub.max_code_score, cells)


def leave_to_teacher(course: CourseDir, slug: str, student: str, grade_ids: list[str]) -> None:
    """Score autograded cells ``grade_ids`` 0 and mark them for hand grading in Formgrader: their
    check could not be computed from the data, so the teacher gives the points (never for free)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course_id=course.course_id) as gb:
        for nb in gb.find_submission(slug, student).notebooks:
            for grade in nb.grades:
                if grade.name in grade_ids:
                    grade.auto_score, grade.needs_manual_grade = 0.0, True
        gb.db.commit()


class StripWrongAnswers(NbGraderPreprocessor):
    """Remove the teacher-only ``crmkit.wrong`` metadata (named wrong answers) from a release.

    The wrong answers and their expected messages would tell a student what the tests look for;
    ``nbgrader_config.py`` appends this to nbgrader's ``GenerateAssignment.preprocessors``.
    """

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("crmkit")
        if isinstance(meta, dict) and "wrong" in meta:
            del meta["wrong"]
        return cell, resources


def generate_preprocessors() -> list:
    """nbgrader's own GenerateAssignment preprocessors, then :class:`StripWrongAnswers`."""
    from nbgrader.converters import GenerateAssignment

    return list(GenerateAssignment.class_traits()["preprocessors"].default()) + [StripWrongAnswers]
