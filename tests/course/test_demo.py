"""`crmkit demo` on a temporary course copy with a fixture assignment (never the real grading/)."""

from __future__ import annotations

import hashlib

import nbfixtures as fx
import pytest
from repo import course_at

from crmkit import cli
from crmkit.engine import cells, nbg


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_demo_releases_runs_grades_and_is_idempotent(tmp_path, monkeypatch, capsys):
    course = fx.make_course(tmp_path, release=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.csv").write_text("customer_id\n", encoding="utf-8")  # data step: already there
    monkeypatch.setenv("CRMKIT_DATA_DIR", str(data))

    assert cli.main(["demo", "--course-dir", str(course), "--students", "0"]) == 0
    out = capsys.readouterr().out
    release = course_at(course).release_notebook(fx.SLUG)
    assert release.exists()
    released = _digest(release)
    assert "data world: already in" in out
    assert "2 cell(s) stopped at a stub's NotImplementedError" in out
    assert "cell 6 (t1_mediaani_testit)" in out and "cell 8 (t2_osuus)" in out
    assert "UNEXPECTED" not in out
    assert f"autograde {fx.SLUG} as demo_solution: 3 / 3 autograded points" in out
    assert (course / "grading" / "demo" / fx.SLUG / f"{fx.SLUG}.ipynb").exists()
    assert nbg.scores(course_at(course), fx.SLUG, "demo_solution").code_score == 3

    # again: the first submission is kept, the new one gets a timestamped id; notebooks/ unchanged
    first = _digest(course_at(course).submitted_notebook(fx.SLUG, "demo_solution"))
    assert cli.main(["demo", "--course-dir", str(course), "--students", "0"]) == 0
    out = capsys.readouterr().out
    assert "exists (kept); this run submits as demo_solution_" in out
    assert _digest(course_at(course).submitted_notebook(fx.SLUG, "demo_solution")) == first
    assert len(list((course / "grading" / "submitted").iterdir())) == 2
    assert _digest(release) == released

    # --force replaces the demo student's submission
    assert cli.main(["demo", "--course-dir", str(course), "--force", "--students", "0", fx.SLUG]) == 0
    assert "as demo_solution:" in capsys.readouterr().out
    assert len(list((course / "grading" / "submitted").iterdir())) == 2


def test_demo_rejects_unknown_assignments(tmp_path, capsys):
    course = fx.make_course(tmp_path, release=False)
    assert cli.main(["demo", "--course-dir", str(course), "ei_ole"]) == 2
    assert "unknown assignment(s): ei_ole" in capsys.readouterr().err


POLICY = fx.policy(settings='missing_counts_as = "zero"\nfailed_counts_as = "zero"\nignore_students = ["demo_*", "gate_*"]\n')


@pytest.mark.slow
def test_demo_small_class_end_to_end(tmp_path, monkeypatch, capsys):
    """`make test`'s small demo: 4 students (strong, typical, missing, corrupt), one assignment."""
    import json

    from repo import ROOT

    from crmkit.course import demo_class
    from crmkit.engine import feedback

    course = fx.make_course(tmp_path, release=False)
    (course / "grading").mkdir(exist_ok=True)
    (course / "grading" / "policy.toml").write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CRMKIT_DATA_DIR", str(ROOT / "data"))
    assert cli.main(["demo", "--course-dir", str(course), "--students", "4"]) == 0
    out = capsys.readouterr().out
    assert "simulated class: 4 students (1 strong, 1 typical, 1 missing, 1 corrupt)" in out
    status = json.loads((course / "grading" / "status" / f"{fx.SLUG}.json").read_text())
    assert status["opiskelija01"]["status"] == "graded"  # hand grade simulated
    assert status["opiskelija03"]["status"] == "missing"
    assert status["opiskelija04"]["status"] == "failed" and "JSON-virhe" in status["opiskelija04"]["reason"]
    strong = nbg.scores(course_at(course), fx.SLUG, "opiskelija01")
    assert strong.code_score == 3 and strong.score >= 4  # full autograde + a simulated hand grade
    grades = (course / "grading" / "final_grades.csv").read_text()
    assert "opiskelija01" in grades and "opiskelija04" in grades
    assert (course / "grading" / "moodle.csv").exists() and (course / "grading" / "reports" / "class.html").exists()
    lines = cells.hidden_lines(cells.read(course_at(course).source_notebook(fx.SLUG)))
    pages = list((course / "grading" / "feedback").glob(f"opiskelija*/{fx.SLUG}/*.html"))
    assert len(pages) == 3 and not any(feedback.leaks(p.read_text(), lines) for p in pages)
    # the class page has the week's mistakes section (its ranking is proven in tests/engine/grades/test_mistakes.py)
    report = (course / "grading" / "reports" / "class.html").read_text(encoding="utf-8")
    assert f"Yleisimmät virheet / most common mistakes: {fx.SLUG}" in report
    digest = demo_class.class_digest(course_at(course), fx.SLUG)
    # again: the same class (deterministic), nothing regraded
    assert cli.main(["demo", "--course-dir", str(course), "--students", "4"]) == 0
    assert "0 graded now, 3 unchanged" in capsys.readouterr().out
    assert demo_class.class_digest(course_at(course), fx.SLUG) == digest
