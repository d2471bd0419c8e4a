"""crmkit autograde / feedback / sandbox on a small fixture course (tests/nbfixtures.py).

One class of submissions is graded once per module (parallel, sandboxed) and once by serial
`nbgrader autograde` in a second copy; the tests read both.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import nbfixtures as fx
import nbformat
import pytest
from repo import course_at

from crmkit import cli
from crmkit.course import authoring as a
from crmkit.engine import cells, feedback, nbg
from crmkit.engine import status as status_file
from crmkit.engine.autograde import batch as ag
from crmkit.engine.autograde.sandbox import Limits, run_sandboxed, sandbox_available

pytestmark = pytest.mark.slow

LIMITS = Limits(cell_timeout=20, notebook_timeout=120, memory_mb=1024)
NEEDS_SANDBOX = pytest.mark.skipif(not sandbox_available()[0], reason=f"no sandbox: {sandbox_available()[1]}")


def _answers(nb, **sources):
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        gid = cells.grade_meta(c).get("grade_id")
        if gid in sources:
            c.source = sources[gid]
    return nb


def _class(course: Path) -> dict[str, bytes]:
    """Normal students (whose scores serial nbgrader must reproduce) and problem students."""
    release = cells.read(course_at(course).release_notebook(fx.SLUG))
    from crmkit.course.demo_class import _solved

    solved = {"t1_mediaani": _solved(fx.ANSWER_1),
              "t2_osuus": "osuus = 3 / 12"}
    good = _answers(release, **solved)
    half = _answers(release, t2_osuus="osuus = 3 / 12")
    wrong = _answers(release, **{**solved, "t2_osuus": "osuus = 12 / 3"})
    loop = _answers(release, **{**solved, "t2_osuus": "while True:\n    pass"})
    memory = _answers(release, **{**solved, "t2_osuus": "x = bytearray(3 * 1024 ** 3)\nosuus = 0.25"})
    deleted = copy.deepcopy(good)
    deleted.cells = [c for c in deleted.cells if cells.grade_meta(c).get("grade_id") != "t2_osuus_testit"]
    from repo import ROOT

    secret = [str(course / "solutions"), str(course / "grading" / "gradebook.db"), str(course / "grading" / "submitted"),
              str(ROOT / "solutions"), str(ROOT / "grading")]
    spy = _answers(release, **{**solved, "t2_osuus": (
        f"import os\nleak = [p for p in {secret!r} if os.path.exists(p)]\nosuus = 0.25 if not leak else 99")})
    w = lambda nb: nbformat.writes(nb).encode()  # noqa: E731
    return {"s_good": w(good), "s_half": w(half), "s_wrong": w(wrong), "s_blank": w(release), "s_spy": w(spy),
            "x_loop": w(loop), "x_memory": w(memory), "x_deleted": w(deleted),
            "x_corrupt": b'{\n "cells": [\n  {"cell_type": \n'}


NORMAL = ["s_blank", "s_good", "s_half", "s_wrong"]


def _submit(course: Path, students: dict[str, bytes]) -> None:
    for s, data in students.items():
        p = course_at(course).submitted_notebook(fx.SLUG, s)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        (p.parent / "timestamp.txt").write_text("2026-03-02 12:00:00.000000 UTC\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded by `crmkit autograde --jobs 2` (course) and serial nbgrader (serial)."""
    base = tmp_path_factory.mktemp("ag")
    course = fx.make_course(base / "a")
    students = _class(course)
    _submit(course, students)
    outcomes = {o.student: o for o in ag.autograde(course_at(course), fx.SLUG, jobs=2, limits=LIMITS, progress=False)}
    serial = fx.make_course(base / "b")
    _submit(serial, {s: students[s] for s in NORMAL})
    nbg.autograde(course_at(serial), fx.SLUG, None)
    return course, serial, outcomes


def test_parallel_scores_equal_serial_nbgrader(graded):
    course, serial, outcomes = graded
    for s in NORMAL:
        mine, theirs = nbg.scores(course_at(course), fx.SLUG, s), nbg.scores(course_at(serial), fx.SLUG, s)
        assert [(c.name, c.score) for c in mine.cells] == [(c.name, c.score) for c in theirs.cells], s
        assert mine.code_score == theirs.code_score
    assert [nbg.scores(course_at(course), fx.SLUG, s).code_score for s in NORMAL] == [0, 3, 1, 2]
    # nobody wrote the free-text answer: nbgrader gives an unchanged answer 0 itself, nothing waits
    assert {outcomes[s].status for s in NORMAL} == {status_file.GRADED}


def test_problem_submissions_get_their_own_status(graded):
    course, _, out = graded
    assert out["x_loop"].status == status_file.FAILED and "aikaraja ylittyi solussa 8 (t2_osuus) (20 s)" in out["x_loop"].reason
    assert out["x_memory"].status == status_file.FAILED and "muistiraja 1 GB ylittyi solussa 8" in out["x_memory"].reason
    assert out["x_deleted"].status == status_file.FAILED and out["x_deleted"].reason == "testisolu t2_osuus_testit poistettu"
    assert out["x_corrupt"].status == status_file.FAILED
    assert out["x_corrupt"].reason == "tiedosto ei ole kelvollinen muistikirja (JSON-virhe rivillä 4)"
    # the loop and the memory bomb did not cost the rest of their notebook
    assert nbg.scores(course_at(course), fx.SLUG, "x_loop").code_score == 2
    status = json.loads(course_at(course).status_file(fx.SLUG).read_text())
    assert status["x_corrupt"]["status"] == "failed" and status["s_good"]["status"] == status_file.GRADED
    from crmkit.engine.grades import gradebook

    assert gradebook.read(course_at(course), [fx.SLUG]).result("x_loop", fx.SLUG).status == gradebook.FAILED
    # nothing lost: the submissions are untouched, the gradebook was backed up
    assert course_at(course).submitted_notebook(fx.SLUG, "x_corrupt").read_bytes().startswith(b'{\n "cells"')
    assert list((course / "grading" / "backups").glob("gradebook-*.db"))


@NEEDS_SANDBOX
def test_sandboxed_kernel_saw_no_solutions_or_gradebook(graded):
    course, _, out = graded
    assert out["s_spy"].status == status_file.GRADED
    assert nbg.scores(course_at(course), fx.SLUG, "s_spy").code_score == 3  # it found nothing to leak


def test_rerun_is_idempotent_and_resumes(graded, capsys):
    course, _, first = graded
    before = json.loads(course_at(course).status_file(fx.SLUG).read_text())
    again = {o.student: o for o in ag.autograde(course_at(course), fx.SLUG, jobs=2, limits=LIMITS, progress=False)}
    assert all(o.skipped for o in again.values())
    assert {s: o.status for s, o in again.items()} == {s: o.status for s, o in first.items()}
    # an interrupted batch: one student's entry is lost -> only that student is graded again
    status = json.loads(course_at(course).status_file(fx.SLUG).read_text())
    del status["s_half"]
    status_file.write(course_at(course).status_file(fx.SLUG), status)
    third = {o.student: o for o in ag.autograde(course_at(course), fx.SLUG, jobs=1, limits=LIMITS, progress=False)}
    assert [s for s, o in third.items() if not o.skipped] == ["s_half"]
    assert third["s_half"].score == first["s_half"].score
    after = json.loads(course_at(course).status_file(fx.SLUG).read_text())
    assert {s: e["status"] for s, e in after.items()} == {s: e["status"] for s, e in before.items()}


def test_feedback_never_shows_hidden_tests(graded):
    course, serial, _ = graded
    lines = cells.hidden_lines(cells.read(course_at(course).source_notebook(fx.SLUG)))
    assert "assert mediaani([5]) == 5.0" in lines
    # plain nbgrader leaks them (this is what the kit fixes)
    nbg.run(course_at(serial), ["generate_feedback", fx.SLUG, "--force"])
    plain = (serial / "grading" / "feedback" / "s_wrong" / fx.SLUG / f"{fx.SLUG}.html").read_text()
    assert feedback.leaks(plain, lines)
    assert cli.main(["feedback", fx.SLUG, "--course-dir", str(course)]) == 0
    pages = list((course / "grading" / "feedback").glob(f"*/{fx.SLUG}/*.html"))
    assert len(pages) == 9
    for page in pages:
        text = page.read_text()
        assert not feedback.leaks(text, lines), page
        assert "HIDDEN TESTS" not in text
    wrong = feedback.page_text((course / "grading" / "feedback" / "s_wrong" / fx.SLUG / f"{fx.SLUG}.html").read_text())
    assert "väärin päin" in wrong  # the visible test's message is kept
    corrupt = feedback.page_text((course / "grading" / "feedback" / "x_corrupt" / fx.SLUG / f"{fx.SLUG}.html").read_text())
    assert "JSON-virhe rivillä 4" in corrupt and "Palautustasi ei voitu arvioida" in corrupt
    loop = feedback.page_text((course / "grading" / "feedback" / "x_loop" / fx.SLUG / f"{fx.SLUG}.html").read_text())
    assert "aikaraja ylittyi" in loop


@NEEDS_SANDBOX
def test_sandbox_denies_reading_writing_and_network(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    secret = tmp_path / "course" / "solutions" / "x.txt"
    secret.parent.mkdir(parents=True)
    secret.write_text("salainen")
    from repo import ROOT

    code = f"""
import os, socket
def tries(f):
    try:
        f(); return "yes"
    except Exception as e:
        return type(e).__name__
print("read_course", tries(lambda: open({str(secret)!r}).read()))
print("read_repo_solutions", tries(lambda: os.listdir({str(ROOT / 'solutions')!r})))
print("read_repo_grading", tries(lambda: os.listdir({str(ROOT / 'grading')!r})))
print("write_outside", tries(lambda: open({str(ROOT / 'crmkit' / 'x.txt')!r}, "w")))
print("write_tmp", tries(lambda: open("/var/tmp/x", "w").write("x")))
print("write_scratch", tries(lambda: open({str(scratch / 'ok.txt')!r}, "w").write("x")))
print("network", tries(lambda: socket.create_connection(("1.1.1.1", 53), timeout=3)))
print("import_crmkit", tries(lambda: __import__("crmkit.runtime.lesson")))
"""
    r = run_sandboxed(code, str(scratch), hide=[str(tmp_path / "course"), str(ROOT)], expose=[str(ROOT / "data")])
    got = dict(line.split() for line in r.stdout.split("\n") if line.strip())
    assert got["read_course"] in ("FileNotFoundError", "PermissionError"), r.stderr
    assert got["read_repo_solutions"] == "FileNotFoundError" and got["read_repo_grading"] == "FileNotFoundError"
    assert got["write_outside"] != "yes" and got["write_tmp"] != "yes"
    assert got["write_scratch"] == "yes" and (scratch / "ok.txt").exists()
    assert got["network"] == "OSError"
    assert got["import_crmkit"] == "yes"


@NEEDS_SANDBOX
def test_sandbox_puts_back_a_linked_data_folder_where_the_notebook_looks(tmp_path):
    """A course whose data/ is a symbolic link to a shared folder: the sandbox binds the link's
    target at the link's own path (the course folder itself stays hidden)."""
    from repo import ROOT

    scratch, course = tmp_path / "scratch", tmp_path / "course"
    scratch.mkdir()
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "x.txt").write_text("salainen")
    (course / "data").symlink_to(ROOT / "data", target_is_directory=True)
    code = f"""
import os
print("data", sorted(os.listdir({str(course / 'data')!r}))[:1] != [])
print("solutions", os.path.exists({str(course / 'solutions' / 'x.txt')!r}))
"""
    r = run_sandboxed(code, str(scratch), hide=[str(course), str(ROOT)], expose=[str(course / "data")])
    got = dict(line.split() for line in r.stdout.split("\n") if line.strip())
    assert got == {"data": "True", "solutions": "False"}, (r.stdout, r.stderr)


def test_no_sandbox_warns_loudly(capsys):
    from crmkit.engine.autograde.sandbox import warn_no_sandbox

    warn_no_sandbox("bubblewrap is not installed")
    err = capsys.readouterr().err
    assert "NO SANDBOX" in err and "resource limits only" in err


def test_feedback_leak_check_ignores_a_visible_line_that_contains_a_hidden_one():
    hidden = {'_opp = pd.read_sql("SELECT * FROM opportunities", _wc)'}
    public = {'_opp = pd.read_sql("SELECT * FROM opportunities", _wc).set_index("opportunity_id")'}
    page = "<pre>" + next(iter(public)) + "</pre>"
    assert feedback.leaks(page, hidden, public) == []
    assert feedback.leaks(page, hidden) == sorted(hidden)  # without the notebook's visible lines: flagged
    assert feedback.leaks("<pre>" + next(iter(hidden)) + "</pre>", hidden, public) == sorted(hidden)
    assert feedback.leaks("<pre>x = 1; " + next(iter(hidden)) + "</pre>", hidden, set()) == sorted(hidden)


PLANT = """import os, subprocess, IPython
open("istutettu.txt", "w").write("A")
open(os.path.join(os.environ["HOME"], "istutettu.txt"), "w").write("A")
if os.access("/dev/shm", os.W_OK):
    open("/dev/shm/istutettu", "w").write("A")
subprocess.Popen(["sleep", "600"], start_new_session=True)
IPython.ISTUTETTU = 1
osuus = 3 / 12"""

PROBE = """import os, IPython
def _cmd(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
    except OSError:
        return ""
left = [name for name, found in [
    ("file", os.path.exists("istutettu.txt")),
    ("home", os.path.exists(os.path.join(os.environ["HOME"], "istutettu.txt"))),
    ("shm", os.path.exists("/dev/shm/istutettu")),
    ("process", any("sleep 600" in _cmd(p) for p in os.listdir("/proc") if p.isdigit())),
    ("module", hasattr(IPython, "ISTUTETTU")),
    ("not forked", "crmkit.engine.autograde.kernelpool" not in _cmd(os.getppid()))] if found]
osuus = 3 / 12 if not left else 99"""


@NEEDS_SANDBOX
def test_warm_kernels_leave_nothing_to_the_next_student(tmp_path):
    """One worker grades two students with kernels forked from the same zygote: what the first one
    leaves behind (files, a background process, module state) is gone for the second."""
    course = fx.make_course(tmp_path / "c")
    release = cells.read(course_at(course).release_notebook(fx.SLUG))
    from crmkit.course.demo_class import _solved

    w = lambda nb: nbformat.writes(nb).encode()  # noqa: E731
    plant = _answers(release, t1_mediaani=_solved(fx.ANSWER_1), t2_osuus=PLANT)
    probe = _answers(release, t1_mediaani=_solved(fx.ANSWER_1), t2_osuus=PROBE)
    _submit(course, {"s_plant": w(plant), "s_probe": w(probe)})
    out = {o.student: o for o in ag.autograde(course_at(course), fx.SLUG, jobs=1, limits=LIMITS, progress=False)}
    assert out["s_plant"].status == out["s_probe"].status == status_file.GRADED, out
    assert nbg.scores(course_at(course), fx.SLUG, "s_plant").code_score == 3
    probed = cells.read(course_at(course).autograded_notebook(fx.SLUG, "s_probe"))
    assert nbg.scores(course_at(course), fx.SLUG, "s_probe").code_score == 3, [c.outputs for c in probed.cells if c.outputs]
    # the batch cleaned up after itself: no slot folder, no zygote left running
    assert not (course / "grading" / ".sandbox").exists()
    running = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            running.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    assert not [cmd for cmd in running if str(course) in cmd]  # no sandbox of this course is left


def test_feedback_exporter_matches_nbconvert_without_its_slow_pass():
    """The feedback exporter skips nbconvert's BeautifulSoup pass but keeps its result: the same
    text, alt text on every image, the same focusable areas."""
    import base64
    import re

    from nbconvert import HTMLExporter

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Otsikko\n\n![kaavio](data:image/png;base64," + png + ") <b>lihava</b>"),
        nbformat.v4.new_code_cell("x = '<img src=x>' < 3", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="<div class=\"jp-Cell-inputWrapper\">\n"),
            nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
            nbformat.v4.new_output("execute_result", data={"text/html": "<table><tr><td>1</td></tr></table>"},
                                   execution_count=1)]),
    ])
    theirs, _ = HTMLExporter().from_notebook_node(nb)
    mine, _ = feedback.FeedbackHTMLExporter().from_notebook_node(nb)
    assert feedback.page_text(mine).split() == feedback.page_text(theirs).split()
    assert mine.count('tabindex="0"') == theirs.count('tabindex="0"') == 5  # 2 inputs, 3 outputs
    assert not re.search(r"<img(?![^>]*\balt=)", mine)
    assert mine.count(f'alt="{feedback.NO_ALT}"') == theirs.count(f'alt="{feedback.NO_ALT}"') == 1
    assert 'alt="kaavio"' in mine


def test_cli_grades_several_assignments_in_one_batch(tmp_path, capsys):
    """`crmkit autograde A B`: one batch, a status file and a score per assignment."""
    course = fx.make_course(tmp_path, release=False)
    other = f"{fx.SLUG}_b"
    fx.make_course(tmp_path, slug=other, release=False)  # the same course folder, a second assignment
    nbg.generate_many(course_at(course), [fx.SLUG, other])
    for slug in (fx.SLUG, other):
        nbg.submit(course_at(course), slug, "s1", course_at(course).source_notebook(slug))
    argv = ["autograde", fx.SLUG, other, "--jobs", "2", "--timeout", "20", "--no-progress", "--course-dir", str(course)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    for slug in (fx.SLUG, other):
        assert f"{slug}:" in out and str(course_at(course).status_file(slug)) in out
        # the solution's free-text answer waits for the teacher
        assert json.loads(course_at(course).status_file(slug).read_text())["s1"]["status"] == status_file.PENDING
        assert nbg.scores(course_at(course), slug, "s1").code_score == 3
    assert cli.main(["autograde", fx.SLUG, "ei_ole", "--course-dir", str(course)]) == 2
    assert "unknown assignment 'ei_ole'" in capsys.readouterr().err


def test_a_check_the_data_cannot_support_is_left_to_the_teacher(tmp_path):
    """A test cell that calls skip_check (the data lacks what it needs) is no free points: it is
    scored 0, marked for hand grading in Formgrader, and the status says why."""
    cells_ = fx.good_cells()
    cells_[8] = a.tests("t2_osuus_testit", 'from crmkit.runtime.lesson import skip_check\n'
                        'if osuus is not None:\n    skip_check("kuluttaja-asiakkaita (B2C)")\n'
                        "### BEGIN HIDDEN TESTS\nassert abs(osuus - 0.25) < 1e-9\n### END HIDDEN TESTS",
                        points=1, outcomes=["A2"], level="1-2")
    course = fx.make_course(tmp_path, cells_)
    nbg.submit(course_at(course), fx.SLUG, "s1", course_at(course).source_notebook(fx.SLUG))
    [outcome] = ag.autograde(course_at(course), fx.SLUG, jobs=1, limits=LIMITS, progress=False)
    assert outcome.status == status_file.PENDING
    assert "aineisto ei riitä tarkistukseen, arvioi käsin: t2_osuus_testit" in outcome.reason
    skipped = next(c for c in nbg.scores(course_at(course), fx.SLUG, "s1").cells if c.name == "t2_osuus_testit")
    assert skipped.score == 0 and skipped.needs_manual_grade
