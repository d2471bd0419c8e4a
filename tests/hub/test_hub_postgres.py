"""The same class with the gradebook in a real PostgreSQL server (several graders, or graders on
several machines, need one): the test starts PostgreSQL in a temporary folder (initdb/pg_ctl from
Debian's packages), the hub gives its URL to the teacher's server only (CRMKIT_DB_URL, read by
the course's nbgrader_config.py), and the whole exchange runs between the Linux users: release,
fetch, answer, submit, collect, ``crmkit autograde``, ``crmkit feedback``, release and fetch
feedback; ``crmkit grades``, ``report`` and ``profile`` then read the PostgreSQL gradebook.

The students work here through nbgrader's command line as their Linux users (the browser flow of
test_hub_flow.py is the same for them whatever the gradebook is: a student never touches it); the
teacher's server runs on the hub, and its Formgrader reads PostgreSQL.
"""

from __future__ import annotations

import csv
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hubworld import ANSWERS, EXERCISE, SLUG, HubWorld, Postgres, crmkit_hub, pg_bin_dir, step
from hubworld import run

pytestmark = [pytest.mark.hub,
              pytest.mark.skipif(pg_bin_dir() is None, reason="!!! HUB POSTGRESQL TEST SKIPPED: no PostgreSQL "
                                 "server binaries (initdb/pg_ctl): make hub-tools installs Debian's postgresql")]

EDIT = """
import sys, nbformat
path, grade_id, source = sys.argv[1:4]
nb = nbformat.read(path, as_version=4)
[cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
cell.source = source
nbformat.write(nb, path)
"""


@pytest.fixture(scope="module")
def world():
    """Three students and a teacher, a PostgreSQL server, a hub whose teachers get its URL."""
    w = HubWorld.create(n_students=3)
    try:
        pg = Postgres.start(w)
        w.settings = dataclasses.replace(w.settings, db_url=pg.url)
        w.start_hub()
        yield w
    finally:
        w.close()


def _parallel(fn, items):
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(fn, items))


def test_only_the_teachers_server_gets_the_gradebook(world):
    """After a login through the hub's form (PAM; the hub copies the Linux groups), the teacher's
    server has CRMKIT_DB_URL in its environment and starts in the course directory; a student's
    server has neither, and the student's password does not open the database."""
    step(__name__)
    teacher, student = world.teacher, world.students[0]
    for user in (teacher, student):
        assert world.login_form(user) == 302, f"{user.name} could not log in through the hub's form"
    _parallel(world.start_server, [teacher, student])
    t_env, s_env = world.server_environ(teacher), world.server_environ(student)
    assert t_env.get("CRMKIT_DB_URL") == world.pg.url
    assert t_env.get("CRMKIT_ROLE") == crmkit_hub.TEACHER and t_env.get("JUPYTERHUB_ROOT_DIR") == world.settings.course_dir
    assert "CRMKIT_DB_URL" not in s_env and s_env.get("CRMKIT_ROLE") == crmkit_hub.STUDENT
    proc = world.as_user(student, str(world.pg.bin_dir / "psql"), "-w", "-h", "127.0.0.1", "-p", str(world.pg.port),
                         "-U", world.pg.role, "-d", world.pg.db, "-c", "select 1", cwd="/")
    assert proc.returncode != 0, "a student connects to the gradebook without its password"


def test_the_exchange_and_grading_with_the_gradebook_in_postgresql(world):
    """Release as the teacher; fetch, answer, submit as each student; collect, autograde, feedback,
    release feedback as the teacher; the scores land in PostgreSQL (no SQLite gradebook is
    created), the teacher's Formgrader lists them, and each student fetches their own feedback."""
    step(__name__)
    teacher = world.teacher
    course = Path(world.settings.course_dir)
    world.check(teacher, "nbgrader", "release_assignment", SLUG)

    def work(args):
        student, (code, _) = args
        world.check(student, "nbgrader", "fetch_assignment", SLUG)
        nb = student.home / SLUG / f"{SLUG}.ipynb"
        world.check(student, "python", "-c", EDIT, str(nb), EXERCISE, f"# vastaus: {student.name}\n{code}\ncustomer_counts")
        world.check(student, "nbgrader", "submit", SLUG)

    _parallel(work, list(zip(world.students, ANSWERS)))
    world.check(teacher, "nbgrader", "collect", SLUG)
    world.check(teacher, "crmkit", "autograde", SLUG, "--no-progress")
    world.check(teacher, "crmkit", "feedback", SLUG)
    world.check(teacher, "nbgrader", "release_feedback", SLUG)

    assert not (course / "grading" / "gradebook.db").exists(), "a SQLite gradebook was created beside PostgreSQL"
    rows = world.pg.psql("SELECT s.id, sum(coalesce(g.auto_score, 0)) FROM student s "
                         "JOIN submitted_assignment sa ON sa.student_id = s.id "
                         "JOIN submitted_notebook sn ON sn.assignment_id = sa.id "
                         "JOIN grade g ON g.notebook_id = sn.id GROUP BY s.id ORDER BY s.id", db=world.pg.db)
    scores = {line.split("|")[0]: float(line.split("|")[1]) for line in rows.splitlines() if line}
    assert scores == {s.name: (1.0 if right else 0.0) for s, (_, right) in zip(world.students, ANSWERS)}, rows

    if not world.server_pids(teacher):
        world.start_server(teacher)
    listed = world.api_user_server(teacher, "formgrader/api/students")
    assert {s["id"]: s["score"] for s in listed if s["id"] in scores} == scores, listed

    def feedback(args):
        student, (_, right) = args
        world.check(student, "nbgrader", "fetch_feedback", SLUG)
        [page] = (student.home / SLUG / "feedback").glob(f"*/{SLUG}.html")
        text = page.read_text(encoding="utf-8")
        assert f"# vastaus: {student.name}" in text
        assert not any(f"# vastaus: {o.name}" in text for o in world.students if o is not student)

    _parallel(feedback, list(zip(world.students, ANSWERS)))


def test_grades_report_and_profiles_read_postgresql(world):
    """crmkit grades (provisional: the hand-graded answers wait), report and profile --all, as the
    teacher in the course directory, read the scores from PostgreSQL."""
    step(__name__)
    teacher = world.teacher
    course = Path(world.settings.course_dir)
    out = world.check(teacher, "crmkit", "grades", "--allow-pending")
    with open(course / "grading" / "final_grades.csv", encoding="utf-8") as f:
        graded = {row[next(iter(row))] for row in csv.DictReader(f)}
    assert {s.name for s in world.students} <= graded, (graded, out)
    world.check(teacher, "crmkit", "report")
    html = (course / "grading" / "reports" / "class.html").read_text(encoding="utf-8")
    assert all(s.name in html for s in world.students)
    out = world.check(teacher, "crmkit", "profile", "--all")
    for s in world.students:
        assert (course / "grading" / "reports" / "profiles" / f"{s.name}.html").is_file(), out
    # and nothing of it is readable by a student
    proc = world.as_user(world.students[0], "cat", str(course / "grading" / "final_grades.csv"), cwd="/")
    assert proc.returncode != 0 and "Permission denied" in proc.stderr


def test_a_teacher_taken_off_the_group_starts_as_a_student(world):
    """The hub keeps a user's spawner between starts: a teacher removed from the teachers' group
    (Linux) gets, at the next login and start, a student's server -- no gradebook URL, no course
    directory -- although the earlier start was a teacher's."""
    step(__name__)
    teacher, s = world.teacher, world.settings
    assert world.server_environ(teacher).get("CRMKIT_DB_URL"), "the teacher's server should be running"
    world.stop_server(teacher)
    for cmd in (["gpasswd", "-d", teacher.name, s.teachers_group], ["gpasswd", "-a", teacher.name, s.students_group]):
        proc = run(cmd)
        assert proc.returncode == 0, proc.stderr
    assert world.login_form(teacher) == 302
    groups = {g["name"]: g["users"] for g in world.api("groups")}
    assert teacher.name not in groups[s.teachers_group] and teacher.name in groups[s.students_group]
    world.start_server(teacher)
    env = world.server_environ(teacher)
    assert env.get("CRMKIT_ROLE") == crmkit_hub.STUDENT, env.get("CRMKIT_ROLE")
    assert "CRMKIT_DB_URL" not in env and "CRMKIT_COURSE_DIR" not in env
    assert env.get("JUPYTERHUB_ROOT_DIR", "") != s.course_dir
