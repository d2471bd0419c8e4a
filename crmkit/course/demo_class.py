"""A simulated class for ``crmkit demo``, derived deterministically from the solution notebooks.

Each student gets a profile; each submission starts from the release (``notebooks/<slug>``) and
fills the answer cells from ``solutions/<slug>``, with a random generator seeded by the student and
the assignment (the same class every run):

* ``strong``: every answer is the solution;
* ``typical``: about a quarter of the answers are a named wrong answer (``crmkit.wrong``), a few
  are left as the stub;
* ``weak``: many stubs and wrong answers;
* ``unanswered``: most cells left as they were released;
* ``missing``: submits nothing;
* ``loop``: a typical notebook whose first answer never terminates (first assignment only);
* ``corrupt``: a truncated, unreadable file (last assignment only).

Hand-graded (free-text) cells get the model answer, a shorter answer or the stub by profile, and
:func:`simulate_manual_grades` gives them points as a teacher would in formgrader.
"""

from __future__ import annotations

import copy
import hashlib
import random
import shutil
from datetime import datetime

import nbformat

from crmkit.engine import cells, status
from crmkit.engine.cells import SOLUTION_WORDS
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades.gradebook import open_gradebook

BASE = ["strong", "typical", "weak", "typical", "unanswered", "strong", "typical", "typical", "weak", "strong"]
#: the fixed submission time of the simulated class (a stable hash: re-running the demo is idempotent)
STAMP = "2026-03-02 12:00:00.000000 UTC"
LOOP = "\nwhile True:  # ikuinen silmukka\n    pass\n"
SHARE = {"strong": (0.0, 0.0), "typical": (0.25, 0.1), "weak": (0.35, 0.4), "unanswered": (0.05, 0.8),
         "loop": (0.25, 0.1), "corrupt": (0.25, 0.1)}  # (wrong, stub) per answer
MANUAL = {"strong": 1.0, "typical": 0.6, "weak": 0.3, "unanswered": 0.2, "loop": 0.6, "corrupt": 0.6}


def roster(n: int) -> list[tuple[str, str]]:
    """``n`` students with their profiles: the base mix, and the three problem cases when n ≥ 6
    (one missing and one corrupt when n ≥ 4)."""
    profiles = [BASE[i % len(BASE)] for i in range(n)]
    if n >= 6:
        for frac, kind in ((0.35, "loop"), (0.6, "corrupt"), (0.7, "missing")):
            profiles[min(n - 1, round(n * frac))] = kind
    elif n >= 4:
        profiles[-2], profiles[-1] = "missing", "corrupt"
    return [(f"opiskelija{i + 1:02d}", p) for i, p in enumerate(profiles)]


def _solved(source: str) -> str:
    return "\n".join(l for l in source.splitlines() if not any(w in l for w in SOLUTION_WORDS))


def student_notebook(source_nb, release_nb, profile: str, seed: str, loop: bool = False):
    """The release with the answers a student of ``profile`` would give."""
    rng = random.Random(seed)
    nb = copy.deepcopy(release_nb)
    src = {cells.grade_meta(c).get("grade_id"): c for c in source_nb.cells if cells.grade_meta(c).get("grade_id")}
    wrong_share, stub_share = SHARE.get(profile, (0.0, 0.0))
    looped = False
    for cell in nb.cells:
        m = cells.grade_meta(cell)
        gid = m.get("grade_id")
        if not gid or not m.get("solution") or gid not in src:
            continue
        s = src[gid]
        r = rng.random()
        if cell.cell_type == "markdown":  # a hand-graded free-text answer
            if r < stub_share:
                continue
            text = _solved(s.source)
            if profile in ("weak", "unanswered"):
                text = text.split(".")[0] + "."
            cell.source = text
            continue
        wrongs = (s.metadata.get("crmkit") or {}).get("wrong") or []
        if r < stub_share:
            pass  # left as released (the stub)
        elif r < stub_share + wrong_share and wrongs:
            w = wrongs[rng.randrange(len(wrongs))]
            cell.source = cells.replace_solution(s.source, w["source"])
        else:
            cell.source = _solved(s.source)
        if loop and not looped:
            cell.source += LOOP
            looped = True
    return nb


def _write_submission(course: CourseDir, slug: str, student: str, data: bytes) -> bool:
    """Write the submission if it differs; an older different one is kept in grading/backups/."""
    dest = course.submitted_notebook(slug, student)
    if dest.exists() and dest.read_bytes() == data and (dest.parent / "timestamp.txt").exists():
        return False
    if dest.exists():
        keep = course.workspace / "backups" / "submitted" / student
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dest, keep / f"{slug}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.ipynb")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    (dest.parent / "timestamp.txt").write_text(STAMP + "\n", encoding="utf-8")
    return True


def class_notebooks(course: CourseDir, slug: str, students: list[tuple[str, str]]) -> dict[str, bytes]:
    """Every submitting student's notebook of ``slug`` as the bytes they would upload (the missing
    student has none)."""
    slugs = course.assignments()
    source_nb = cells.read(course.source_notebook(slug))
    release_nb = cells.read(course.release_notebook(slug))
    out = {}
    for student, profile in students:
        if profile == "missing":
            continue
        seed = f"{student}:{slug}"
        if profile == "corrupt" and slug == slugs[-1]:
            good = nbformat.writes(student_notebook(source_nb, release_nb, "typical", seed)).encode("utf-8")
            out[student] = good[: len(good) // 3]  # cut off mid-file, as a broken upload would be
        else:
            kind = profile if profile not in ("loop", "corrupt") else "typical"
            nb = student_notebook(source_nb, release_nb, kind, seed, loop=(profile == "loop" and slug == slugs[0]))
            out[student] = nbformat.writes(nb).encode("utf-8")
    return out


def submit_class(course: CourseDir, slug: str, students: list[tuple[str, str]]) -> tuple[int, int]:
    """Submit every student's notebook of ``slug`` straight into grading/submitted/ (the demo goes
    through Moodle's files instead: :mod:`crmkit.course.demo_moodle`); returns (written, unchanged)."""
    written = kept = 0
    _roster_to_gradebook(course, [s for s, _ in students])
    for student, data in class_notebooks(course, slug, students).items():
        if _write_submission(course, slug, student, data):
            written += 1
        else:
            kept += 1
    return written, kept


def _roster_to_gradebook(course: CourseDir, students: list[str]) -> None:
    """Every student of the class in the gradebook (so one who submits nothing shows as missing)."""
    with open_gradebook(course) as gb:
        for s in students:
            gb.update_or_create_student(s)


def simulate_manual_grades(course: CourseDir, slug: str, profiles: dict[str, str]) -> int:
    """Give the free-text cells that wait for hand grading points by profile (in half points),
    as a teacher would in formgrader; a stub answer gets 0. Returns the number of grades set."""
    entries = status.read(course.status_file(slug))
    n = 0
    with open_gradebook(course) as gb:
        for sub in gb.assignment_submissions(slug):
            student = sub.student.id
            if student not in profiles:
                continue
            done = False
            for nb in sub.notebooks:
                path = course.autograded_notebook(slug, student)
                texts = {}
                if path.exists():
                    texts = {cells.grade_meta(c).get("grade_id"): c.source for c in cells.read(path).cells}
                for g in nb.grades:
                    if not g.needs_manual_grade or g.cell.cell_type != "markdown":
                        continue
                    share = MANUAL.get(profiles[student], 0.5)
                    if "KIRJOITA VASTAUKSESI" in texts.get(g.name, "") or not texts.get(g.name, "").strip():
                        share = 0.0
                    jitter = int(hashlib.sha256(f"{student}:{slug}:{g.name}".encode()).hexdigest(), 16) % 3 - 1
                    points = max(0.0, min(g.max_score, round((share * g.max_score + 0.5 * jitter) * 2) / 2))
                    g.manual_score = points
                    g.needs_manual_grade = False
                    n += 1
                    done = True
            if done:
                gb.db.commit()
                entry = entries.get(student)
                if entry and entry.get("status") == status.PENDING:
                    entry["status"] = status.GRADED
                    entry["reason"] = "käsin arvioitavat arvioitu (demo: simuloitu opettaja)"
    status.write(course.status_file(slug), entries)
    return n


def class_digest(course: CourseDir, slug: str) -> str:
    """A digest of the class's submissions of ``slug`` (tests: the demo is deterministic)."""
    h = hashlib.sha256()
    sub = course.step_dir("submitted")
    for p in sorted(sub.glob(f"opiskelija*/{slug}/*")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()
