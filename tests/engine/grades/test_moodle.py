"""The Moodle grade-import CSV: one identifier column, one column per grade item, UTF-8, commas."""

from __future__ import annotations

import csv

from grading_fixtures import Cell, grade, make_course, single
from repo import ROOT

from crmkit import cli

POLICY = ROOT / "grading" / "policy.toml"


def course(tmp_path):
    root = make_course(tmp_path, {
        "01_asiakastieto": single("l1"),
        "tentti": single("t"),
        "projekti": [Cell("p_code", 40), Cell("p_memo", 60, "markdown")],
    })
    for student, (t, p, l1) in {"s1": (80, 70, 75), "s2": (10, 10, 10), "s3": (100, 100, 100)}.items():
        grade(root, student, "tentti", {"t": t})
        grade(root, student, "projekti", {"p_code": p * 0.4, "p_memo": p * 0.6 if student != "s3" else None})
        grade(root, student, "01_asiakastieto", {"l1": l1})
    return root


def test_moodle_csv_format(tmp_path, capsys):
    root = course(tmp_path)
    moodle = tmp_path / "moodle.csv"
    code = cli.main(["grades", "--course-dir", str(root), "--policy", str(POLICY), "--allow-pending",
                     "--out", str(tmp_path / "final.csv"), "--moodle", str(moodle)])
    out, err = capsys.readouterr()
    assert code == 1, out  # s3 could not go to the Moodle file (listed)
    raw = moodle.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    assert rows[0] == ["ID number", "Tentti (%)", "Projektityö (%)", "CRM-harjoitukset (%)", "Arvosana"]
    by = {r[0]: r for r in rows[1:]}
    # s1: 16 + 35 + 22.5 = 73.5 -> 3
    assert by["s1"] == ["s1", "80.00", "70.00", "75.00", "3"]
    assert by["s2"] == ["s2", "10.00", "10.00", "10.00", "0"]  # H is 0 on a 0-5 grade item
    # s3 is provisional (the memo is not graded yet): never sent to Moodle, and no empty row either –
    # Moodle's import turns an empty cell into "no grade" and would erase a grade already there
    assert "s3" not in by
    assert "s3: provisional grade – an empty grade would erase the grade in Moodle" in err
    assert err.index("NOT written") < len(err) and "provisional grades are left out" in out


def test_moodle_id_map_and_unmapped_students(tmp_path, capsys):
    root = course(tmp_path)
    ids = root / "grading" / "moodle-ids.csv"
    ids.write_text("student_id,identifier\ns1,opiskelija1@example.fi\ns2,opiskelija2@example.fi\n",
                   encoding="utf-8")
    text = POLICY.read_text(encoding="utf-8").replace('id_column = "ID number"', 'id_column = "Email address"')
    text = text.replace('# id_map = "grading/moodle-ids.csv"', 'id_map = "grading/moodle-ids.csv"')
    pol = tmp_path / "policy.toml"
    pol.write_text(text, encoding="utf-8")
    moodle = tmp_path / "moodle.csv"
    code = cli.main(["grades", "--course-dir", str(root), "--policy", str(pol), "--allow-pending",
                     "--out", str(tmp_path / "final.csv"), "--moodle", str(moodle)])
    err = capsys.readouterr().err
    assert code == 1 and "NOT written for 1 student(s)" in err and "s3" in err
    rows = list(csv.reader(moodle.read_text(encoding="utf-8").splitlines()))
    assert rows[0][0] == "Email address"
    assert [r[0] for r in rows[1:]] == ["opiskelija1@example.fi", "opiskelija2@example.fi"]
