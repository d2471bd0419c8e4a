"""The Moodle grade-import CSV: one identifier column, then one column per grade item.

Columns: the identifier (``[moodle] id_column``: ``ID number`` or ``Email address`` after
``[moodle] identify_by``), then each category's percentage (``<title> (%)``), then the final grade
(``[moodle] grade_column``, default ``Arvosana``) with the fail grade written as ``[moodle]
fail_value``. UTF-8, comma-separated, numbers with a decimal point and no thousands separator.

How Moodle's *Import grades from CSV* really behaves (``grade/import/csv/classes/load_data.php``,
``grade/import/lib.php``, ``lib/grade/grade_item.php``), and what this file does about it:

* **An unknown user aborts the whole import.** A row whose identifier matches no Moodle user
  (``check_user_exists`` → ``usermappingerror``), and a row with an empty identifier
  (``usermappingerrorusernotfound``), stop the import and nothing is imported. So every student's
  identifier is looked up before writing – in ``[moodle] id_map`` if set, else in the roster the
  grading worksheets filled (``grading/moodle/roster.csv``, see :mod:`crmkit.engine.moodle.participants`),
  else (``identify_by = "id_number"`` only) the student id itself – and when a roster exists, an
  identifier it does not hold is not written. Every student left out is listed with the reason.
* **An empty cell is "no grade" – and erases a grade already in Moodle.** ``update_grade_item``
  turns ``""`` and ``"-"`` into null, and ``grade_import_commit`` passes it to
  ``grade_item::update_final_grade``, which only leaves a grade alone for ``false``. So a student
  without a final grade (not given, or provisional with ``--allow-pending``) is left out of the file
  and listed, instead of a row that would wipe their grade in Moodle.
* **Decimals.** Numbers are read with ``unformat_float($value, true)``; a number it cannot read
  aborts the import (``badgrade``). The kit writes ``73.50``: a decimal point, no spaces.
* **The H–5 scale.** On a numeric grade item 0–5 (the default) H is ``fail_value = "0"``. On a
  Moodle scale (e.g. a site or course scale ``H,1,2,3,4,5``) set ``fail_value = "H"``: the import
  matches a scale item by its exact name (``array_search`` over the trimmed items, with *Verbose
  scales* on) and aborts on any other value.

Importing in Moodle: *Grades → Import → CSV file*, choose the file, encoding UTF-8, separator
comma; under *Identify user* map the identifier column to the user field ("ID number" or "Email
address"); under *Grade item mappings* map each column to its grade item (or "new grade item");
*Upload grades*.
"""

from __future__ import annotations

from pathlib import Path

from crmkit.engine.grades import output
from crmkit.engine.grades.final import StudentGrade, round_percent
from crmkit.engine.grades.policy import IDENTIFY_BY, Policy
from crmkit.engine.moodle.participants import read_id_map, read_roster_file

#: the roster the grading worksheets fill, relative to the course directory (crmkit.engine.moodle.participants)
ROSTER = Path("grading") / "moodle" / "roster.csv"


def identifiers(policy: Policy) -> tuple[dict[str, str], set[str] | None, str]:
    """(student id -> identifier from id_map or the roster, the identifiers Moodle is known to have
    or None when no roster holds them, where they came from)."""
    m = policy.moodle
    roster = read_roster_file(Path(policy.root) / ROSTER)
    column = m.identify_by  # "email" or "id_number": the roster's column of the identifying field
    known = {r[column] for r in roster.values() if r.get(column)} or None
    if m.id_map:
        return read_id_map(m.id_map), known, str(m.id_map)
    return {s: r[column] for s, r in roster.items() if r.get(column)}, known, str(ROSTER)


def table(policy: Policy, grades: list[StudentGrade]) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows, and the students left out, each as ``"<student>: <why>"`` (see the module)."""
    m = policy.moodle
    ids, known, source = identifiers(policy)
    field_name = IDENTIFY_BY[m.identify_by]
    header = [m.id_column] + [f"{c.title} (%)" for c in policy.categories] + [m.grade_column]
    rows, left_out = [], []
    for g in grades:
        ident = ids.get(g.student)
        if ident is None and not m.id_map and m.identify_by == "id_number":
            ident = g.student  # the student id is the ID number
        if not ident:
            left_out.append(f"{g.student}: no {field_name} known (not in {source}) – Moodle would stop the whole import")
            continue
        if known is not None and ident not in known:
            left_out.append(f"{g.student}: {field_name} {ident} is in no grading worksheet collected "
                            f"({ROSTER}) – an unknown user stops Moodle's whole import")
            continue
        grade = "" if g.provisional else g.grade  # a provisional grade never goes to Moodle
        if not grade:
            why = "provisional grade" if g.provisional else "no final grade (" + "; ".join(g.notes) + ")"
            left_out.append(f"{g.student}: {why} – an empty grade would erase the grade in Moodle")
            continue
        row = [ident]
        for c in policy.categories:
            v = g.categories.get(c.name)
            row.append("-" if v is None else f"{round_percent(v, policy.decimals):f}")
        row.append(m.fail_value if grade == policy.fail_grade else grade)
        rows.append(row)
    return header, rows, left_out


def write(path, policy: Policy, grades: list[StudentGrade]) -> tuple[str, list[str]]:
    """Write Moodle's grade-import CSV; returns (what output.write said, the students left out and why)."""

    header, rows, left_out = table(policy, grades)
    return output.write(Path(path), output.csv_text(header, rows)), left_out
