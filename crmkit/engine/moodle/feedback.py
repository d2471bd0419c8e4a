"""Feedback back to Moodle (``crmkit moodle feedback``): a feedback-files zip and the filled worksheet.

**The zip** is for *Upload multiple feedback files in a zip* (``assignfeedback_file``,
``mod/assign/feedback/file/importziplib.php``). Moodle's importer splits every part of a file's
path at its first four underscores (``explode('_', $pathpart, 5)``) and takes the first part that
reads ``<anything>_<participant id>_<plugin subtype>_<plugin type>``; the participant id (a
participant of this assignment) decides whose feedback the file is, and what follows is the file's
name. The kit writes each student's safe feedback page (``crmkit feedback``: no hidden tests) as

    <full name>_<participant id>_assignsubmission_file_<slug>.html

with the prefix exactly as the student's folder in the submissions zip – the layout of Moodle's own
unit test (``mod/assign/feedback/file/tests/importziplib_test.php``: ``Student Name_<id>_
assignsubmission_file_My_cool_filename.txt`` becomes ``My_cool_filename.txt``). Moodle adds a new
feedback file, or replaces one of the same name, and ignores a file that did not change.

**The worksheet** is the grading worksheet as downloaded (:mod:`.worksheet`) with ``Grade`` and
``Feedback comments`` filled for every participant whose submission was graded: the grade is the
nbgrader score (after the late penalty) scaled to the row's ``Maximum Grade``, written with that
column's decimals and decimal separator; the comment (Finnish, for the student; HTML-escaped, as
Moodle stores comments as HTML) gives the points per graded cell and names each failure with the
message the student saw (never a hidden test). A submission still waiting for hand grading, a
failed one, or an assignment graded on a scale gets a comment but no grade. Rows of other
participants are left exactly as they were.
"""

from __future__ import annotations

import html
import io
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from crmkit.engine import moodle, status
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import gradebook, output
from crmkit.engine.moodle import MoodleError, collect, participants
from crmkit.engine.moodle import worksheet as wsheet

#: the fixed time of every entry in the feedback zip (the same pages give the same bytes)
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass
class Result:
    """What ``pack`` wrote and left out."""

    slug: str
    zip_path: Path | None = None
    worksheet_path: Path | None = None
    entries: list[tuple[int, str, str]] = field(default_factory=list)  # (participant id, student, zip entry)
    filled: list[tuple[int, str, str]] = field(default_factory=list)  # (participant id, grade or "", comment)
    notes: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def _fi(value: Decimal | float | None) -> str:
    """A number as a Finnish reader writes it: ``2.5`` -> ``2,5``, ``3.0`` -> ``3``."""
    if value is None:
        return "–"
    d = Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
    text = f"{d:f}"
    return text.replace(".", ",")


def comment(slug: str, r: gradebook.Result, messages: dict[str, str]) -> str:
    """The feedback comment (Finnish, plain text) for one student's result of ``slug``; "" when
    there is nothing to say (nothing submitted)."""
    if r.status == gradebook.MISSING:
        return ""
    if r.status == gradebook.FAILED:
        return (f"{slug}: palautustasi ei voitu arvioida: {r.reason}. Korjaa muistikirja (aja se alusta loppuun) "
                f"ja palauta uudelleen, tai kysy opettajalta. Palaute: {slug}.html.")
    if r.status == gradebook.NOT_AUTOGRADED:
        return ""
    parts = []
    for c in r.cells:
        text = f"{c.name} {_fi(c.score)}/{_fi(c.max_score)}"
        if c.needs_manual_grade:
            text = f"{c.name} –/{_fi(c.max_score)} (arvioidaan käsin)"
        elif c.cell_type == "markdown":
            text += " (käsin arvioitu)"
        elif c.score < c.max_score:
            why = messages.get(c.name, "").rstrip(". ")
            text += " – ei mennyt läpi" + (f": {why}" if why else "")
        parts.append(text)
    head = f"{slug}: {_fi(r.score)} / {_fi(r.max_score)} pistettä"
    if r.max_score:
        head += f" ({_fi(r.score / r.max_score * 100)} %)"
    head += "."
    if r.penalty:
        head += f" Myöhästymisvähennys {_fi(r.penalty)} p."
    if r.status == gradebook.PENDING:
        head += " Osa vastauksista arvioidaan vielä käsin; arvosana tulee, kun arviointi on valmis."
    return head + (" Osat: " + "; ".join(parts) + "." if parts else "") + f" Koko palaute: {slug}.html."


def grade_value(r: gradebook.Result, maximum: str) -> str:
    """The worksheet grade for a graded result: score / max × the row's ``Maximum Grade``, with
    that column's decimals and separator; "" when there is none to give."""
    top = wsheet.to_number(maximum)
    if r.status != gradebook.GRADED or r.score is None or not r.max_score or top is None:
        return ""
    decimals, sep = wsheet.decimals_of(maximum)
    value = (r.score / r.max_score * Decimal(str(top))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return f"{value:f}".replace(".", sep)


def entry_name(who: participants.Identity, slug: str) -> str:
    """The feedback file's name in the zip: ``<prefix>_assignsubmission_file_<slug>.html``."""
    prefix = who.prefix or f"{who.full_name.replace('_', ' ')}_{who.participant_id}"
    return f"{prefix}_assignsubmission_file_{slug}.html"


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def pack(course: CourseDir, slug: str, worksheet_path=None, settings=None) -> Result:
    """Write ``grading/moodle/<slug>/feedback-<slug>.zip`` and ``worksheet-<slug>.csv`` (see the module)."""
    settings = settings or moodle.settings(course)
    who_is = {pid: w for pid, w in participants.read_record(course, slug).items() if w.student_id}
    if not who_is:
        raise MoodleError(f"no Moodle participants recorded for {slug} "
                          f"({participants.record_path(course, slug).relative_to(course.root)}): run "
                          f"`crmkit moodle collect {slug} SUBMISSIONS.zip --worksheet WORKSHEET.csv` first")
    out = Result(slug)
    data = gradebook.read(course, [slug])
    entries = status.read(course.status_file(slug))
    files = []
    for pid, who in sorted(who_is.items()):
        page = course.feedback_page(slug, who.student_id)
        if page.exists():
            name = entry_name(who, slug)
            files.append((name, page.read_bytes()))
            out.entries.append((pid, who.student_id, name))
        elif who.action not in (collect.NOTHING, collect.NOT_PLACED):
            out.notes.append(f"{who.label} → {who.student_id}: no feedback page "
                             f"({page.relative_to(course.root)}); run `crmkit feedback {slug}` after autograde")
    mapped = {w.student_id for w in who_is.values()}
    for page in sorted(course.step_dir("feedback").glob(f"*/{slug}/{slug}.html")):
        student = page.parent.parent.name
        if student not in mapped:
            out.notes.append(f"{student}: has a feedback page but no Moodle participant – not in the zip")
    folder = moodle.folder(course, slug)
    if files:
        out.zip_path = folder / f"feedback-{slug}.zip"
        out.written.append(output.write(out.zip_path, _zip(files)))
    else:
        out.notes.append("no feedback pages to pack: run `crmkit feedback` first")

    ws_path = Path(worksheet_path) if worksheet_path else folder / "worksheet.csv"
    if not ws_path.exists():
        out.notes.append(f"no grading worksheet ({ws_path}): give --worksheet, or collect with --worksheet; "
                         "grades and comments were not filled")
        return out
    ws = wsheet.read(ws_path, wsheet.headers(settings.worksheet_headers))
    can_grade = "grade" in ws.columns and "maximum_grade" in ws.columns
    if "scale" in ws.columns:
        out.notes.append("the assignment is graded on a scale in Moodle: grades not filled (comments are)")
    elif not can_grade:
        out.notes.append("the worksheet has no Grade / Maximum Grade column: grades not filled")
    if "feedback_comments" not in ws.columns:
        out.notes.append("the worksheet has no Feedback comments column (feedback comments are off in the "
                         "assignment's settings): comments not filled")
    fills = {}
    for pid, who in sorted(who_is.items()):
        row = ws.row(pid)
        if row is None:
            out.notes.append(f"{who.label}: not in the worksheet {ws_path.name} – not filled")
            continue
        key = (who.student_id, slug)
        if key not in data.results:
            continue
        r = data.results[key]
        messages = {m.get("cell"): m.get("message", "") for m in entries.get(who.student_id, {}).get("messages", [])}
        text = comment(slug, r, messages)
        grade = grade_value(r, ws.value(row, "maximum_grade")) if can_grade and "scale" not in ws.columns else ""
        values = {}
        if grade:
            values["grade"] = grade
        if text and "feedback_comments" in ws.columns:
            values["feedback_comments"] = html.escape(text, quote=False)
        if values:
            fills[pid] = values
            out.filled.append((pid, grade, text))
        if r.status in (gradebook.PENDING, gradebook.FAILED):
            out.notes.append(f"{who.label} → {who.student_id}: {r.status} – comment only, no grade")
    out.worksheet_path = folder / f"worksheet-{slug}.csv"
    out.written.append(output.write(out.worksheet_path, wsheet.text(ws, fills)))
    return out
