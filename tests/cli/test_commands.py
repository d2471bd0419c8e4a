"""The small subcommands: env, release, lab (argument handling; lab is not started)."""

from __future__ import annotations

import argparse
import os
import shlex

import pandas as pd
from repo import ROOT

from crmkit import cli
from crmkit.cli.commands import lab
from crmkit.engine.jupyter_env import jupyter_state_env
from crmkit.runtime.data import data_today


def test_env_prints_every_variable_as_an_export(capsys):
    assert cli.main(["env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    exported = dict(shlex.split(line)[1].split("=", 1) for line in lines)
    assert set(exported) == set(jupyter_state_env())
    assert all(exported[k] == os.environ[k] for k in exported)  # the session's temporary folder


def test_lab_command_line(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cmd = lab.command(argparse.Namespace(port=9123, no_browser=True), "/kurssi")
    assert cmd[1:3] == ["-m", "jupyterlab"] and "--port=9123" in cmd and "--no-browser" in cmd
    assert "--ServerApp.root_dir=/kurssi" in cmd
    assert "--allow-root" in cmd
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-root" not in lab.command(argparse.Namespace(port=None, no_browser=False), "/kurssi")


def test_release_rejects_unknown_assignments(capsys):
    """An error goes to stderr as one line naming the command, with exit status 2; nothing on stdout."""
    assert cli.main(["release", "ei_ole_olemassa", "--course-dir", str(ROOT)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("crmkit release: unknown assignment(s): ei_ole_olemassa")


def test_the_course_is_found_from_the_working_folder_upward(monkeypatch, capsys, tmp_path):
    """As nbgrader finds it: the nearest nbgrader_config.py from the working folder; none is a clear error."""
    monkeypatch.chdir(ROOT / "notebooks" / "00_aloitus")
    assert cli.main(["release", "ei_ole_olemassa"]) == 2
    assert "solutions/ has: 00_aloitus" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert cli.main(["release"]) == 2
    assert "no nbgrader_config.py in" in capsys.readouterr().err


def test_data_moves_a_world_by_whole_years(tmp_path, capsys):
    out = tmp_path / "siirretty"
    assert cli.main(["data", "--seed", "7", "--scale", "0.1", "--shift-years", "2", "--out", str(out)]) == 0
    assert "moved +2 years" in capsys.readouterr().out
    assert data_today(out) == data_today() + pd.DateOffset(years=2)
