"""The grading worksheet: its columns, participant ids and dates; written back unchanged but for the fills."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from conftest import mf

from crmkit.engine.moodle import MoodleError
from crmkit.engine.moodle import worksheet as ws


def test_columns_participants_and_unchanged_write_back(moodle_files):
    sheet = ws.read(moodle_files.worksheet)
    assert sheet.bom and sheet.delimiter == ","
    assert set(sheet.columns) == set(ws.ENGLISH_HEADERS) - {"scale"}
    assert set(sheet.by_participant) == {p.pid for p in mf.CLASS if p.in_worksheet}
    row = sheet.row(1048214)
    assert sheet.value(row, "full_name") == "Åsa Öhman-Kärkkäinen"
    assert sheet.value(row, "status") == "Submitted for grading - 9 hours 16 mins late"
    assert sheet.value(row, "last_modified_submission") == "Tuesday, 10 March 2026, 9:15 AM"
    assert sheet.value(sheet.row(1048223), "last_modified_submission") == "-"
    assert ws.text(sheet, {}).encode("utf-8") == moodle_files.worksheet.read_bytes()  # byte for byte
    filled = ws.text(sheet, {1048214: {"grade": "4.00", "feedback_comments": "Hyvä, mutta: osuus"}})
    lines_before = moodle_files.worksheet.read_text(encoding="utf-8-sig").splitlines()
    lines_after = filled.removeprefix("\ufeff").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(lines_before, lines_after)) if a != b]
    assert len(lines_before) == len(lines_after) and len(changed) == 1
    assert lines_after[changed[0]].startswith("Participant 1048214,Åsa Öhman-Kärkkäinen,")
    assert ",4.00,10.00," in lines_after[changed[0]] and lines_after[changed[0]].endswith(",-,\"Hyvä, mutta: osuus\"")


@pytest.mark.parametrize("text,utc", [
    ("Tuesday, 10 March 2026, 9:15 AM", datetime(2026, 3, 10, 7, 15)),  # Moodle's English userdate(), EET
    ("Monday, 9 March 2026, 11:01 PM", datetime(2026, 3, 9, 21, 1)),
    ("Sunday, 12 April 2026, 12:05 AM", datetime(2026, 4, 11, 21, 5)),  # after the change to summer time (EEST)
    ("Sunday, 12 April 2026, 12:05 PM", datetime(2026, 4, 12, 9, 5)),
    ("maanantai, 9. maaliskuuta 2026, 23.01", datetime(2026, 3, 9, 21, 1)),
    ("9.3.2026 23.01", datetime(2026, 3, 9, 21, 1)),
    ("2026-03-09 23:01", datetime(2026, 3, 9, 21, 1)),
])
def test_dates_are_read_in_the_worksheets_time_zone(text, utc):
    assert ws.parse_time(text, "Europe/Helsinki") == utc.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["-", "", "Tuesday, 10 Marchember 2026, 9:15 AM", "10 minutes ago",
                                  "Tuesday, 31 February 2026, 9:15 AM", "Tuesday, 10 March 2026, 13:15 PM"])
def test_dates_not_understood_are_none(text):
    assert ws.parse_time(text) is None


def test_format_time_is_moodles_english_userdate():
    when = datetime(2026, 3, 10, 7, 15, tzinfo=timezone.utc)
    assert ws.format_time(when) == "Tuesday, 10 March 2026, 9:15 AM"
    assert ws.parse_time(ws.format_time(when)) == when


def test_a_finnish_moodle_needs_its_column_names(tmp_path):
    path = tmp_path / "arviointitaulukko.csv"
    path.write_text("Tunniste,Koko nimi,Sähköpostiosoite,Tila,Arvosana\n"
                    "Osallistuja 1048213,Matti Meikäläinen,m@x.fi,Palautettu,\n", encoding="utf-8")
    with pytest.raises(MoodleError, match=r"no column 'Identifier' .* \[moodle\] worksheet_headers"):
        ws.read(path)
    sheet = ws.read(path, ws.headers({"identifier": "Tunniste", "full_name": "Koko nimi",
                                      "email": "Sähköpostiosoite", "grade": "Arvosana"}))
    assert sheet.by_participant == {1048213: 0}
    assert sheet.value(sheet.row(1048213), "email") == "m@x.fi"


def test_bad_worksheets_are_clear_errors(tmp_path):
    excel = tmp_path / "excel.csv"
    excel.write_bytes("Identifier;Full name\nParticipant 1;Matti Meikäläinen\n".encode("cp1252"))
    with pytest.raises(MoodleError, match=r"excel.csv: not UTF-8 .* use the file as downloaded"):
        ws.read(excel)
    semi = tmp_path / "semi.csv"
    semi.write_text("Identifier;Full name\nParticipant 1;Matti\n", encoding="utf-8")
    assert ws.read(semi).delimiter == ";" and ws.read(semi).by_participant == {1: 0}
    twice = tmp_path / "twice.csv"
    twice.write_text("Identifier,Full name\nParticipant 1,A\nParticipant 1,B\n", encoding="utf-8")
    with pytest.raises(MoodleError, match=r"twice.csv, line 3: participant 1 appears twice"):
        ws.read(twice)
    noid = tmp_path / "noid.csv"
    noid.write_text("Identifier,Full name\nOsallistuja,A\n", encoding="utf-8")
    with pytest.raises(MoodleError, match=r"noid.csv, line 2: .* does not end in a participant number"):
        ws.read(noid)


def test_numbers_as_the_worksheet_writes_them():
    assert ws.decimals_of("10.00") == (2, ".") and ws.decimals_of("10,5") == (1, ",") and ws.decimals_of("10") == (0, ".")
    assert ws.to_number("1 000,50") == 1000.5 and ws.to_number("") is None
