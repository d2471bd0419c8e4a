"""The Moodle grade-import CSV: one identifier column, then one column per grade item.

Columns: the identifier (``[moodle] id_column``, default ``ID number``), then each category's
percentage (``<title> (%)``), then the final grade (``[moodle] grade_column``, default
``Arvosana``) with the fail grade written as ``[moodle] fail_value`` (default ``0``, for a 0–5
grade item). UTF-8, comma-separated, a decimal point. A student without a grade (not given, see
the final-grades notes) or with a provisional grade (``--allow-pending``) gets an empty grade
cell, which Moodle's import leaves alone.

The identifier is the nbgrader student id unless ``[moodle] id_map`` names a CSV with the columns
``student_id`` and ``identifier`` (e.g. the Moodle ID number or e-mail address of each student).

Importing in Moodle: *Grades → Import → CSV file*, choose the file, encoding UTF-8, separator
comma; under *Identify user* map the column ``ID number`` to the user field "ID number" (or the
column you configured to "Email address"); under *Grade item mappings* map each column to its
grade item (or "new grade item"); *Upload grades*.
"""

from __future__ import annotations

import csv
from pathlib import Path

from crmkit.engine.grades import output
from crmkit.engine.grades.final import StudentGrade, round_percent
from crmkit.engine.grades.policy import Policy
from crmkit.runtime.errors import KitError


class MoodleError(KitError, ValueError):
    pass


def read_id_map(path: Path) -> dict[str, str]:
    if not path.exists():
        raise MoodleError(f"Moodle id map {path} does not exist (columns: student_id,identifier)")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        if "student_id" not in cols or "identifier" not in cols:
            raise MoodleError(f"Moodle id map {path}: needs the columns student_id and identifier "
                              f"(has: {', '.join(cols) or 'none'})")
        out = {}
        for line, row in enumerate(reader, start=2):
            sid, ident = (row["student_id"] or "").strip(), (row["identifier"] or "").strip()
            if not sid or not ident:
                raise MoodleError(f"Moodle id map {path}, line {line}: empty student_id or identifier")
            if sid in out and out[sid] != ident:
                raise MoodleError(f"Moodle id map {path}, line {line}: {sid} is mapped twice")
            out[sid] = ident
    return out


def table(policy: Policy, grades: list[StudentGrade]) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and the students that could not be written (not in the id map)."""
    m = policy.moodle
    ids = read_id_map(m.id_map) if m.id_map else None
    header = [m.id_column] + [f"{c.title} (%)" for c in policy.categories] + [m.grade_column]
    rows, unmapped = [], []
    for g in grades:
        ident = g.student if ids is None else ids.get(g.student)
        if ident is None:
            unmapped.append(g.student)
            continue
        row = [ident]
        for c in policy.categories:
            v = g.categories.get(c.name)
            row.append("" if v is None else f"{round_percent(v, policy.decimals):f}")
        grade = "" if g.provisional else g.grade  # a provisional grade never goes to Moodle
        if grade == policy.fail_grade:
            grade = m.fail_value
        row.append(grade)
        rows.append(row)
    return header, rows, unmapped


def write(path, policy: Policy, grades: list[StudentGrade]) -> tuple[str, list[str]]:
    """Write Moodle's grade-import CSV; returns (what output.write said, the students left out)."""

    header, rows, unmapped = table(policy, grades)
    return output.write(Path(path), output.csv_text(header, rows)), unmapped
