"""A class on the course hub, end to end, in a real browser: the teacher releases 00_aloitus, three
students log in through the hub's login page, fetch it from *Assignments*, answer an exercise,
validate and submit; the teacher collects, autogrades and returns feedback; each student fetches
and reads their own feedback. Then, as each Linux user, what a student must not read.

The gradebook here is the course directory's SQLite file (one grader); test_hub_postgres.py runs
the exchange with the gradebook in PostgreSQL. The steps run in order on one hub (module-scoped
world); a failed step makes the later ones fail with its reason.

Time of tests/hub as a whole (this flow, the PostgreSQL flow, the z2jh checks), measured
2026-12-04 on the shared 2-core machine: 4 min 53 s with a load average of about 5 from other
jobs, 8 min 17 s with about 9; about 2.7 CPU-minutes either way. This module is about 60 % of it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest

import labpage as lab
from repo import ROOT
from hubworld import ANSWERS, EXERCISE, SLUG, HubWorld, crmkit_hub, step

pytestmark = [pytest.mark.hub, pytest.mark.browser]

#: JupyterLab settings a student could pick: every cell in the page (so a test finds the exercise
#: without scrolling), no news pop-up
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "contentVisibility"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _marker(user) -> str:
    return f"# vastaus: {user.name}"


@pytest.fixture(scope="module")
def world():
    """Three students and a teacher on a running hub; removed afterwards (hubworld.py)."""
    w = HubWorld.create(n_students=3)
    try:
        w.start_hub()
        for user in w.users:
            settings = {f"{user.home}/.jupyter/lab/user-settings/{k}": v for k, v in LAB_SETTINGS.items()}
            w.check(user, "python", "-c", "import json, os, sys\nfor p, v in json.load(sys.stdin).items():\n"
                    "    os.makedirs(os.path.dirname(p), exist_ok=True); open(p, 'w').write(json.dumps(v))",
                    input=json.dumps(settings))
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def pages(world, browser):
    """One browser context per user (their own cookies), kept for the whole flow."""
    contexts = {}
    try:
        for user in world.users:
            ctx = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="fi-FI")
            ctx.set_default_timeout(90_000)
            contexts[user.name] = ctx
        yield {name: ctx.new_page() for name, ctx in contexts.items()}
    finally:
        for ctx in contexts.values():
            ctx.close()


SHOTS = ROOT / "screenshots" / "hub"


def _shot(page, name: str) -> None:
    """A full-page screenshot screenshots/hub/<name>.png (git-ignored), for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _start_login(page, world, user) -> None:
    """Fill in and send the hub's login form (the hub then starts the user's server)."""
    page.goto(f"{world.url}/hub/login")
    page.fill("#username_input", user.name)
    page.fill("#password_input", user.password)
    page.click("#login_submit", no_wait_after=True)


def _wait_lab(page, world, user) -> None:
    """Wait until the user's JupyterLab has its Nbgrader menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=180_000)
    assert page.url.startswith(f"{world.url}/user/{user.name}/lab"), page.url


def _login(page, world, user) -> None:
    """The hub's login form; waits until the user's JupyterLab is there."""
    _start_login(page, world, user)
    _wait_lab(page, world, user)


def _menu_items(page, top: str) -> list[str]:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    items = [t.strip() for t in page.locator(".lm-Menu:visible .lm-Menu-itemLabel").all_inner_texts() if t.strip()]
    page.keyboard.press("Escape")
    return items


def _assignment_list(page) -> None:
    lab.menu(page, "Nbgrader", "Assignment List")
    page.locator("#released_assignments_list, #fetched_assignments_list").first.wait_for()


def test_teacher_releases_the_assignment(world):
    """``nbgrader release_assignment 00_aloitus`` as the teacher (in the course directory)."""
    step(__name__)
    out = world.check(world.teacher, "nbgrader", "release_assignment", SLUG)
    assert "Released as" in out
    outbound = Path(world.settings.exchange_root) / world.settings.course_id / "outbound" / SLUG
    assert (outbound / f"{SLUG}.ipynb").is_file()


def test_everyone_logs_in_and_only_the_teacher_gets_formgrader(world, pages):
    """Logging in through the hub: the teacher's Nbgrader menu has the Formgrader and the page
    lists the released assignment; a student's has only the Assignment List, and the student's
    server has no Formgrader page at all. The hub gives the teacher the crmkit-teacher role."""
    step(__name__)
    teacher, student = world.teacher, world.students[0]
    t_page, s_page = pages[teacher.name], pages[student.name]
    # everyone logs in at once, as a class does: the hub starts the four servers side by side
    for user in world.users:
        _start_login(pages[user.name], world, user)
    for user in world.users:
        _wait_lab(pages[user.name], world, user)
    assert {"Formgrader", "Assignment List", "Create assignment"} <= set(_menu_items(t_page, "Nbgrader"))
    # JupyterHub >= 4.1 forbids the Formgrader's iframe (frame-ancestors 'none'); a teacher opens
    # it in its own tab, at this address (teacher guide)
    t_page.goto(f"{world.url}/user/{teacher.name}/formgrader")
    t_page.get_by_text("Manage Assignments").first.wait_for()
    t_page.get_by_role("link", name=SLUG, exact=True).first.wait_for()
    items = _menu_items(s_page, "Nbgrader")
    assert "Assignment List" in items and not {"Formgrader", "Create assignment", "Course List"} & set(items), items
    resp = s_page.request.get(f"{world.url}/user/{student.name}/formgrader")
    assert resp.status == 404, f"a student's server answers /formgrader with {resp.status}"
    # the hub's groups follow the Linux groups; the teachers' group holds the teacher role, which
    # lets a teacher list the students through the hub's API, and a student not
    groups = {g["name"]: g for g in world.api("groups")}
    assert teacher.name in groups[world.settings.teachers_group]["users"], groups
    assert student.name in groups[world.settings.students_group]["users"], groups
    assert crmkit_hub.TEACHER_HUB_ROLE in groups[world.settings.teachers_group]["roles"], groups
    resp = t_page.request.get(f"{world.url}/hub/api/users")
    assert resp.ok, f"the teacher cannot list users: {resp.status}"
    assert student.name in {u["name"] for u in resp.json()}
    resp = s_page.request.get(f"{world.url}/hub/api/users")
    assert resp.status == 403 or {u["name"] for u in resp.json()} <= {student.name}, resp.status


def _open_fetched_notebook(page) -> int:
    fetched = page.locator("#fetched_assignments_list")
    fetched.locator("a.assignment-notebooks-link", has_text=SLUG).click()
    fetched.locator(".nested_list_item a", has_text=SLUG).first.click()
    release = nbformat.read(ROOT / "notebooks" / SLUG / f"{SLUG}.ipynb", as_version=4)
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n",
                           arg=[lab.CELLS, len(release.cells)], timeout=120_000)
    for i, cell in enumerate(release.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == EXERCISE:
            return i
    raise AssertionError(f"{EXERCISE} not in the release")


def _answer(page, index: int, source: str) -> None:
    editor = page.locator(lab.CELLS).nth(index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)
    page.wait_for_function("([sel, i, text]) => document.querySelectorAll(sel)[i].querySelector('.cm-content')"
                           ".textContent.includes(text)", arg=[lab.CELLS, index, source.splitlines()[0]])
    lab.save(page)


def test_each_student_fetches_answers_validates_and_submits(world, pages):
    """Each student, in their own browser session: Assignment List -> Fetch; open the notebook from
    the list; write an answer to Tehtävä 1.1; save; Validate (nbgrader runs the notebook in the
    student's server and reports); Submit. The three work side by side, as in a class; the
    exchange then holds three submissions."""
    step(__name__)
    for student, (code, _) in zip(world.students, ANSWERS):
        page = pages[student.name]
        _assignment_list(page)
        page.locator("#released_assignments_list").get_by_text(SLUG).first.wait_for()
        page.locator("#released_assignments_list").get_by_role("button", name="Fetch").first.click()
        page.locator("#fetched_assignments_list").get_by_text(SLUG).first.wait_for()
        assert (student.home / SLUG / f"{SLUG}.ipynb").is_file()
        index = _open_fetched_notebook(page)
        _answer(page, index, f"{_marker(student)}\n{code}\ncustomer_counts")
        saved = nbformat.read(student.home / SLUG / f"{SLUG}.ipynb", as_version=4)
        assert _marker(student) in saved.cells[index].source
    for student in world.students:  # back to the Assignments tab: everyone validates at once
        page = pages[student.name]
        page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()
        page.locator("#fetched_assignments_list").get_by_role("button", name="Validate").first.click()
    for student in world.students:
        page = pages[student.name]
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=240_000)
        report = dialog.locator(".jp-Dialog-body").inner_text()
        # the other exercises are still stubs: validation reports them, and names no crash
        assert "error running the validate command" not in report, report
        if student is world.students[0]:
            _shot(page, "student-validated")
        dialog.get_by_role("button", name="Ok").click()
        page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").first.click()
        page.locator("#submitted_assignments_list .list_item").first.wait_for()
    inbound = Path(world.settings.exchange_root) / world.settings.course_id / "inbound"
    submitted = sorted(p.name.split("+")[0] for p in inbound.iterdir())
    assert submitted == sorted(s.name for s in world.students)


def test_teacher_collects_autogrades_and_releases_feedback(world, pages):
    """As the teacher: nbgrader collect; crmkit autograde (sandboxed, into the gradebook);
    crmkit feedback; nbgrader release_feedback. Scores follow the answers; the Formgrader's
    students page lists the three students."""
    step(__name__)
    teacher = world.teacher
    world.check(teacher, "nbgrader", "collect", SLUG)
    out = world.check(teacher, "crmkit", "autograde", SLUG, "--no-progress")
    status = json.loads((Path(world.settings.course_dir) / "grading" / "status" / f"{SLUG}.json").read_text())
    for student, (_, right) in zip(world.students, ANSWERS):
        entry = status[student.name]
        assert entry["status"] in ("graded", "awaiting manual grading"), (student.name, entry, out)
        assert entry["score"] == (1 if right else 0), (student.name, entry)
    world.check(teacher, "crmkit", "feedback", SLUG)
    world.check(teacher, "nbgrader", "release_feedback", SLUG)
    page = pages[teacher.name]
    page.goto(f"{world.url}/user/{teacher.name}/formgrader/manage_students")
    page.wait_for_load_state("networkidle")
    _shot(page, "teacher-formgrader-students")
    for student, (_, right) in zip(world.students, ANSWERS):
        row = page.locator("tr", has=page.locator("td", has_text=re.compile(f"^{re.escape(student.name)}$")))
        row.first.wait_for()
        assert re.search(rf"\b{1 if right else 0} / 20\b", row.first.inner_text()), row.first.inner_text()


def test_each_student_sees_their_own_feedback(world, pages):
    """Each student: Assignment List -> Fetch Feedback -> (view feedback); the feedback page shows
    their own answer (their marker, not another student's) and their score, no hidden test."""
    step(__name__)
    for student, (code, right) in zip(world.students, ANSWERS):
        page = pages[student.name]
        page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()
        page.locator("#refresh_assignments_list").click()
        submitted = page.locator("#submitted_assignments_list")
        submitted.get_by_role("button", name="Fetch Feedback").first.click()
        submitted.get_by_text("(view feedback)").first.wait_for()
        feedback = sorted((student.home / SLUG / "feedback").glob(f"*/{SLUG}.html"))
        assert len(feedback) == 1, feedback
        rel = feedback[0].relative_to(student.home).as_posix()
        page.goto(f"{world.url}/user/{student.name}/files/{rel}")
        page.get_by_text(_marker(student)).first.wait_for()
        _shot(page, f"feedback-{student.name.split('-')[-1]}")
        text = page.locator("body").inner_text()
        for other in world.students:
            if other is not student:
                assert _marker(other) not in text, f"{student.name} sees {other.name}'s answer"
        assert "BEGIN HIDDEN TESTS" not in text
        score = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
        assert score, text[:500]
        assert float(score.group(1)) == (1.0 if right else 0.0), (student.name, score.group(0))


def test_a_student_cannot_read_what_is_not_theirs(world):
    """Checked as each student's Linux user: another student's home (their work, their submission
    cache) cannot be listed or read; the exchange's inbound cannot be listed (submissions are kept
    apart by unguessable names, as nbgrader designs it); the course directory (solutions, grading,
    the gradebook) cannot be entered. The teacher can read all of the course directory."""
    step(__name__)
    course = Path(world.settings.course_dir)
    inbound = Path(world.settings.exchange_root) / world.settings.course_id / "inbound"
    secret_paths = [course / "solutions" / SLUG / f"{SLUG}.ipynb", course / "grading" / "gradebook.db",
                    course / "grading" / "submitted", course / "nbgrader_config.py"]
    for p in secret_paths:
        assert p.exists(), p
    for student in world.students:
        for other in world.students:
            if other is student:
                continue
            for target in (other.home, other.home / SLUG / f"{SLUG}.ipynb", other.home / ".local"):
                proc = world.as_user(student, "cat" if target.suffix else "ls", str(target), cwd="/")
                assert proc.returncode != 0 and "Permission denied" in proc.stderr, \
                    f"{student.name} can read {target}: {proc.stdout[:200]}"
        proc = world.as_user(student, "ls", str(inbound), cwd="/")
        assert proc.returncode != 0 and "Permission denied" in proc.stderr, f"{student.name} lists inbound"
        for target in secret_paths:
            proc = world.as_user(student, "cat" if target.suffix else "ls", str(target), cwd="/")
            assert proc.returncode != 0 and "Permission denied" in proc.stderr, \
                f"{student.name} can read {target}: {proc.stdout[:200]}"
        # what a student may read: the released notebook, the data world
        world.check(student, "cat", str(Path(world.settings.data_dir) / "DATA.md"), cwd="/")
    for target in secret_paths:
        world.check(world.teacher, "cat" if target.suffix else "ls", str(target), cwd="/")
    # what the students' submissions are named: nbgrader's random suffix, not only the timestamp
    names = [p.name for p in inbound.iterdir()]
    assert all(re.search(r"\+[A-Za-z0-9_-]{8,}$", n) for n in names), names
