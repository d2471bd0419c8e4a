"""What the class got wrong (Yleisimmät virheet): messages kept while autograding, grouped when they
differ only in the student's numbers, ranked by how many students saw them, never a hidden test."""

from __future__ import annotations

import copy

import nbfixtures as fx
import nbformat
import pytest
from repo import course_at

from crmkit.engine import cells
from crmkit.engine.autograde.batch import autograde
from crmkit.engine.autograde.sandbox import Limits
from crmkit.engine.grades import mistakes, report

MEDIAN = "def mediaani(arvot):\n    return float(pd.Series(arvot).{})"
CLASS = {  # student -> (t1_mediaani answer, t2_osuus answer)
    "s_oikein": (MEDIAN.format("median()"), "osuus = 3 / 12"),
    "s_pros1": (MEDIAN.format("median()"), "osuus = 3 / 12 * 100"),
    "s_pros2": (MEDIAN.format("median()"), "osuus = 3 / 12 * 100"),
    "s_pros3": (MEDIAN.format("max()"), "osuus = 3 / 12 * 100"),
    "s_pain1": (MEDIAN.format("min()"), "osuus = 12 / 3"),
    "s_pain2": (MEDIAN.format("median()"), "osuus = 12 / 3"),
    "s_piilo": (MEDIAN.format("median()"), "osuus = 0.3"),  # passes the visible test, fails the hidden one
    "s_tyhja": (None, None),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = fx.make_course(tmp_path_factory.mktemp("virheet"))
    cd = course_at(course)
    release = cells.read(cd.release_notebook(fx.SLUG))
    for student, (t1, t2) in CLASS.items():
        nb = copy.deepcopy(release)
        for c in nb.cells:
            if cells.grade_id(c) == "t1_mediaani" and t1:
                c.source = t1
            if cells.grade_id(c) == "t2_osuus" and t2:
                c.source = t2
        path = cd.submitted_notebook(fx.SLUG, student)
        path.parent.mkdir(parents=True)
        path.write_text(nbformat.writes(nb), encoding="utf-8")
    autograde(cd, fx.SLUG, jobs=2, limits=Limits(cell_timeout=30, notebook_timeout=120), progress=False,
              say=lambda s: None)
    return course


def test_messages_that_differ_only_in_numbers_are_one_mistake():
    assert mistakes.normalise("Odotettiin 2.5, saatiin 100.0.") == mistakes.normalise("Odotettiin 2.5, saatiin 1.0.")
    assert mistakes.normalise("nyt 10859 riviä") == mistakes.normalise("nyt 10 622 riviä") == "nyt # riviä"
    assert mistakes.normalise("jaoitko väärin päin?") != mistakes.normalise("ei prosentteina")


@pytest.mark.slow
def test_mistakes_are_ranked_grouped_and_counted(graded):
    from crmkit.engine.grades import gradebook

    cd = course_at(graded)
    found = {e.grade_id: e for e in mistakes.collect(cd, fx.SLUG, gradebook.read(cd, [fx.SLUG]))}
    t2 = found["t2_osuus_testit"]
    assert (t2.graded, t2.passed, t2.unanswered) == (8, 1, 1)
    assert [len(m.students) for m in t2.mistakes] == [3, 2, 1]  # ranked by students
    assert "desimaalilukuna" in t2.mistakes[0].message and "väärin päin" in t2.mistakes[1].message
    assert "Piilotettu testi" in t2.mistakes[2].message  # the hidden test's own text is never kept
    t1 = found["t1_mediaani_testit"]
    assert t1.label == "Tehtävä 1.1" and t1.outcomes == ("A1",) and t1.level == "1-2"
    assert len(t1.mistakes) == 1 and len(t1.mistakes[0].students) == 2 and t1.mistakes[0].variants == 2


@pytest.mark.slow
def test_the_class_page_names_no_student_and_shows_no_hidden_test(graded):
    cd = course_at(graded)
    message, _ = report.write(cd, assignment=fx.SLUG, policy_path=None)
    page = (graded / "grading" / "reports" / f"{fx.SLUG}-virheet.html").read_text(encoding="utf-8")
    assert "Yleisimmät virheet" in page and "desimaalilukuna" in page and "data:image/png" in page
    assert not any(s in page for s in CLASS)
    assert "abs(osuus - 0.25)" not in page and "mediaani([5])" not in page
    report.write(cd, assignment=fx.SLUG, per_student=True, out=graded / "opettajalle.html")
    assert "s_pros1" in (graded / "opettajalle.html").read_text(encoding="utf-8")


def test_a_page_that_would_show_a_hidden_test_is_not_written(tmp_path):
    course = fx.make_course(tmp_path, release=False)
    with pytest.raises(report.ReportLeak, match="hidden-test lines"):
        report.check_secret(course_at(course), "<td>assert mediaani([5]) == 5.0</td>", [fx.SLUG])
