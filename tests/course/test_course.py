"""course/: the guides exist and name the real commands, links resolve, and the learning-outcome
matrix in course/osaamistavoitteet.md equals a fresh generation from the notebooks' metadata with
evidence for every outcome A1–B7 (crmkit.course)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from repo import ROOT, course_at

from crmkit import cli
from crmkit.course import authoring as a
from crmkit.course import matrix as course

COURSE = ROOT / "course"

#: every document of course/ and what it must mention (the real commands, files and terms)
DOCUMENTS = {
    "README.md": ["opintojakso.md", "osaamistavoitteet.md", "aikataulu.md", "opettajan-opas.md",
                  "opiskelijan-opas.md", "ahot-opas.md", "projekti-arviointi.md", "In English"],
    "opintojakso.md": ["Osa A", "Osa B", "Lähtötaso", "Työtavat", "20 %", "50 %", "30 %", "H–5",
                       "projekti", "tentti", "naytto"],
    "osaamistavoitteet.md": ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4", "B5", "B6", "B7",
                             "1–2", "3–4", "crmkit course", course.BEGIN, course.END],
    "aikataulu.md": ["00_aloitus", "09_strategia", "projekti", "tentti", "välitarkistus"],
    "opettajan-opas.md": ["crmkit release", "nbgrader release_assignment", "nbgrader collect",
                          "grading/submitted/", "crmkit autograde", "Formgrader", "make lab",
                          "crmkit feedback", "crmkit grades", "--moodle", "crmkit profile",
                          "crmkit report", "crmkit import", "DATA_DIR", "papermill",
                          "grading/policy.toml", "crmkit bundle", "crmkit course",
                          "awaiting manual grading", "failed", "crmkit moodle collect",
                          "crmkit moodle feedback", "--worksheet"],
    "opiskelijan-opas.md": ["JupyterHub", "Binder", "make setup", "make lab", "Validate",
                            "nbgrader validate", "Assignment List", "Moodle", "Restart Kernel"],
    "ahot-opas.md": ["naytto", "crmkit profile", "60 %", "osaamisprofiili", "hyväksilu"],
    "projekti-arviointi.md": ["Raporttiosio 1", "Raporttiosio 6", "| 1 |", "| 3 |", "| 5 |",
                              "DATA_DIR", "k4_1_tuloslaskelma_testit"],
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_exists_and_mentions_what_it_should(name):
    path = COURSE / name
    assert path.exists(), f"course/{name} is missing"
    text = path.read_text(encoding="utf-8")
    missing = [w for w in DOCUMENTS[name] if w not in text]
    assert not missing, f"course/{name} does not mention {missing}"


def test_teacher_guide_commands_exist():
    """Every `crmkit X` the guides name is a real subcommand."""
    named = set()
    for path in COURSE.glob("*.md"):
        named |= set(re.findall(r"`crmkit ([a-z]+)", path.read_text(encoding="utf-8")))
    unknown = named - set(cli.COMMANDS)
    assert not unknown, f"course/ names crmkit subcommands that do not exist: {sorted(unknown)}"


_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", sorted(COURSE.glob("*.md")), ids=lambda p: p.name)
def test_relative_links_resolve(path):
    broken = []
    for target in _LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        if not (path.parent / target.split("#", 1)[0]).exists():
            broken.append(target)
    assert not broken, f"course/{path.name}: links that do not resolve: {broken}"


def test_outcome_matrix_is_current_and_complete():
    problems = course.check(course_at(ROOT))
    assert not problems, "\n".join(problems) + "\n(run `crmkit course` and commit course/osaamistavoitteet.md)"


def test_every_graded_cell_is_in_the_matrix():
    text = (COURSE / "osaamistavoitteet.md").read_text(encoding="utf-8")
    matrix = text.split(course.BEGIN, 1)[1].split(course.END, 1)[0]
    for e in course.evidence(course_at(ROOT)):
        assert e.grade_id in matrix, f"{e.assignment}/{e.grade_id} is not in the matrix"
    for slug in course.notebooks(course_at(ROOT)):
        assert f"`{slug}`" in matrix, slug


def test_cli_check_passes():
    assert cli.main(["course", "--check", "--course-dir", str(ROOT)]) == 0


# --- proof that the check can fail (a small course in a temporary folder) -----------------------


def _notebook(root: Path, slug: str, outcomes: list[str], level: str = "3-4") -> None:
    cells = [a.markdown(f"# {slug}\n\n{a.TOTAL_PHRASE} 2"),
             a.answer("t1", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", outcomes, level),
             a.tests("t1_testit", 'assert x == 1, "x"\nprint("ok")', 1, outcomes, level),
             a.manual("t2_muistio", "Kirjoita.\n\n| arvosana | |\n| --- | --- |\n| 1 | a |", "Malli.", 1,
                      outcomes, "5")]
    a.write(cells, root / "solutions" / slug / f"{slug}.ipynb")


@pytest.fixture
def tiny(tmp_path):
    _notebook(tmp_path, "01_eka", ["A1", "A2", "A3", "A4", "A5", "B1"])
    _notebook(tmp_path, "projekti", ["B2", "B3", "B4", "B5", "B6"])
    (tmp_path / "course").mkdir()
    shutil.copyfile(COURSE / "osaamistavoitteet.md", tmp_path / "course" / "osaamistavoitteet.md")
    shutil.copyfile(COURSE.parent / "nbgrader_config.py", tmp_path / "nbgrader_config.py")  # a course directory
    return tmp_path


def test_check_catches_a_missing_outcome_and_a_stale_matrix(tiny):
    problems = course.check(course_at(tiny))
    assert any("not current" in p for p in problems), problems
    assert "outcome B7 has no graded cell in any notebook" in problems
    assert course.update(course_at(tiny)) is True
    assert course.check(course_at(tiny)) == ["outcome B7 has no graded cell in any notebook"]
    # a new notebook (e.g. the exam) is picked up by its folder alone, after the numbered lessons
    _notebook(tiny, "tentti", ["B7"], "1-2")
    assert any("not current" in p for p in course.check(course_at(tiny)))
    course.update(course_at(tiny))
    assert course.check(course_at(tiny)) == []
    assert course.notebooks(course_at(tiny)) == ["01_eka", "projekti", "tentti"]
    text = (tiny / "course" / "osaamistavoitteet.md").read_text(encoding="utf-8")
    assert "`tentti`" in text and "t2_muistio (5, 1 p, k)" in text and "t1_testit (1–2, 1 p, a)" in text
    assert course.update(course_at(tiny)) is False


def test_render_needs_the_markers():
    with pytest.raises(ValueError, match="markers"):
        course.render("no markers here", course_at(ROOT))
