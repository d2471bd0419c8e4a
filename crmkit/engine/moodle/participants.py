"""Who is who: a Moodle participant to the kit's student id, and the kit's records of it.

A participant is known to Moodle's files by the participant id of one assignment (in the zip's
names and the worksheet's ``Identifier``) and by a full name; the grading worksheet adds the user
identity fields the site shows (``Email address``, ``ID number``). The student id comes from the
field ``[moodle] identify_by`` names: through ``[moodle] id_map`` (CSV ``student_id,identifier``)
when it is set, else the value itself (for ``email``, the part before "@", lower-cased).

A participant the worksheet does not hold is matched by its participant id in this assignment's
earlier record (participant ids belong to the assignment); without a worksheet, also by a full
name that only one student of the roster has. Nothing is guessed: a
participant that cannot be matched, or two participants that would become one student, stay
unmatched with the reason.

The records (CSV, UTF-8, under ``grading/moodle/``; never shrinking – a later run adds and updates):

* ``roster.csv`` – ``student_id,full_name,email,id_number``: every student seen in a worksheet;
  ``crmkit grades --moodle`` reads it to write each student's Moodle identifier and to refuse
  identifiers Moodle would not know;
* ``<slug>/participants.csv`` – one row per participant of the assignment: the participant id, the
  zip's prefix, the student id, and what collect did.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from crmkit.engine import moodle
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import output
from crmkit.engine.moodle import MoodleError
from crmkit.engine.moodle.worksheet import Worksheet

ROSTER_COLUMNS = ["student_id", "full_name", "email", "id_number"]
_SAFE_ID = re.compile(r"^[^\s/\\.][^\s/\\]*$")


@dataclass
class Identity:
    """One participant of one assignment, and the student id it maps to ("" when it cannot)."""

    participant_id: int
    full_name: str = ""
    prefix: str = ""  # "<full name>_<participant id>" as in the submissions zip ("" if not in it)
    email: str = ""
    id_number: str = ""
    student_id: str = ""
    why_not: str = ""  # why there is no student id
    submitted: str = ""  # Moodle's "Last modified (submission)" as written
    status: str = ""  # Moodle's "Status"
    action: str = ""  # what collect did (see crmkit.engine.moodle.collect)
    detail: str = ""
    files: str = ""  # the participant's files in the zip, "; "-separated

    @property
    def label(self) -> str:
        """How reports name the participant: ``Matti Meikäläinen (participant 1234567)``."""
        return f"{self.full_name or '(no name)'} (participant {self.participant_id})"


def roster_path(course: CourseDir) -> Path:
    """``grading/moodle/roster.csv``."""
    return moodle.folder(course) / "roster.csv"


def record_path(course: CourseDir, slug: str) -> Path:
    """``grading/moodle/<slug>/participants.csv``."""
    return moodle.folder(course, slug) / "participants.csv"


def read_id_map(path: Path) -> dict[str, str]:
    """``[moodle] id_map``: student id -> Moodle identifier; raises :class:`MoodleError` naming the file and line."""
    path = Path(path)
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


def student_id_for(value: str, identify_by: str, by_identifier: dict[str, str] | None) -> tuple[str, str]:
    """(student id, "") for the value of the identifying field, or ("", why not)."""
    value = (value or "").strip()
    field_name = "email address" if identify_by == "email" else "ID number"
    if not value:
        return "", f"no {field_name} in the worksheet"
    if by_identifier is not None:
        sid = by_identifier.get(value) or by_identifier.get(value.lower())
        return (sid, "") if sid else ("", f"{field_name} {value} is not in the id map ([moodle] id_map)")
    sid = value.split("@", 1)[0].lower() if identify_by == "email" else value
    if not _SAFE_ID.match(sid):
        return "", f"{field_name} {value!r} does not make a usable student id (set [moodle] id_map)"
    return sid, ""


def resolve(participants: dict[int, object], ws: Worksheet | None, settings, earlier: dict[int, Identity],
            roster: dict[str, dict]) -> dict[int, Identity]:
    """Every participant of the zip (``participants``: id -> submissions.Participant) and of the
    worksheet, with its student id or the reason it has none."""
    by_identifier = None
    if settings.id_map:
        by_identifier = {}
        for sid, ident in read_id_map(settings.id_map).items():
            by_identifier[ident] = sid
            by_identifier.setdefault(ident.lower(), sid)
    ids = set(participants) | (set(ws.by_participant) if ws else set())
    out: dict[int, Identity] = {}
    for pid in sorted(ids):
        p = participants.get(pid)
        who = Identity(pid, full_name=getattr(p, "full_name", ""), prefix=getattr(p, "prefix", ""))
        row = ws.row(pid) if ws else None
        if row is not None:
            who.full_name = ws.value(row, "full_name") or who.full_name
            who.email, who.id_number = ws.value(row, "email"), ws.value(row, "id_number")
            who.submitted, who.status = ws.value(row, "last_modified_submission"), ws.value(row, "status")
            column = "email" if settings.identify_by == "email" else "id_number"
            if column not in ws.columns:
                who.why_not = (f"the worksheet has no {'Email address' if column == 'email' else 'ID number'} "
                               f"column ([moodle] identify_by = \"{settings.identify_by}\")")
            else:
                who.student_id, who.why_not = student_id_for(ws.value(row, column), settings.identify_by,
                                                             by_identifier)
        elif pid in earlier and earlier[pid].student_id:  # this assignment's participant id, mapped before
            before = earlier[pid]
            who.student_id, who.email, who.id_number = before.student_id, before.email, before.id_number
            who.full_name = who.full_name or before.full_name
        elif ws is not None:
            who.why_not = f"not in the worksheet {ws.path.name}"
        else:
            same = [s for s, r in roster.items() if r.get("full_name") == who.full_name]
            if len(same) == 1:
                who.student_id = same[0]
            else:
                who.why_not = ("no worksheet given, and " + (f"{len(same)} students of the roster are called "
                               f"{who.full_name}" if same else "the name is not in the roster")
                               + " – run again with --worksheet")
        out[pid] = who
    owners: dict[str, list[int]] = {}
    for pid, who in out.items():
        if who.student_id:
            owners.setdefault(who.student_id, []).append(pid)
    for sid, pids in owners.items():
        if len(pids) > 1:
            for pid in pids:
                others = ", ".join(out[o].label for o in pids if o != pid)
                out[pid].why_not = f"would be student {sid} as well as {others}"
                out[pid].student_id = ""
    return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise MoodleError(f"{path}: cannot be read ({e}); it is the kit's own record – restore it from the "
                          "copy beside it (<name>.<time>.csv) or delete it and collect again") from None


def read_record(course: CourseDir, slug: str) -> dict[int, Identity]:
    """This assignment's earlier record: participant id -> Identity ({} before the first collect)."""
    names = {f.name for f in fields(Identity)}
    out = {}
    for row in _read_csv(record_path(course, slug)):
        values = {k: v for k, v in row.items() if k in names}
        values["participant_id"] = int(values["participant_id"])
        out[values["participant_id"]] = Identity(**values)
    return out


def write_record(course: CourseDir, slug: str, identities: dict[int, Identity]) -> str:
    """Write ``<slug>/participants.csv`` (earlier participants not in ``identities`` are kept)."""
    merged = {**read_record(course, slug), **identities}
    names = [f.name for f in fields(Identity)]
    rows = [[str(asdict(merged[pid])[n]) for n in names] for pid in sorted(merged)]
    return output.write(record_path(course, slug), output.csv_text(names, rows))


def read_roster(course: CourseDir) -> dict[str, dict[str, str]]:
    """``roster.csv``: student id -> {full_name, email, id_number} ({} when there is none yet)."""
    return read_roster_file(roster_path(course))


def read_roster_file(path: Path) -> dict[str, dict[str, str]]:
    """A roster file (see :func:`read_roster`)."""
    return {r["student_id"]: r for r in _read_csv(Path(path)) if r.get("student_id")}


def update_roster(course: CourseDir, identities: dict[int, Identity]) -> str:
    """Add or update the mapped students of ``identities`` in ``roster.csv``; never drops one."""
    roster = read_roster(course)
    for who in identities.values():
        if not who.student_id:
            continue
        before = roster.get(who.student_id, {})
        roster[who.student_id] = {"student_id": who.student_id,
                                  "full_name": who.full_name or before.get("full_name", ""),
                                  "email": who.email or before.get("email", ""),
                                  "id_number": who.id_number or before.get("id_number", "")}
    buf = io.StringIO()
    rows = [[roster[s].get(c, "") for c in ROSTER_COLUMNS] for s in sorted(roster)]
    buf.write(output.csv_text(ROSTER_COLUMNS, rows))
    return output.write(roster_path(course), buf.getvalue())
