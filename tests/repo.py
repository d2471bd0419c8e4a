"""Where this repository's course is, for the tests (the package never assumes it)."""

from __future__ import annotations

from pathlib import Path

#: the repository root: the course directory the tests check (nbgrader_config.py, solutions/, data/)
ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


def course():
    """The repository's course, loaded (a fresh CourseDir each call)."""
    from crmkit.engine.coursedir import CourseDir

    return CourseDir.load(ROOT)


def course_at(root):
    """The course at ``root``; a bare folder without nbgrader_config.py gets nbgrader's defaults."""
    from traitlets.config import Config

    from crmkit.engine.coursedir import CourseDir

    root = Path(root)
    return CourseDir.load(root) if (root / "nbgrader_config.py").exists() else CourseDir(root.resolve(), Config())
