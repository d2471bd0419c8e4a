"""Final grades under grading/policy.toml on a synthetic gradebook, with hand-computed expectations.

The course: tentti (100 p, autograded), projekti (40 p autograded + 60 p hand-graded), two weekly
lessons (100 p each) and 00_aloitus (practice, counts for nothing). Weighted % =
0.20 × tentti + 0.50 × projekti + 0.30 × mean(lessons).
"""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from grading_fixtures import Cell, grade, make_course, record_failure, session, single
from repo import ROOT, course_at

from crmkit import cli
from crmkit.engine import status
from crmkit.engine.grades import final, gradebook, policy

LESSONS = ("01_asiakastieto", "02_ostoprosessi")


def course_assignments():
    return {
        "00_aloitus": single("aloitus_t"),
        "01_asiakastieto": single("l1_t", outcomes=("A1", "A2"), level="1-2"),
        "02_ostoprosessi": single("l2_t", outcomes=("A3",), level="3-4"),
        "tentti": single("tentti_t", outcomes=("B3",), level="3-4"),
        "projekti": [Cell("projekti_koodi", 40, "code", ("B4",), "5"),
                     Cell("projekti_raportti", 60, "markdown", ("B4",), "5")],
    }


def enter(root, student, tentti=None, projekti=None, lessons=(None, None), report=True):
    """Scores in percent; None = nothing submitted. ``report=False`` leaves the hand-graded cell pending."""
    if tentti is not None:
        grade(root, student, "tentti", {"tentti_t": tentti})
    if projekti is not None:
        p = Decimal(str(projekti))
        grade(root, student, "projekti", {"projekti_koodi": float(str(p * Decimal("0.4"))),
                                          "projekti_raportti": float(str(p * Decimal("0.6"))) if report else None})
    for slug, gid, score in zip(LESSONS, ("l1_t", "l2_t"), lessons):
        if score is not None:
            grade(root, student, slug, {gid: score})


@pytest.fixture()
def course(tmp_path):
    return make_course(tmp_path, course_assignments())


def compute(root, allow_pending=False, policy_text=None):
    path = ROOT / "grading" / "policy.toml"
    if policy_text is not None:
        path = root / "grading" / "test-policy.toml"
        path.write_text(policy_text, encoding="utf-8")
    pol = policy.load(course_at(root), path)
    data = gradebook.read(course_at(root), pol.assignments, ignore=pol.ignored)
    return pol, data, {g.student: g for g in final.compute(pol, data, allow_pending=allow_pending)}


#: student: (tentti, projekti, lesson 1, lesson 2) -> (weighted % as shown, grade); computed by hand
CLASS = {
    "s4999": ((49.99, 49.99, 49.99, 49.99), "49.99", "H"),
    "s5000": ((50, 50, 50, 50), "50.00", "1"),
    "s49995": ((49.995, 49.995, 49.995, 49.995), "50.00", "1"),  # 49.995 rounds half up to 50.00
    "s49994": ((49.994, 49.994, 49.994, 49.994), "49.99", "H"),
    "s8999": ((89.99, 89.99, 89.99, 89.99), "89.99", "4"),
    "s9000": ((90, 90, 90, 90), "90.00", "5"),
    # 0.2*80 + 0.5*70 + 0.3*(100+50)/2 = 16 + 35 + 22.5
    "mixed": ((80, 70, 100, 50), "73.50", "3"),
    # 0.2*100 + 0.5*55 + 0.3*(60+61)/2 = 20 + 27.5 + 18.15
    "mixed2": ((100, 55, 60, 61), "65.65", "2"),
    "zero": ((0, 0, 0, 0), "0.00", "H"),
    "full": ((100, 100, 100, 100), "100.00", "5"),
}


def test_hand_computed_class_and_exact_boundaries(course):
    with session(course):
        for student, (scores, _, _) in CLASS.items():
            t, p, l1, l2 = scores
            enter(course, student, t, p, (l1, l2))
    pol, data, grades = compute(course)
    assert set(grades) == set(CLASS)
    for student, (_, weighted, expected) in CLASS.items():
        g = grades[student]
        assert g.rounded(g.weighted, 2) == weighted, student
        assert g.grade == expected, f"{student}: {weighted} % should be {expected}, got {g.grade}"
        assert not g.provisional and g.notes == []
    assert grades["mixed"].rounded(grades["mixed"].categories["harjoitukset"], 2) == "75.00"


def test_practice_assignment_counts_for_nothing(course):
    enter(course, "s1", 50, 50, (50, 50))
    grade(course, "s1", "00_aloitus", {"aloitus_t": 100})
    pol, data, grades = compute(course)
    assert "00_aloitus" not in pol.assignments and "00_aloitus" in pol.uncounted()
    assert grades["s1"].grade == "1"
    assert pol.category_of("01_asiakastieto").name == "harjoitukset"  # picked up by the pattern


def test_missing_work_counts_zero_and_is_shown(course):
    enter(course, "s1", None, 90, (90, 90))  # no exam: 0 + 45 + 27
    pol, data, grades = compute(course)
    g = grades["s1"]
    assert g.rounded(g.weighted, 2) == "72.00" and g.grade == "3"
    assert data.result("s1", "tentti").status == gradebook.MISSING
    assert any("tentti missing" in n for n in g.notes)
    header, rows = final.table(pol, data, [g])
    row = dict(zip(header, rows[0]))
    assert row["tentti_status"] == "missing" and row["tentti_percent"] == "0.00"


def test_missing_work_incomplete_withholds_the_grade(course):
    enter(course, "s1", None, 90, (90, 90))
    text = (ROOT / "grading" / "policy.toml").read_text(encoding="utf-8")
    text = text.replace('missing_counts_as = "zero"', 'missing_counts_as = "incomplete"')
    pol, data, grades = compute(course, policy_text=text)
    g = grades["s1"]
    assert g.grade == "" and g.weighted is None
    assert any("tentti missing: no grade" in n for n in g.notes)


def test_failed_submission_shows_the_reason_never_a_silent_zero(course):
    enter(course, "s1", 100, None, (100, 100))
    # nbgrader recorded the broken notebook as a 0.0 submission; the autograde helper recorded why
    grade(course, "s1", "projekti", {"projekti_koodi": 0, "projekti_raportti": 0})
    record_failure(course, "projekti", "s1", "projekti.ipynb is not valid JSON (line 3, column 7)")
    pol, data, grades = compute(course)
    r = data.result("s1", "projekti")
    assert r.status == gradebook.FAILED
    assert r.describe() == "failed: projekti.ipynb is not valid JSON (line 3, column 7)"
    g = grades["s1"]
    assert g.grade == "1" and g.rounded(g.weighted, 2) == "50.00"  # failed_counts_as = "zero": 20 + 0 + 30
    header, rows = final.table(pol, data, [g])
    row = dict(zip(header, rows[0]))
    assert row["projekti_status"].startswith("failed: projekti.ipynb is not valid JSON")
    assert "not valid JSON" in row["notes"]


def test_failed_counts_as_missing_when_the_policy_says_so(course):
    enter(course, "s1", 100, None, (100, 100))
    record_failure(course, "projekti", "s1", "kernel died")
    text = (ROOT / "grading" / "policy.toml").read_text(encoding="utf-8")
    text = text.replace('failed_counts_as = "zero"', 'failed_counts_as = "missing"')
    text = text.replace('missing_counts_as = "zero"', 'missing_counts_as = "incomplete"')
    pol, data, grades = compute(course, policy_text=text)
    assert grades["s1"].grade == ""
    assert data.result("s1", "projekti").describe() == "failed: kernel died"
    assert any("counts as missing" in n for n in grades["s1"].notes)


def test_category_minimum_fails_the_course(course):
    enter(course, "s1", 30, 100, (100, 100))  # 6 + 50 + 30 = 86 -> 4, but the exam is below 40 %
    enter(course, "s2", 40, 100, (100, 100))  # exactly at the minimum: passes, 8 + 50 + 30 = 88 -> 4
    text = (ROOT / "grading" / "policy.toml").read_text(encoding="utf-8").replace("# minimum = 40", "minimum = 40")
    pol, data, grades = compute(course, policy_text=text)
    assert grades["s1"].rounded(grades["s1"].weighted, 2) == "86.00"
    assert grades["s1"].grade == "H"
    assert any("below its minimum 40 %" in n for n in grades["s1"].notes)
    assert grades["s2"].grade == "4"


def test_pending_manual_grading_is_refused_with_a_list(course):
    enter(course, "s1", 100, 100, (100, 100), report=False)
    enter(course, "s2", 100, 100, (100, 100))
    with pytest.raises(final.PendingError) as e:
        compute(course)
    msg = str(e.value)
    assert "s1 / projekti" in msg and "projekti_raportti" in msg and "--allow-pending" in msg
    assert "s2" not in msg
    pol, data, grades = compute(course, allow_pending=True)
    g = grades["s1"]
    # the ungraded report counts 0 for now: 20 + 0.5*40 + 30
    assert g.provisional and g.rounded(g.weighted, 2) == "70.00" and g.grade == "3"
    assert data.result("s1", "projekti").describe() == "awaiting manual grading: projekti_raportti"
    assert not grades["s2"].provisional


def test_submitted_but_not_autograded_is_pending(course):
    enter(course, "s1", 100, 100, (100, None))
    folder = course / "grading" / "submitted" / "s1" / "02_ostoprosessi"
    folder.mkdir(parents=True)
    (folder / "02_ostoprosessi.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(final.PendingError, match="nbgrader autograde 02_ostoprosessi"):
        compute(course)
    assert compute(course, allow_pending=True)[2]["s1"].provisional


def test_late_penalty_is_subtracted_like_nbgrader_export(course):
    enter(course, "s1", None, 100, (100, 100))
    grade(course, "s1", "tentti", {"tentti_t": 60}, penalty=10)
    pol, data, grades = compute(course)
    assert data.result("s1", "tentti").percent == Decimal(50)
    assert grades["s1"].rounded(grades["s1"].weighted, 2) == "90.00"


def test_demo_and_gate_students_are_left_out(course):
    enter(course, "demo_solution", 100, 100, (100, 100))
    enter(course, "gate_blank", 0, 0, (0, 0))
    enter(course, "s1", 50, 50, (50, 50))
    assert set(compute(course)[2]) == {"s1"}


def test_students_only_in_a_status_file_are_not_dropped(course):
    enter(course, "s1", 50, 50, (50, 50))
    record_failure(course, "tentti", "s_ghost", "notebook file is empty")
    pol, data, grades = compute(course)
    assert "s_ghost" in grades
    assert data.result("s_ghost", "tentti").status == gradebook.FAILED
    assert data.result("s_ghost", "projekti").status == gradebook.MISSING


def test_corrupt_status_file_is_an_error_naming_the_file(course):
    (course / "grading" / "status").mkdir(parents=True)
    (course / "grading" / "status" / "tentti.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(status.StatusFileError, match=r"status file .*tentti\.json cannot be read"):
        compute(course)


def test_no_gradebook_is_a_clear_error_and_none_is_created(tmp_path):
    root = make_course(tmp_path, course_assignments())
    (root / "grading" / "gradebook.db").unlink()
    with pytest.raises(gradebook.GradebookError, match="no gradebook at"):
        gradebook.read(course_at(root), ["tentti"])
    assert not (root / "grading" / "gradebook.db").exists()


# ---------------------------------------------------------------------------------------------
# the command


def run_cli(root, *args):
    return cli.main(["grades", "--course-dir", str(root), "--policy", str(ROOT / "grading" / "policy.toml"), *args])


def test_cli_refuses_pending_then_writes_with_allow_pending(course, capsys):
    enter(course, "s1", 80, 70, (100, 50))
    enter(course, "s2", 100, 100, (100, 100), report=False)
    out = course / "grading" / "final_grades.csv"
    assert run_cli(course) == 3
    text = capsys.readouterr().err  # a refusal is an error: stderr, exit status 3
    assert "Final grades refused" in text and "s2 / projekti" in text and "projekti_raportti" in text
    assert not out.exists()
    assert run_cli(course, "--allow-pending") == 0
    text = capsys.readouterr().out
    assert "PROVISIONAL" in text and "s2" in text
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    by = {r["student_id"]: r for r in rows}
    assert by["s1"]["weighted_percent"] == "73.50" and by["s1"]["grade"] == "3"
    assert by["s1"]["harjoitukset_percent"] == "75.00" and by["s1"]["tentti_percent"] == "80.00"
    assert by["s1"]["01_asiakastieto_status"] == "graded"
    assert by["s2"]["provisional"] == "yes"
    assert by["s2"]["projekti_status"] == "awaiting manual grading: projekti_raportti"
    assert list(rows[0])[:4] == ["student_id", "tentti_percent", "projekti_percent", "harjoitukset_percent"]


def test_cli_keeps_the_previous_file(course, capsys):
    enter(course, "s1", 80, 70, (100, 50))
    out = course / "grading" / "final_grades.csv"
    assert run_cli(course) == 0
    assert run_cli(course) == 0
    assert "unchanged" in capsys.readouterr().out
    enter(course, "s2", 100, 100, (100, 100))
    assert run_cli(course) == 0
    assert "previous version is kept" in capsys.readouterr().out
    backups = list(out.parent.glob("final_grades.*.csv"))
    assert len(backups) == 1 and "s2" not in backups[0].read_text(encoding="utf-8")


def test_cli_bad_policy_exit_2(course, capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[categories]]\nname = 'x'\nweight = 1\nassignments = ['nope']\n", encoding="utf-8")
    assert cli.main(["grades", "--course-dir", str(course), "--policy", str(bad)]) == 2
    assert "assignment 'nope' does not exist" in capsys.readouterr().err
