"""Moodle's grading worksheet: read it, and fill in grades and feedback comments for upload.

The worksheet is what *Download grading worksheet* gives (``assignfeedback_offline``,
``mod/assign/feedback/offline/locallib.php`` ``download_grades()``): the grading table
(``mod/assign/gradingtable.php``, ``assign_grading_table``) written as CSV. Its columns, in order,
with their English names from the language files (``mod/assign/lang/en/assign.php``,
``lang/en/moodle.php``, ``mod/assign/feedback/comments/lang/en/assignfeedback_comments.php``):

``Identifier`` (``recordid``: ``"Participant "`` + the participant id), ``Full name``, the user
identity fields the site shows (``showuseridentity``; by default ``Email address``, often also
``ID number``), ``Status``, [``Group``], [``Marker``], ``Grade``, ``Maximum Grade`` (``Scale`` on a
scale), [``Marking workflow state``], ``Grade can be changed``, ``Last modified (submission)``, one
column per submission plugin with text (``Online text``), ``Last modified (grade)``, one column per
feedback plugin with text (``Feedback comments``), [``Outcomes``].

Dates are ``userdate()``: the language's ``strftimedaydatetime`` (English
``%A, %d %B %Y, %I:%M %p`` with the leading zeros of day and hour removed: ``Monday, 2 March 2026,
2:15 PM``) in the downloading user's time zone (``[moodle] timezone``); ``-`` when there is none.

*Upload grading worksheet* (``importgradeslib.php``, ``locallib.php`` ``process_import_grades()``)
finds the columns by these names in the uploading user's language, takes the participant id from
the end of ``Identifier``, reads ``Grade`` with ``unformat_float`` (or as a scale item), skips a
row whose grade is unchanged, empty or out of range, and skips a row whose grade was changed in
Moodle after ``Last modified (grade)`` unless the upload form allows it. So the filled worksheet
keeps every column and row as downloaded and changes only ``Grade`` and ``Feedback comments``.

A Moodle in another language names the columns in that language: ``[moodle] worksheet_headers``
gives the names (the Finnish language pack was not available to verify them here).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from crmkit.engine.moodle import MoodleError

#: the worksheet's columns in English, as Moodle's language strings name them
ENGLISH_HEADERS = {
    "identifier": "Identifier",  # mod_assign recordid
    "full_name": "Full name",  # core fullname
    "email": "Email address",  # core email
    "id_number": "ID number",  # core idnumber
    "status": "Status",  # mod_assign status
    "grade": "Grade",  # core grade
    "maximum_grade": "Maximum Grade",  # mod_assign maxgrade (its last definition)
    "scale": "Scale",  # mod_assign scale
    "last_modified_submission": "Last modified (submission)",  # mod_assign lastmodifiedsubmission
    "last_modified_grade": "Last modified (grade)",  # mod_assign lastmodifiedgrade
    "feedback_comments": "Feedback comments",  # assignfeedback_comments pluginname
}
_ID = re.compile(r"(\d+)\s*$")
BOM = "\ufeff"


@dataclass
class Worksheet:
    """A read grading worksheet: its rows as they were, and where each known column is."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    columns: dict[str, int]  # key of ENGLISH_HEADERS -> column index (only those present)
    delimiter: str = ","
    bom: bool = False
    newline: str = "\n"
    by_participant: dict[int, int] = field(default_factory=dict)  # participant id -> row index

    def value(self, row: list[str], key: str) -> str:
        """The row's value in the column ``key`` ("" when the worksheet has no such column)."""
        i = self.columns.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    def row(self, participant_id: int) -> list[str] | None:
        """The row of one participant, or None."""
        i = self.by_participant.get(participant_id)
        return None if i is None else self.rows[i]


def headers(overrides=()) -> dict[str, str]:
    """Moodle's English column names, with ``[moodle] worksheet_headers`` in their place where given."""
    return {**ENGLISH_HEADERS, **dict(overrides)}


def participant_id(identifier: str) -> int | None:
    """The participant id at the end of ``Identifier`` (``"Participant 1234567"`` -> 1234567)."""
    m = _ID.search(identifier or "")
    return int(m.group(1)) if m else None


def read(path: str | Path, names: dict[str, str] | None = None) -> Worksheet:
    """Read a grading worksheet; raises :class:`MoodleError` naming the file, the line and what to do."""
    path = Path(path)
    names = names or ENGLISH_HEADERS
    if not path.is_file():
        raise MoodleError(f"{path}: no such file (download it in Moodle: the assignment → View all "
                          "submissions → Grading action → Download grading worksheet)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MoodleError(f"{path}: not UTF-8 text (byte {e.start}); Moodle writes the worksheet in UTF-8 – "
                          "use the file as downloaded (a spreadsheet program may have saved it in another "
                          "encoding)") from None
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    newline = "\r\n" if "\r\n" in text[:4096] else "\n"
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        raise MoodleError(f"{path}: the file is empty; download the grading worksheet again")
    header = rows[0]
    columns = {key: header.index(name) for key, name in names.items() if name in header}
    if "identifier" not in columns:
        raise MoodleError(f"{path}: no column {names['identifier']!r} (the columns are: {', '.join(header)}); "
                          "this is not Moodle's grading worksheet, or Moodle's language is not English – then "
                          "name the columns in the grading policy, [moodle] worksheet_headers")
    ws = Worksheet(path, header, rows[1:], columns, delimiter, bom, newline)
    for i, row in enumerate(ws.rows):
        if not any(c.strip() for c in row):
            continue
        pid = participant_id(ws.value(row, "identifier"))
        if pid is None:
            raise MoodleError(f"{path}, line {i + 2}: {names['identifier']} {ws.value(row, 'identifier')!r} "
                              "does not end in a participant number; use the worksheet as Moodle wrote it")
        if pid in ws.by_participant:
            raise MoodleError(f"{path}, line {i + 2}: participant {pid} appears twice")
        ws.by_participant[pid] = i
    return ws


MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
MONTHS.update({m: i + 1 for i, m in enumerate(  # Finnish, in the partitive a date uses ("2. maaliskuuta")
    ["tammikuuta", "helmikuuta", "maaliskuuta", "huhtikuuta", "toukokuuta", "kesäkuuta", "heinäkuuta",
     "elokuuta", "syyskuuta", "lokakuuta", "marraskuuta", "joulukuuta"])})
_WORDS = re.compile(r"^\s*(?:[^\W\d]+,?\s+)?(\d{1,2})\.?\s+([^\W\d]+)\s+(\d{4}),?\s+(?:klo\s+)?"
                    r"(\d{1,2})[:.](\d{2})(?:\s*([AaPp][Mm]))?\s*$")
_NUMERIC = re.compile(r"^\s*(?:[^\W\d]+,?\s+)?(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(?:klo\s+)?(\d{1,2})[:.](\d{2})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*$")


def parse_time(text: str, tz: str = "Europe/Helsinki") -> datetime | None:
    """A worksheet date in the time zone ``tz`` as an aware UTC datetime; None for ``-``, empty or unknown.

    Read: Moodle's English ``userdate()`` (``Monday, 2 March 2026, 2:15 PM``); the same with a
    24-hour clock or a Finnish month (``maanantai, 2. maaliskuuta 2026, 14.15``); ``2.3.2026 14.15``;
    ``2026-03-02 14:15``.
    """
    text = (text or "").strip()
    if not text or text == "-":
        return None
    day = month = year = hour = minute = None
    ampm = None
    if m := _WORDS.match(text):
        month = MONTHS.get(m.group(2).lower())
        if month is None:
            return None
        day, year, hour, minute, ampm = int(m.group(1)), int(m.group(3)), int(m.group(4)), int(m.group(5)), m.group(6)
    elif m := _NUMERIC.match(text):
        day, month, year, hour, minute = (int(g) for g in m.groups())
    elif m := _ISO.match(text):
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    else:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))
    except ValueError:
        return None
    return local.astimezone(timezone.utc)


def format_time(when: datetime, tz: str = "Europe/Helsinki") -> str:
    """``when`` as Moodle's English ``userdate()`` writes it in the time zone ``tz`` (for fixtures and the demo)."""
    local = when.astimezone(ZoneInfo(tz))
    hour = local.hour % 12 or 12
    return (f"{local.strftime('%A')}, {local.day} {local.strftime('%B')} {local.year}, "
            f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}")


def text(ws: Worksheet, fills: dict[int, dict[str, str]]) -> str:
    """The worksheet with ``fills`` (participant id -> {column key: value}) written into its rows;
    every other cell, the column order, the delimiter, the byte-order mark and line ends as read."""
    rows = [list(r) for r in ws.rows]
    for pid, values in fills.items():
        i = ws.by_participant[pid]
        for key, value in values.items():
            col = ws.columns[key]
            row = rows[i]
            row.extend([""] * (col + 1 - len(row)))
            row[col] = value
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=ws.delimiter, lineterminator=ws.newline)
    w.writerow(ws.header)
    w.writerows(rows)
    return (BOM if ws.bom else "") + buf.getvalue()


def decimals_of(number: str) -> tuple[int, str]:
    """(decimals, decimal separator) of a number as the worksheet wrote it (``"10.00"`` -> (2, "."))."""
    m = re.search(r"[.,](\d+)\s*$", number or "")
    if not m:
        return 0, "."
    return len(m.group(1)), number[m.start()]


def to_number(number: str) -> float | None:
    """A worksheet number (``"10.00"``, ``"10,00"``, ``"1 000,50"``) as a float, or None."""
    s = (number or "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None
