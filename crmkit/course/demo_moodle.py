"""The simulated class through Moodle's files (``crmkit demo``).

For each assignment the demo writes what a teacher downloads from Moodle – the *Download all
submissions* zip (with *Download submissions in folders*) and the grading worksheet – for the
simulated class (:mod:`crmkit.course.demo_class`), each student with a Finnish name, a participant
id, an email address and the student id as Moodle's ID number, into ``grading/demo/moodle/<slug>/``.
``crmkit moodle collect`` then places the notebooks, exactly as it does for a real class. The
formats are the ones :mod:`crmkit.engine.moodle` reads (Moodle's source is named there); the files
are deterministic, so a second run collects nothing new.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from crmkit.course.demo_class import STAMP
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import output
from crmkit.engine.moodle.worksheet import ENGLISH_HEADERS, format_time

FIRST = ["Aino", "Eero", "Åsa", "Väinö", "Sanna", "Juha", "Tiina", "Pekka", "Liisa", "Olli", "Anna-Liisa",
         "Ville", "Sini", "Kalle", "Veera", "Mikko", "Helmi", "Onni", "Iida", "Eetu"]
LAST = ["Mäkinen", "Öhman", "Kärkkäinen", "Ylä-Jääskeläinen", "Östman", "Härkönen", "Lähteenmäki", "Äkräs",
        "Nyström", "Öberg", "Väisänen", "Ström", "Kärppä", "Virtanen", "Korhonen", "Nieminen", "Heikkinen",
        "Hämäläinen", "Laine", "Järvinen"]
#: when the teacher downloads: the zip's file times (Moodle writes no submission times into the zip)
DOWNLOADED = (2026, 3, 9, 8, 0, 0)
SUBMITTED = datetime.strptime(STAMP, "%Y-%m-%d %H:%M:%S.%f %Z").replace(tzinfo=timezone.utc)
#: the worksheet's columns for a site that shows email and ID number, no online text (gradingtable.php)
HEADER = [ENGLISH_HEADERS["identifier"], ENGLISH_HEADERS["full_name"], ENGLISH_HEADERS["email"],
          ENGLISH_HEADERS["id_number"], ENGLISH_HEADERS["status"], ENGLISH_HEADERS["grade"],
          ENGLISH_HEADERS["maximum_grade"], "Grade can be changed", ENGLISH_HEADERS["last_modified_submission"],
          ENGLISH_HEADERS["last_modified_grade"], ENGLISH_HEADERS["feedback_comments"]]


def person(index: int, student: str, slug_number: int) -> dict[str, str]:
    """A student's Moodle identity: a Finnish name, this assignment's participant id, email, ID number."""
    first, last = FIRST[index % len(FIRST)], LAST[(index * 7 + 3) % len(LAST)]
    login = f"{first}.{last}".lower()
    for a, b in (("ä", "a"), ("ö", "o"), ("å", "a")):
        login = login.replace(a, b)
    return {"full_name": f"{first} {last}", "participant_id": str(1_200_000 + slug_number * 1000 + index),
            "email": f"{login}{index + 1}@opiskelija.example.fi", "id_number": student}


def download(course: CourseDir, slug: str, roster: list[tuple[str, str]], notebooks: dict[str, bytes]) -> tuple[Path, Path]:
    """Write ``grading/demo/moodle/<slug>/submissions.zip`` and ``worksheet.csv``; returns their paths."""
    folder = course.workspace / "demo" / "moodle" / slug
    number = course.assignments().index(slug) if slug in course.assignments() else 0
    buf = io.BytesIO()
    sheet = io.StringIO()
    writer = csv.writer(sheet, lineterminator="\n")
    writer.writerow(HEADER)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (student, _) in enumerate(roster):
            who = person(i, student, number)
            data = notebooks.get(student)
            if data is not None:
                entry = f"{who['full_name']}_{who['participant_id']}_assignsubmission_file/{slug}.ipynb"
                z.writestr(zipfile.ZipInfo(entry, DOWNLOADED), data)
            writer.writerow([f"Participant {who['participant_id']}", who["full_name"], who["email"], who["id_number"],
                             "Submitted for grading" if data is not None else "No submission", "", "100.00", "Yes",
                             format_time(SUBMITTED) if data is not None else "-", "-", ""])
    zip_path, ws_path = folder / "submissions.zip", folder / "worksheet.csv"
    output.write(zip_path, buf.getvalue())
    output.write(ws_path, "\ufeff" + sheet.getvalue())
    return zip_path, ws_path
