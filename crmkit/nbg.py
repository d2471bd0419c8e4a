"""Drive nbgrader from Python for the quality gates and the demo.

nbgrader runs as a subprocess (``python -m nbgrader ...``) in the course directory, exactly as a
teacher runs it from the repository root: the course's ``nbgrader_config.py`` is found and read
the usual way, and a temporary copy of the course (the quality gates grade there) behaves the same
as the real one. Scores are read from the gradebook with nbgrader's own ``Gradebook`` class.
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

from crmkit.paths import ROOT

CONFIG_FILE = "nbgrader_config.py"


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds its output."""


def assignments(course_dir: str | os.PathLike = ROOT) -> list[str]:
    """The assignment slugs: every ``solutions/<slug>/<slug>.ipynb``, sorted."""
    src = Path(course_dir) / "solutions"
    return sorted(p.parent.name for p in src.glob("*/*.ipynb") if p.stem == p.parent.name)


def load_config(course_dir: str | os.PathLike = ROOT):
    """The traitlets Config that nbgrader reads from the course's ``nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()


def _step_dir(course_dir, step: str) -> Path:
    cfg = load_config(course_dir)
    value = cfg.CourseDirectory.get(f"{step}_directory")
    if not value:
        raise KeyError(f"{CONFIG_FILE} sets no CourseDirectory.{step}_directory")
    return Path(course_dir) / value


def source_notebook(slug: str, course_dir=ROOT) -> Path:
    """``solutions/<slug>/<slug>.ipynb`` (nbgrader's source)."""
    return _step_dir(course_dir, "source") / slug / f"{slug}.ipynb"


def release_notebook(slug: str, course_dir=ROOT) -> Path:
    """``notebooks/<slug>/<slug>.ipynb`` (nbgrader's release)."""
    return _step_dir(course_dir, "release") / slug / f"{slug}.ipynb"


def submitted_notebook(slug: str, student: str, course_dir=ROOT) -> Path:
    """``grading/submitted/<student>/<slug>/<slug>.ipynb``."""
    return _step_dir(course_dir, "submitted") / student / slug / f"{slug}.ipynb"


def autograded_notebook(slug: str, student: str, course_dir=ROOT) -> Path:
    """``grading/autograded/<student>/<slug>/<slug>.ipynb``."""
    return _step_dir(course_dir, "autograded") / student / slug / f"{slug}.ipynb"


def run(args: list[str], course_dir=ROOT, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course directory; raise :class:`NbgraderError` on failure.

    nbgrader's own exit status is not enough: ``autograde`` exits 0 even when a notebook could not
    be graded, so its log is checked for ``[ERROR]`` lines as well.
    """
    from crmkit.env import isolate_jupyter_state

    isolate_jupyter_state()  # keep the state in .jupyter/ unless the caller pointed it elsewhere
    # nbgrader runs the `alembic` script of its own environment by name (gradebook creation), so
    # that environment's bin/ must come first on PATH even when the venv is not activated.
    bindir = os.path.dirname(sys.executable)
    path = bindir + os.pathsep + os.environ.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=str(course_dir), env={**os.environ, "PATH": path, **(env or {})},
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    output = proc.stdout + proc.stderr
    if check and (proc.returncode != 0 or "[ERROR]" in output):
        raise NbgraderError(f"`nbgrader {' '.join(args)}` failed in {course_dir} "
                            f"(exit {proc.returncode}):\n{output}")
    return proc


def generate(slug: str, course_dir=ROOT) -> Path:
    """``nbgrader generate_assignment <slug> --force``: write the release, record it in the gradebook.

    nbgrader 0.9 creates the assignment in the gradebook on generate (``create_assignment`` is on
    by default) and records its notebooks and grade cells, which autograde needs.
    """
    run(["generate_assignment", slug, "--force"], course_dir)
    return release_notebook(slug, course_dir)


def generate_many(slugs: list[str], course_dir=ROOT, progress=None) -> list[Path]:
    """``generate_assignment --force`` for several assignments in one nbgrader start (nbgrader's
    own ``NbGraderAPI`` in this process; one subprocess per assignment costs ~2 s of imports each).
    Raises :class:`NbgraderError` naming the assignment whose generation failed."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from crmkit.env import isolate_jupyter_state

    isolate_jupyter_state()
    cfg = load_config(course_dir)
    cfg.CourseDirectory.root = str(Path(course_dir).resolve())
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + path  # nbgrader runs `alembic` by name
    try:
        api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
        out = []
        for slug in slugs:
            result = api.generate_assignment(slug, force=True)
            log = result.get("log", "")
            if not result.get("success") or "[ERROR]" in log:
                raise NbgraderError(f"generate_assignment {slug} failed in {course_dir}:\n{log}\n{result.get('error', '')}")
            out.append(release_notebook(slug, course_dir))
            if progress is not None:
                progress(slug)
        return out
    finally:
        os.environ["PATH"] = path


def submit(slug: str, student: str, notebook: str | os.PathLike, course_dir=ROOT, force: bool = False) -> Path:
    """Put ``notebook`` in as ``student``'s submission of ``slug`` (as ``nbgrader collect`` would).

    Refuses to overwrite an existing submission unless ``force``.
    """
    dest = submitted_notebook(slug, student, course_dir)
    if dest.exists() and not force:
        raise FileExistsError(f"{dest} exists; choose another student id or pass force=True")
    if dest.parent.exists():
        shutil.rmtree(dest.parent)
    dest.parent.mkdir(parents=True)
    shutil.copyfile(notebook, dest)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    (dest.parent / "timestamp.txt").write_text(stamp + "\n", encoding="utf-8")
    return dest


def autograde(slug: str, student: str | None = None, course_dir=ROOT) -> None:
    """``nbgrader autograde <slug> [--student <student>] --force`` (all submissions if no student)."""
    args = ["autograde", slug, "--force"]
    if student:
        args += ["--student", student]
    run(args, course_dir)


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


def scores(slug: str, student: str, course_dir=ROOT) -> Score:
    """Read one submission's scores from the gradebook."""
    from nbgrader.api import Gradebook

    db_url = load_config(course_dir).CourseDirectory.db_url
    with Gradebook(db_url) as gb:
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
