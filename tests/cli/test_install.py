"""A non-editable install grades a course from the course's own folder (DESIGN §2).

The kit is built as a wheel and installed (not editable) into a fresh virtual environment; its
third-party packages come from this test run's environment through a ``.pth`` line (the kit's own
editable install there is not seen: a ``.pth`` line adds a folder, it does not run that folder's
``.pth`` files). A copy of the course elsewhere, with no ``crmkit/`` folder in it, is then released
and autograded by the installed ``crmkit`` run in the copy: the course is the one nbgrader's
``nbgrader_config.py`` marks from the working folder, never the folder the package came from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from crmkit.engine.autograde.sandbox import sandbox_available
from repo import ROOT

SLUG = "00_aloitus"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh environment's bin/, its environment variables) with the kit installed from a wheel."""
    tmp = tmp_path_factory.mktemp("install")
    source, wheels = tmp / "source", tmp / "wheels"  # built from a copy: the checkout gets no build/ folder
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    shutil.copytree(ROOT / "crmkit", source / "crmkit", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(wheels), str(source)], check=True)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "course-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next(wheels.glob("crmkit-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--target", str(site), str(wheel)], check=True)
    # the dependencies' scripts (nbgrader runs `alembic` by name) after the fresh environment's own
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    (venv / "bin" / "crmkit").write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom crmkit.cli import main\n"
                                         "sys.exit(main())\n", encoding="utf-8")
    (venv / "bin" / "crmkit").chmod(0o755)
    return venv / "bin", env


def test_the_installed_package_is_not_the_checkout(installed):
    bindir, env = installed
    where = subprocess.run([str(bindir / "python"), "-c", "import crmkit; print(crmkit.__file__)"], cwd="/",
                           capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert not where.startswith(str(ROOT)) and "site-packages" in where


@pytest.mark.slow
def test_a_non_editable_install_grades_a_course_from_its_own_folder(installed, tmp_path):
    bindir, env = installed
    course = tmp_path / "toinen kurssi"  # a space, as in a teacher's folder name
    (course / "solutions").mkdir(parents=True)
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / SLUG, course / "solutions" / SLUG)
    shutil.copytree(ROOT / "data", course / "data", ignore=shutil.ignore_patterns("crm.sqlite", "raw", "cdnow"))
    submitted = course / "grading" / "submitted" / "s1" / SLUG
    submitted.mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / SLUG / f"{SLUG}.ipynb", submitted / f"{SLUG}.ipynb")
    work = course / "solutions" / SLUG  # any folder inside the course will do
    crmkit = str(bindir / "crmkit")
    for argv in ([crmkit, "release", SLUG], [crmkit, "autograde", SLUG, "--jobs", "1", "--no-progress"]):
        proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    status = json.loads((course / "grading" / "status" / f"{SLUG}.json").read_text(encoding="utf-8"))
    assert status["s1"]["status"] in ("graded", "awaiting manual grading"), status
    assert (course / "grading" / "autograded" / "s1" / SLUG / f"{SLUG}.ipynb").exists()
    assert not (ROOT / "grading" / "status" / "s1").exists()
    if sandbox_available()[0]:
        assert "sandbox: bubblewrap" in proc.stdout
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "grading" / "gradebook.db"), course_id="cus4lh102") as gb:
        sub = gb.find_submission(SLUG, "s1")
        assert sub.code_score == sub.max_code_score > 0
