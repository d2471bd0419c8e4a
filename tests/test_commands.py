"""The small subcommands: env, release, lab (argument handling; lab is not started)."""

from __future__ import annotations

import argparse
import os
import shlex

from crmkit import cli
from crmkit.commands import lab
from crmkit.env import jupyter_state_env


def test_env_prints_every_variable_as_an_export(capsys):
    assert cli.main(["env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    exported = dict(shlex.split(line)[1].split("=", 1) for line in lines)
    assert set(exported) == set(jupyter_state_env())
    assert all(exported[k] == os.environ[k] for k in exported)  # the session's temporary folder


def test_lab_command_line(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cmd = lab.command(argparse.Namespace(port=9123, no_browser=True))
    assert cmd[1:3] == ["-m", "jupyterlab"] and "--port=9123" in cmd and "--no-browser" in cmd
    assert "--allow-root" in cmd
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-root" not in lab.command(argparse.Namespace(port=None, no_browser=False))


def test_release_rejects_unknown_assignments(capsys):
    assert cli.main(["release", "ei_ole_olemassa"]) == 2
    assert "Unknown assignment" in capsys.readouterr().out
