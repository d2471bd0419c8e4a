"""The Moodle round trip on Moodle's own file formats: submissions in, feedback and grades out.

One module, one job:

* :mod:`.submissions` – read the assignment's *Download all submissions* zip;
* :mod:`.worksheet` – read and fill the *grading worksheet* CSV (``assignfeedback_offline``);
* :mod:`.participants` – who is who: a participant to the kit's student id, and the kit's records
  of it (``grading/moodle/roster.csv``, ``grading/moodle/<slug>/participants.csv``);
* :mod:`.collect` – place each notebook where nbgrader expects it, listing every odd submission;
* :mod:`.feedback` – the *Upload multiple feedback files in a zip* archive and the filled worksheet.

The final-grade CSV for *Import grades from CSV* is :mod:`crmkit.engine.grades.moodle`.

Every format is read in Moodle's source (each module names the files); nothing here was run
against a live Moodle, which this project cannot run. Where a format depends on the Moodle user's
language (column names, dates), the English strings are the default and ``[moodle]`` in the
grading policy can name others.
"""

from __future__ import annotations

from pathlib import Path

from crmkit.engine.coursedir import CourseDir
from crmkit.runtime.errors import KitError


class MoodleError(KitError):
    """A Moodle file the kit cannot use; the message names the file and what to do."""


def folder(course: CourseDir, slug: str | None = None) -> Path:
    """The kit's Moodle records: ``grading/moodle/`` or, for one assignment, ``grading/moodle/<slug>/``."""
    base = course.workspace / "moodle"
    return base / slug if slug else base


def settings(course: CourseDir, policy_path=None):
    """The ``[moodle]`` settings of the grading policy (Moodle's defaults when there is no policy file)."""
    from crmkit.engine.grades import policy

    path = policy.resolve(course, policy_path)
    if not path.exists() and policy_path is None:
        return policy.MoodleSettings()
    return policy.load(course, policy_path, check_assignments=False).moodle
