"""`crmkit demo` on a temporary course copy with a fixture assignment (never the real grading/)."""

from __future__ import annotations

import hashlib

import pytest

import nbfixtures as fx
from crmkit import cli, nbg


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_demo_releases_runs_grades_and_is_idempotent(tmp_path, monkeypatch, capsys):
    course = fx.make_course(tmp_path, release=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.csv").write_text("customer_id\n", encoding="utf-8")  # data step: already there
    monkeypatch.setenv("CRMKIT_DATA_DIR", str(data))

    assert cli.main(["demo", "--root", str(course)]) == 0
    out = capsys.readouterr().out
    release = nbg.release_notebook(fx.SLUG, course)
    assert release.exists()
    released = _digest(release)
    assert "data world: already in" in out
    assert "2 cell(s) stopped at a stub's NotImplementedError" in out
    assert "cell 6 (t1_mediaani_testit)" in out and "cell 8 (t2_osuus)" in out
    assert "UNEXPECTED" not in out
    assert f"autograde {fx.SLUG} as demo_solution: 3 / 3 autograded points" in out
    assert (course / "grading" / "demo" / fx.SLUG / f"{fx.SLUG}.ipynb").exists()
    assert nbg.scores(fx.SLUG, "demo_solution", course).code_score == 3

    # again: the first submission is kept, the new one gets a timestamped id; notebooks/ unchanged
    first = _digest(nbg.submitted_notebook(fx.SLUG, "demo_solution", course))
    assert cli.main(["demo", "--root", str(course)]) == 0
    out = capsys.readouterr().out
    assert "exists (kept); this run submits as demo_solution_" in out
    assert _digest(nbg.submitted_notebook(fx.SLUG, "demo_solution", course)) == first
    assert len(list((course / "grading" / "submitted").iterdir())) == 2
    assert _digest(release) == released

    # --force replaces the demo student's submission
    assert cli.main(["demo", "--root", str(course), "--force", fx.SLUG]) == 0
    assert "as demo_solution:" in capsys.readouterr().out
    assert len(list((course / "grading" / "submitted").iterdir())) == 2


def test_demo_rejects_unknown_assignments(tmp_path, capsys):
    course = fx.make_course(tmp_path, release=False)
    assert cli.main(["demo", "--root", str(course), "ei_ole"]) == 2
    assert "Unknown assignment" in capsys.readouterr().out
