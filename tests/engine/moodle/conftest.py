"""Shared fixtures of the Moodle tests: the Moodle files of tests/fixtures/moodle/make_moodle_fixtures.py."""

from __future__ import annotations

import sys

import pytest
from repo import ROOT

sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "moodle"))
import make_moodle_fixtures as mf  # noqa: E402

#: a stand-in release for the tests that only read Moodle's files (the graded cells of the fixture lesson)
RELEASE = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "code", "id": gid, "metadata": {"nbgrader": {"grade_id": gid, "solution": True}},
     "source": "raise NotImplementedError()", "outputs": [], "execution_count": None}
    for gid in ("t1_mediaani", "t2_osuus")]}


@pytest.fixture(scope="session")
def moodle_files(tmp_path_factory):
    """The fixture zips and worksheets, made from the stand-in release (no nbgrader needed)."""
    return mf.write(tmp_path_factory.mktemp("moodle-files"), RELEASE)
