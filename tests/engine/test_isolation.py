"""Jupyter, IPython, matplotlib and nbgrader never write outside the repository or a temp folder."""

from __future__ import annotations

import os

import nbfixtures as fx
import pytest
from repo import course_at

from crmkit.engine import nbg
from crmkit.engine.jupyter_env import jupyter_state_env


def test_session_state_is_in_a_temporary_folder(jupyter_state):
    for key, value in jupyter_state_env(jupyter_state).items():
        assert os.environ[key] == value


@pytest.mark.slow
def test_real_nbgrader_run_writes_nothing_to_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(var, raising=False)
    course = fx.make_course(tmp_path / "kurssi")  # generate_assignment
    nbg.submit(course_at(course), fx.SLUG, "opiskelija", course_at(course).source_notebook(fx.SLUG))
    nbg.autograde(course_at(course), fx.SLUG, "opiskelija")  # starts a kernel: IPython, pandas, seaborn, matplotlib
    assert nbg.scores(course_at(course), fx.SLUG, "opiskelija").code_score == 3
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    assert not (course / ".nbgrader.log").exists()


@pytest.mark.slow
def test_plots_show_inline_in_a_kernel_started_by_the_kit():
    """MPLBACKEND must stay unset: with e.g. Agg, ipykernel shows no plot at all."""
    from nbclient import NotebookClient

    from crmkit.course import authoring as a

    assert "MPLBACKEND" not in jupyter_state_env()
    nb = a.notebook([a.code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]);")])
    NotebookClient(nb, kernel_name="python3", timeout=60).execute()
    assert any("image/png" in o.get("data", {}) for o in nb.cells[0].outputs)
