"""Read an attendance CSV for a policy's absence rules.

Format (UTF-8, with or without BOM; comma or semicolon separated; a decimal comma is accepted)::

    student_id,attended,sessions          # sessions attended and sessions held
    s001,10,12
    s002,5,12

or, when absence is already a percentage::

    student_id,absence_percent
    s001,16.7

Absence % = (sessions − attended) / sessions × 100, exact. The rules compare it strictly
("over 25 %" means > 25: exactly 25 % absence is not over). A row that cannot be read is reported
with its line number and that student's grade is withheld, never guessed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from crmkit.runtime.errors import KitError


class AttendanceError(KitError, ValueError):
    """The attendance file cannot be used at all (missing, no student_id column, ...)."""


@dataclass
class Attendance:
    path: Path
    absence: dict[str, Decimal]  # student -> absence %
    problems: dict[str, str] = field(default_factory=dict)  # student -> what is wrong with their row
    file_problems: list[str] = field(default_factory=list)  # rows without a student id


def _number(text: str) -> Decimal:
    text = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".").rstrip("%")
    if not text:
        raise InvalidOperation("empty")
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation(text)
    return value


def read(path: str | Path) -> Attendance:
    path = Path(path)
    if not path.exists():
        raise AttendanceError(f"attendance file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise AttendanceError(f"attendance file {path} is not UTF-8 text: {e}") from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    cols = [c.strip() for c in (reader.fieldnames or [])]
    reader.fieldnames = cols
    if "student_id" not in cols:
        raise AttendanceError(f"attendance file {path}: no student_id column (columns: {', '.join(cols) or 'none'})")
    by_percent = "absence_percent" in cols
    if not by_percent and not {"attended", "sessions"} <= set(cols):
        raise AttendanceError(f"attendance file {path}: needs the columns attended and sessions, or "
                              f"absence_percent (columns: {', '.join(cols)})")
    out = Attendance(path=path, absence={})
    for line, row in enumerate(reader, start=2):
        student = (row.get("student_id") or "").strip()
        if not student:
            out.file_problems.append(f"{path}, line {line}: no student_id")
            continue
        if student in out.absence or student in out.problems:
            out.problems[student] = f"{path}, line {line}: student {student} is listed twice"
            out.absence.pop(student, None)
            continue
        try:
            if by_percent:
                value = _number(row.get("absence_percent"))
                if not Decimal(0) <= value <= Decimal(100):
                    raise ValueError(f"absence_percent {value} is not 0-100")
            else:
                attended, sessions = _number(row.get("attended")), _number(row.get("sessions"))
                if sessions <= 0 or attended < 0 or attended > sessions:
                    raise ValueError(f"attended {attended} of {sessions} sessions is impossible")
                value = (sessions - attended) / sessions * 100
        except (InvalidOperation, ValueError) as e:
            shown = {k: row.get(k) for k in cols if k != "student_id"}
            out.problems[student] = f"{path}, line {line}: cannot read {shown} ({e})"
            continue
        out.absence[student] = value
    return out
