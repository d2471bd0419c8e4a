"""Competence profile: levels per outcome under the documented rule, with hand-computed cases."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from grading_fixtures import Cell, grade, make_course, record_failure
from repo import ROOT, course_at

from crmkit import cli
from crmkit.engine.grades import gradebook, policy
from crmkit.engine.grades import profile as prof
from crmkit.engine.grades.profile import Share, level_shown

POLICY = str(ROOT / "grading" / "policy.toml")


def shares(**pcts):
    """level_1_2=40 -> {"1-2": two tasks of 50 points with 40 % of the points in each};
    level_1_2=(10, 60, 100) -> one task per number, each scored that % of 100 points."""
    out = {}
    for k, v in pcts.items():
        s = Share()
        for i, pct in enumerate(v if isinstance(v, tuple) else (v, v)):
            possible = Decimal(100) if isinstance(v, tuple) else Decimal(50)
            s.add(f"t{i}", Decimal(str(pct)) * possible / 100, possible)
        out[k.replace("l", "").replace("_", "-").lstrip("-")] = s
    return out


@pytest.mark.parametrize("given, expected", [
    ({}, "none"),
    ({"l1_2": 60}, "1-2"),  # exactly at the threshold
    ({"l1_2": 59.99}, "none"),
    ({"l1_2": 100, "l3_4": 70, "l5": 60}, "5"),
    ({"l1_2": 100, "l3_4": 50, "l5": 90}, "1-2"),  # a failed lower level blocks the higher ones
    ({"l1_2": 40, "l5": 80}, "none"),
    ({"l3_4": 65}, "3-4"),  # a lower level that was not assessed does not block
    ({"l5": 61}, "5"),
    # no single task vetoes: one slipped task at a lower level does not wipe out a higher level ...
    ({"l1_2": (0,), "l5": (100, 100)}, "5"),
    ({"l1_2": (100, 100, 0), "l3_4": (100,), "l5": (70, 80)}, "5"),
    # ... but two do, and the level itself must still reach the threshold on its own
    ({"l1_2": (0, 20, 60), "l5": (100, 100)}, "none"),
    ({"l1_2": (100,), "l3_4": (100, 0), "l5": (100,)}, "5"),
    ({"l1_2": (100,), "l3_4": (0, 0), "l5": (100,)}, "1-2"),
    ({"l3_4": (0,)}, "none"),
])
def test_level_rule(given, expected):
    assert level_shown(shares(**given), Decimal(60)) == expected


def test_the_teacher_sees_when_a_single_task_did_not_veto():
    notes = []
    assert level_shown(shares(l1_2=(0,), l5=(100, 100)), Decimal(60), notes) == "5"
    assert notes and "t0" in notes[0] and "1–2" in notes[0]


COURSE = {
    "00_aloitus": [Cell("a0", 10, "code", ("B7",), "1-2")],
    "01_asiakastieto": [Cell("l1_a", 10, "code", ("A1",), "1-2"),
                        Cell("l1_b", 10, "markdown", ("A1",), "3-4"),
                        Cell("l1_c", 10, "code", ("A2",), "1-2")],
    "02_ostoprosessi": [Cell("l2_a", 20, "code", ("A1", "A3"), "5"),
                        Cell("l2_b", 10, "markdown", ("A3",), "1-2")],
}


@pytest.fixture()
def course(tmp_path):
    root = make_course(tmp_path, COURSE)
    grade(root, "s1", "01_asiakastieto", {"l1_a": 10, "l1_b": 7, "l1_c": 5})
    grade(root, "s1", "02_ostoprosessi", {"l2_a": 12, "l2_b": 5})
    grade(root, "s1", "00_aloitus", {"a0": 10})  # practice: excluded from the profile by the policy
    grade(root, "s2", "01_asiakastieto", {"l1_a": 10, "l1_b": None, "l1_c": 6})
    grade(root, "s3", "01_asiakastieto", {"l1_a": 10, "l1_b": 10, "l1_c": 10})
    record_failure(root, "01_asiakastieto", "s3", "kernel died while grading")
    return root


def profiles(root):
    course = course_at(root)
    pol = policy.load(course, POLICY, check_assignments=False)
    data = gradebook.read(course, pol.profile_assignments(), ignore=pol.ignored)
    tags, problems = prof.read_tags(course, [a for a in pol.profile_assignments() if a in pol.available],
                                    pol.profile_outcomes)
    assert problems == []
    return {s: prof.student_profile(s, data, tags, pol.profile_threshold, pol.profile_outcomes)
            for s in data.students}, data


def test_hand_computed_profiles(course):
    ps, data = profiles(course)
    assert data.assignments == ["01_asiakastieto", "02_ostoprosessi"]  # 00_aloitus excluded
    s1 = ps["s1"]
    # A1: 1-2 10/10, 3-4 7/10, 5 12/20 = 60 % -> 5
    assert s1.level("A1") == "5"
    a1 = next(r for r in s1.outcomes if r.outcome == "A1")
    assert a1.shares["5"].percent == Decimal(60) and a1.shares["3-4"].percent == Decimal(70)
    assert s1.level("A2") == "none"  # 5/10 = 50 %
    # 1-2: 5/10 = 50 %, but from one task only: it does not veto 5 (60 %); the teacher is told
    assert s1.level("A3") == "5"
    a3 = next(r for r in s1.outcomes if r.outcome == "A3")
    assert len(a3.notes) == 1 and "02_ostoprosessi: l2_b" in a3.notes[0]
    assert s1.level("B7") == "none" and s1.not_counted == [] and s1.pending == []
    s2 = ps["s2"]
    assert s2.level("A1") == "1-2"  # 3-4 is waiting for hand grading, so it is not evidence yet
    assert s2.level("A2") == "1-2"  # 6/10
    assert s2.pending == ["01_asiakastieto: l1_b"]
    assert s2.not_counted == ["02_ostoprosessi: missing"]
    s3 = ps["s3"]
    assert all(r.shown == "none" for r in s3.outcomes)
    assert s3.not_counted[0] == "01_asiakastieto: failed (kernel died while grading)"


def test_class_matrix(course):
    ps, _ = profiles(course)
    m = prof.class_matrix(list(ps.values()))
    # A1: s1 shows 5 (all levels assessed), s2 shows 1-2 (3-4 waits for grading, 5 missing: not
    # assessed); s3's failed submission is no evidence
    assert m["A1"] == {"1-2": (2, 2), "3-4": (1, 1), "5": (1, 1)}
    assert m["A3"] == {"1-2": (1, 1), "3-4": (0, 0), "5": (1, 1)}
    assert m["B1"] == {"1-2": (0, 0), "3-4": (0, 0), "5": (0, 0)}


def test_cli_writes_html_and_csv(course, capsys):
    out = course / "grading" / "reports" / "profiles"
    assert cli.main(["profile", "s1", "--course-dir", str(course), "--policy", POLICY]) == 0
    html = (out / "s1.html").read_text(encoding="utf-8")
    assert "Osaamisprofiili – s1" in html and "data:image/png;base64," in html
    assert "vähintään 60 %" in html and "at least 60 %" in html  # the rule, Finnish and English
    assert "Näyttö tehtävittäin" in html and "l1_b" in html and "7 / 10 p" in html  # which piece earned what
    rows = {r["outcome"]: r for r in csv.DictReader((out / "s1.csv").open(encoding="utf-8"))}
    assert list(rows) == list(policy.load(course_at(course), POLICY, check_assignments=False).profile_outcomes)
    assert list(rows)[0] == "A1" and list(rows)[-1] == "B7"
    assert rows["A1"]["level_shown"] == "5" and rows["A1"]["share_5"] == "60.00"
    assert rows["A1"]["earned_3-4"] == "7" and rows["A1"]["possible_3-4"] == "10"
    assert rows["B1"]["level_shown"] == "none" and rows["B1"]["share_1-2"] == ""
    assert "s1: A1 5" in capsys.readouterr().out


def test_cli_all_and_unknown_student(course, capsys):
    assert cli.main(["profile", "--all", "--course-dir", str(course), "--policy", POLICY]) == 0
    out = course / "grading" / "reports" / "profiles"
    assert sorted(p.name for p in out.glob("*.html")) == ["s1.html", "s2.html", "s3.html"]
    assert "awaiting grading" in (out / "s2.html").read_text(encoding="utf-8")
    assert cli.main(["profile", "nobody", "--course-dir", str(course), "--policy", POLICY]) == 2
    assert "unknown student(s): nobody" in capsys.readouterr().err


def test_untagged_cells_are_listed_not_guessed(course):
    # a gradebook cell the solutions notebook does not know (e.g. renamed since release)
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "grading" / "gradebook.db"), course_id="cus4lh102") as gb:
        gb.add_grade_cell("vanha_solu", "02_ostoprosessi", "02_ostoprosessi", max_score=5, cell_type="code")
    grade(course, "s4", "02_ostoprosessi", {"l2_a": 20, "l2_b": 10, "vanha_solu": 5})
    ps, _ = profiles(course)
    assert ps["s4"].untagged == ["02_ostoprosessi/02_ostoprosessi: vanha_solu"]
    assert ps["s4"].level("A3") == "5"
    assert gradebook.GRADED == "graded"
