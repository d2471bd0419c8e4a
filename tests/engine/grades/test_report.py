"""The class report: one self-contained HTML page with grades, scores, outcomes, failed and missing work."""

from __future__ import annotations

import re

from grading_fixtures import Cell, grade, make_course, record_failure, single
from repo import ROOT

from crmkit import cli

POLICY = str(ROOT / "grading" / "policy.toml")


def course(tmp_path):
    root = make_course(tmp_path, {
        "00_aloitus": single("a0"),
        "01_asiakastieto": [Cell("l1", 10, "code", ("A1",), "1-2"), Cell("l1_m", 10, "markdown", ("A2",), "3-4")],
        "tentti": single("t", outcomes=("B3",), level="3-4"),
        "projekti": [Cell("p_code", 40, "code", ("B4",), "5"), Cell("p_memo", 60, "markdown", ("B4",), "5")],
    })
    grade(root, "s1", "01_asiakastieto", {"l1": 10, "l1_m": 8})
    grade(root, "s1", "tentti", {"t": 80})
    grade(root, "s1", "projekti", {"p_code": 30, "p_memo": 40})
    grade(root, "s2", "01_asiakastieto", {"l1": 5, "l1_m": None})  # waiting for hand grading
    grade(root, "s2", "tentti", {"t": 30})
    record_failure(root, "projekti", "s2", "projekti.ipynb: cell 12 (p_code) was deleted by the student")
    grade(root, "s3", "tentti", {"t": 95})  # no lessons, no project: missing
    grade(root, "demo_solution", "tentti", {"t": 100})  # left out by the policy
    return root


def test_report_page(tmp_path, capsys):
    root = course(tmp_path)
    assert cli.main(["report", "--course-dir", str(root), "--policy", POLICY]) == 0
    page = (root / "grading" / "reports" / "class.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # grades, categories, assignments, outcomes, and the lowest pass rates of each assignment's exercises
    sections = page.count("Yleisimmät virheet / most common mistakes")
    assert sections >= 1 and len(re.findall(r'src="data:image/png;base64,', page)) == 4 + sections
    assert not re.search(r'(src|href)="(?!data:)', page)  # self-contained: nothing linked
    assert "<h2>Arvosanat / grades</h2>" in page and "<h2>Osa-alueet / categories</h2>" in page
    # failed with its reason, waiting with its cell, missing
    assert "cell 12 (p_code) was deleted by the student" in page
    assert "l1_m" in page and "awaiting manual grading" in page
    assert re.search(r"<td>s3</td><td>projekti</td><td>missing</td>", page)
    assert "PROVISIONAL" in page
    assert "demo_solution" not in page
    # per-student rows: s1 = 0.2*80 + 0.5*70 + 0.3*90 = 16 + 35 + 27 = 78 -> 3
    assert re.search(r"<td>s1</td><td class=\"num\">80.00</td><td class=\"num\">70.00</td>"
                     r"<td class=\"num\">90.00</td><td class=\"num\">78.00</td><td>3</td>", page)
    assert "vähintään 60 %" in page  # the profile rule


def test_report_before_the_policy_can_grade(tmp_path, capsys):
    """A course that has lessons but no exam yet: the report still comes, and says why there are no grades."""
    root = make_course(tmp_path, {"01_asiakastieto": single("l1")})
    grade(root, "s1", "01_asiakastieto", {"l1": 70})
    assert cli.main(["report", "--course-dir", str(root), "--policy", POLICY]) == 0
    page = (root / "grading" / "reports" / "class.html").read_text(encoding="utf-8")
    assert "Final grades are not computed" in page and "assignment &#x27;tentti&#x27; does not exist" in page
    assert "01_asiakastieto" in page
    assert "warning: Final grades are not computed" in capsys.readouterr().err
