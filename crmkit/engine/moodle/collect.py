"""Place Moodle's submissions where nbgrader expects them (``crmkit moodle collect``).

For one assignment and one *Download all submissions* zip (:mod:`.submissions`), with or without
the grading worksheet (:mod:`.worksheet`):

1. every file of the zip is kept as Moodle named it under
   ``grading/moodle/<slug>/originals/<zip name>-<hash>/`` (and the worksheet as
   ``grading/moodle/<slug>/worksheet.csv``);
2. each participant is mapped to a student id (:mod:`.participants`);
3. one notebook per student is chosen and placed at ``grading/submitted/<student>/<slug>/<slug>.ipynb``
   with the submission time (the worksheet's ``Last modified (submission)``) as nbgrader's
   ``timestamp.txt``, so that late penalties work;
4. every participant gets one line saying what was done (:data:`ACTIONS`), and the same goes into
   ``grading/moodle/<slug>/participants.csv`` and ``collect-report.txt``.

Choosing the notebook never guesses silently. The notebook named ``<slug>.ipynb`` is the
submission; other notebooks beside it are listed and not graded. Without one, a single notebook
under another name (``03_segmentointi (1).ipynb``, ``kopio.ipynb``) is placed if its graded cells
are this assignment's (nbgrader's grade ids of the release), or if it cannot be read at all (then
autograde marks it failed and the student's feedback says why); several such notebooks, or one of
another assignment, are not placed. A zip, a PDF, online text: listed, not placed.

Re-running with a newer zip adds and updates: a changed notebook replaces the placed one (which
is moved to ``grading/moodle/<slug>/replaced/``), unless the placed one was submitted later; a
student missing from the newer zip keeps the submission placed before. Nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crmkit.engine import moodle, nbg
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import output
from crmkit.engine.moodle import MoodleError, participants, submissions
from crmkit.engine.moodle import worksheet as wsheet

PLACED, UPDATED, UNCHANGED, KEPT = "placed", "updated", "unchanged", "kept earlier"
NOT_PLACED, UNMAPPED, NOTHING = "not placed", "not mapped", "nothing submitted"
#: every action collect reports, and whether the teacher should look at it
ACTIONS = {PLACED: False, UPDATED: False, UNCHANGED: False, KEPT: True, NOT_PLACED: True, UNMAPPED: True,
           NOTHING: True}


@dataclass
class Result:
    """What one collect did."""

    slug: str
    download: submissions.Download
    identities: dict[int, participants.Identity]
    notes: list[str] = field(default_factory=list)  # one line per thing the teacher should know
    written: list[str] = field(default_factory=list)  # what output.write said about the records

    def by_action(self, *actions: str) -> list[participants.Identity]:
        """The participants whose action is one of ``actions``."""
        return [w for w in self.identities.values() if w.action in actions]

    @property
    def attention(self) -> list[participants.Identity]:
        """Participants the teacher should look at (see :data:`ACTIONS`), and any note."""
        return [w for w in self.identities.values() if ACTIONS.get(w.action, True) or w.detail]


def _grade_ids(nb_json: dict) -> set[str]:
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb_json.get("cells", [])
            if isinstance(c, dict) and c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}


def _notebook(data: bytes) -> dict | None:
    """The notebook's JSON, or None if the bytes are not a notebook."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return nb if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else None


def _kind(f: submissions.SubmittedFile) -> str:
    if f.plugin == "assignsubmission_onlinetext":
        return "online text"
    suffix = Path(f.name).suffix.lower()
    return {".ipynb": "notebook", ".zip": "a zip archive", ".pdf": "a PDF", ".html": "an HTML page",
            ".py": "a Python file"}.get(suffix, f"a {suffix or 'file without extension'} file")


def choose(slug: str, files: list[submissions.SubmittedFile], read, expected: set[str]):
    """(the file to place or None, what to say). ``read(f)`` gives a file's bytes; ``expected`` is the
    release's grade ids. See the module for the rule."""
    notebooks = [f for f in files if _kind(f) == "notebook"]
    others = [f for f in files if _kind(f) != "notebook"]
    said = [f"{f.path}: {_kind(f)}, not a notebook – kept, not graded" for f in others]
    if not notebooks:
        return None, said + ([] if others else ["no files"])
    verdict = {}
    for f in notebooks:
        try:
            nb = _notebook(read(f))
        except MoodleError as e:
            verdict[f.path] = ("unreadable", f"damaged in the zip: {e}")
            continue
        if nb is None:
            verdict[f.path] = ("corrupt", "not a readable notebook")
        elif expected and not (_grade_ids(nb) & expected):
            verdict[f.path] = ("other", f"none of its graded cells is {slug}'s")
        else:
            verdict[f.path] = ("this", f"its graded cells are {slug}'s")
    exact = [f for f in notebooks if f.name == f"{slug}.ipynb"]
    if len(exact) == 1:
        f = exact[0]
        said += [f"{o.path}: another notebook beside {slug}.ipynb – kept, not graded" for o in notebooks if o is not f]
        kind, why = verdict[f.path]
        if kind == "unreadable":
            return None, said + [f"{f.path}: {why} – not placed"]
        if kind == "corrupt":
            said.append(f"{f.path}: not a readable notebook – placed; autograde will mark it failed and the "
                        "feedback tells the student why")
        elif kind == "other":
            said.append(f"{f.path}: {why} (another assignment's notebook?) – placed; check it")
        return f, said
    mine = [f for f in notebooks if verdict[f.path][0] == "this"]
    if len(exact) > 1:
        return None, said + [f"{len(exact)} notebooks named {slug}.ipynb ({', '.join(f.path for f in exact)}): "
                             "cannot tell which to grade – not placed"]
    if len(mine) == 1 and len(notebooks) == 1:
        return mine[0], said + [f"{mine[0].path}: the notebook under another name ({verdict[mine[0].path][1]}) – "
                                f"placed as {slug}.ipynb"]
    if len(notebooks) == 1 and verdict[notebooks[0].path][0] == "corrupt":
        f = notebooks[0]
        return f, said + [f"{f.path}: under another name and not a readable notebook – placed as {slug}.ipynb; "
                          "autograde will mark it failed and the feedback tells the student why"]
    if len(notebooks) == 1:
        f = notebooks[0]
        guess = " (another assignment's notebook?)" if verdict[f.path][0] == "other" else ""
        return None, said + [f"{f.path}: {verdict[f.path][1]} – not placed{guess}"]
    listing = ", ".join(f"{f.path} ({verdict[f.path][1]})" for f in notebooks)
    return None, said + [f"{len(notebooks)} notebooks and none named {slug}.ipynb: {listing} – cannot tell which "
                         "to grade, not placed"]


def _read_stamp(folder: Path) -> datetime | None:
    path = folder / "timestamp.txt"
    if not path.exists():
        return None
    from dateutil.parser import parse

    try:
        when = parse(path.read_text(encoding="utf-8").strip())
    except (ValueError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def place(course: CourseDir, slug: str, student: str, data: bytes, when: datetime | None) -> tuple[str, str]:
    """Put ``data`` in as the student's submission; returns (action, detail). A different earlier
    submission is moved to ``grading/moodle/<slug>/replaced/`` unless it was submitted later."""
    dest = course.submitted_notebook(slug, student)
    folder = dest.parent
    detail = ""
    if dest.exists():
        before = _read_stamp(folder)
        if dest.read_bytes() == data:
            if when and not before:
                nbg.write_timestamp(folder, when)
                return UNCHANGED, "submission time added"
            return UNCHANGED, ""
        if when and before and before > when:
            return KEPT, (f"the placed submission is newer ({before:%Y-%m-%d %H:%M} UTC) than this zip's "
                          f"({when:%Y-%m-%d %H:%M} UTC) – the placed one is kept")
        keep = moodle.folder(course, slug) / "replaced" / f"{student}-{datetime.now():%Y%m%d-%H%M%S-%f}"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(keep))
        detail = f"the earlier one is kept in {keep.relative_to(course.root)}"
    folder.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    if when:
        nbg.write_timestamp(folder, when)
    return (UPDATED if detail else PLACED), detail


def keep_originals(course: CourseDir, slug: str, download: submissions.Download) -> Path:
    """Every entry of the zip, as Moodle named it, under ``originals/<zip name>-<hash>/`` (once per zip)."""
    digest = hashlib.sha256(download.path.read_bytes()).hexdigest()[:10]
    dest = moodle.folder(course, slug) / "originals" / f"{download.path.stem}-{digest}"
    if dest.exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    import zipfile

    with zipfile.ZipFile(download.path) as z:
        for info in z.infolist():
            name = submissions._decoded(info)
            parts = [p for p in name.split("/") if p and p not in (".", "..")]
            if info.is_dir() or not parts:
                continue
            target = tmp.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(z.read(info))
            except Exception as e:  # noqa: BLE001 - a damaged entry is reported, the rest is kept
                target.with_name(target.name + ".UNREADABLE.txt").write_text(
                    f"{name}: cannot be read from {download.path} ({e})\n", encoding="utf-8")
    tmp.rename(dest)
    return dest


def _gradebook_students(course: CourseDir, identities) -> str:
    """Every mapped student in nbgrader's gradebook (one who submits nothing then shows as missing)."""
    from crmkit.engine.grades.gradebook import GradebookError, open_gradebook

    try:
        with open_gradebook(course) as gb:
            for who in identities.values():
                if who.student_id:
                    first, _, last = who.full_name.rpartition(" ")
                    gb.update_or_create_student(who.student_id, first_name=first or None, last_name=last or None,
                                                email=who.email or None)
    except GradebookError as e:
        return f"students not added to the gradebook: {e}"
    return ""


def collect(course: CourseDir, slug: str, zip_path, worksheet_path=None, settings=None) -> Result:
    """Collect one assignment's Moodle download (see the module); raises :class:`MoodleError` on bad input."""
    if slug not in course.assignments():
        raise MoodleError(f"unknown assignment {slug!r}; {course.step_dir('source').name}/ has: "
                          f"{', '.join(course.assignments()) or 'none'}")
    settings = settings or moodle.settings(course)
    download = submissions.read(zip_path)
    ws = None
    if worksheet_path is not None:
        ws = wsheet.read(worksheet_path, wsheet.headers(settings.worksheet_headers))
    result = Result(slug, download, {})
    keep = keep_originals(course, slug, download)
    result.notes.append(f"originals: every file of {download.path.name} is kept in {keep.relative_to(course.root)}")
    if ws is not None:
        result.written.append(output.write(moodle.folder(course, slug) / "worksheet.csv", ws.path.read_bytes()))
    for name in download.unrecognised:
        result.notes.append(f"{name}: not named as Moodle names submissions – kept in originals, not graded")
    if download.layouts == {submissions.FOLDERS, submissions.FLAT}:
        result.notes.append("the zip mixes both of Moodle's layouts (with and without folders); both were read")

    earlier = participants.read_record(course, slug)
    roster = participants.read_roster(course)
    who_is = participants.resolve(download.participants, ws, settings, earlier, roster)
    release = course.release_notebook(slug)
    expected = _grade_ids(json.loads(release.read_text(encoding="utf-8"))) if release.exists() else set()
    for pid, who in who_is.items():
        p = download.participants.get(pid)
        files = p.files if p else []
        who.files = "; ".join(f.path for f in files)
        if not who.student_id:
            who.action = UNMAPPED
            who.detail = who.why_not + (f"; its files are kept in originals ({who.files})" if files else "")
            continue
        if not files:
            who.action = NOTHING
            who.detail = f"Moodle: {who.status}" if who.status else ""
            if course.submitted_notebook(slug, who.student_id).exists():
                who.action, who.detail = KEPT, "not in this zip – the submission placed before is kept"
            continue
        chosen, said = choose(slug, files, download.read, expected)
        when = wsheet.parse_time(who.submitted, settings.timezone) if ws is not None else None
        if chosen is None:
            who.action, who.detail = NOT_PLACED, "; ".join(said)
            continue
        try:
            data = download.read(chosen)
        except MoodleError as e:
            who.action, who.detail = NOT_PLACED, f"{e} – not placed"
            continue
        who.action, detail = place(course, slug, who.student_id, data, when)
        if ws is None:
            said.append("submission time unknown without the worksheet (the zip's file times are the download's) "
                        "– no timestamp.txt, so no late penalty can apply; collect again with --worksheet")
        elif when is None:
            said.append(f"submission time {who.submitted!r} not understood – no timestamp.txt written "
                        "(set [moodle] timezone / download the worksheet in English)")
        who.detail = "; ".join([s for s in said] + ([detail] if detail else []))
    result.identities = who_is
    gb_note = _gradebook_students(course, who_is)
    if gb_note:
        result.notes.append(gb_note)
    result.written.append(participants.write_record(course, slug, who_is))
    if ws is not None:
        result.written.append(participants.update_roster(course, who_is))
    result.written.append(output.write(moodle.folder(course, slug) / "collect-report.txt", report(course, result)))
    return result


def report(course: CourseDir, result: Result) -> str:
    """The collect's report as text: a summary, then one line per participant that needs a look."""
    counts = {}
    for who in result.identities.values():
        counts[who.action] = counts.get(who.action, 0) + 1
    lines = [f"moodle collect {result.slug} from {result.download.path.name}: {len(result.identities)} participant(s) – "
             + ", ".join(f"{n} {a}" for a, n in counts.items())]
    lines += [f"  {n}" for n in result.notes]
    attention = sorted(result.attention, key=lambda w: (w.action, w.full_name, w.participant_id))
    if attention:
        lines.append("look at these:")
    for who in attention:
        to = f" → {who.student_id}" if who.student_id else ""
        lines.append(f"  - {who.label}{to}: {who.action}" + (f" – {who.detail}" if who.detail else ""))
    sub = course.step_dir("submitted").relative_to(course.root)
    lines.append(f"submissions: {sub}/<student>/{result.slug}/{result.slug}.ipynb; "
                 f"record: {participants.record_path(course, result.slug).relative_to(course.root)}")
    return "\n".join(lines) + "\n"
