"""`crmkit moodle collect`: each notebook placed where nbgrader expects it, every odd case named and kept."""

from __future__ import annotations

import json
import shutil

import nbfixtures as fx
import pytest
from conftest import mf
from repo import course_at

from crmkit import cli
from crmkit.engine.grades.policy import MoodleSettings
from crmkit.engine.moodle import MoodleError, collect, participants
from crmkit.engine.moodle.submissions import read as read_zip


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A fixture course (released, with a gradebook) and the Moodle files made from its release."""
    root = fx.make_course(tmp_path_factory.mktemp("moodle-base"))
    release = json.loads(course_at(root).release_notebook(fx.SLUG).read_text(encoding="utf-8"))
    return root, mf.write(tmp_path_factory.mktemp("moodle-files-real"), release)


@pytest.fixture
def course(base, tmp_path):
    root, files = base
    copy = tmp_path / "course"
    shutil.copytree(root, copy)
    return course_at(copy), files


def _by_pid(result):
    return {pid: (w.action, w.student_id) for pid, w in result.identities.items()}


EXPECTED = {p.pid: p.expect for p in mf.CLASS}


def test_collect_places_notebooks_with_submission_times_and_names_every_odd_case(course, capsys):
    c, files = course
    code = cli.main(["moodle", "collect", fx.SLUG, str(files.folders), "--worksheet", str(files.worksheet),
                     "--course-dir", str(c.root)])
    out = capsys.readouterr().out
    assert code == 1  # some participants need a look
    record = participants.read_record(c, fx.SLUG)
    assert {pid: w.action for pid, w in record.items()} == EXPECTED
    # the ID number is the student id ([moodle] identify_by = "id_number", the default)
    assert record[1048213].student_id == "2301001" and record[1048216].student_id == "2301004"
    placed = sorted(p.parent.parent.name for p in c.step_dir("submitted").glob(f"*/{fx.SLUG}/{fx.SLUG}.ipynb"))
    assert placed == ["2301001", "2301002", "2301003", "2301004", "2301005", "2301006", "2301010", "2301014"]
    # the submission time from the worksheet (Helsinki time) as nbgrader's timestamp.txt, in UTC
    stamp = (c.submitted_notebook(fx.SLUG, "2301002").parent / "timestamp.txt").read_text()
    assert stamp == "2026-03-10 07:15:00.000000 UTC\n"  # Åsa's late submission: Tuesday, 10 March 2026, 9:15 AM
    # the placed notebook is the one with the assignment's name (Sanna also sent kopio.ipynb)
    sanna = c.submitted_notebook(fx.SLUG, "2301006").read_bytes()
    assert sanna == mf.answered(json.loads(c.release_notebook(fx.SLUG).read_text()), "good")
    # each odd case named, with what was done
    for line in [
        "Aino Väisänen (participant 1048225): not mapped – not in the worksheet worksheet.csv; its files are kept",
        "Pekka Ylä-Jääskeläinen (participant 1048217) → 2301005: placed – 99_kokeilu (1).ipynb: the notebook "
        "under another name (its graded cells are 99_kokeilu's) – placed as 99_kokeilu.ipynb",
        "Kalle Ström (participant 1048226) → 2301014: placed – kopio.ipynb: the notebook under another name",
        "Sanna Östman (participant 1048218) → 2301006: placed – kopio.ipynb: another notebook beside "
        "99_kokeilu.ipynb – kept, not graded",
        "Olli Härkönen (participant 1048219) → 2301007: not placed – 2 notebooks and none named 99_kokeilu.ipynb",
        "Veera Lähteenmäki (participant 1048220) → 2301008: not placed – 99_kokeilu.zip: a zip archive, not a notebook",
        "Eero Äkräs (participant 1048221) → 2301009: not placed – 99_kokeilu.pdf: a PDF, not a notebook",
        "Tiina Kärppä (participant 1048222) → 2301010: placed – 99_kokeilu.ipynb: not a readable notebook – placed; "
        "autograde will mark it failed",
        "Ville Nyström (participant 1048223) → 2301011: nothing submitted – Moodle: No submission",
        "Liisa Öberg (participant 1048224) → 2301012: not placed – onlinetext.html: online text, not a notebook",
    ]:
        assert line in out, line
    assert "Matti Meikäläinen" not in out  # nothing odd about him
    # nothing lost: every file of the zip is kept as Moodle named it; the report and worksheet are kept too
    originals = next((c.workspace / "moodle" / fx.SLUG / "originals").iterdir())
    kept = sorted(str(p.relative_to(originals)) for p in originals.rglob("*") if p.is_file())
    with_entries = sorted(f.entry for p in read_zip(files.folders).participants.values() for f in p.files)
    assert kept == with_entries
    assert (c.workspace / "moodle" / fx.SLUG / "collect-report.txt").read_text(encoding="utf-8") in out
    assert (c.workspace / "moodle" / fx.SLUG / "worksheet.csv").read_bytes() == files.worksheet.read_bytes()
    roster = participants.read_roster(c)
    assert roster["2301002"] == {"student_id": "2301002", "full_name": "Åsa Öhman-Kärkkäinen",
                                 "email": "asa.ohman-karkkainen@opiskelija.example.fi", "id_number": "2301002"}
    # every mapped student is in the gradebook (one who submitted nothing then counts as missing)
    from crmkit.engine.grades.gradebook import open_gradebook

    with open_gradebook(c) as gb:
        assert {"2301011", "2301007"} <= {s.id for s in gb.students}


def test_the_flat_layout_places_the_same(course):
    c, files = course
    res = collect.collect(c, fx.SLUG, files.flat, files.worksheet)
    assert {pid: w.action for pid, w in res.identities.items()} == EXPECTED


def test_a_newer_zip_adds_and_updates_and_never_drops(course):
    c, files = course
    collect.collect(c, fx.SLUG, files.folders, files.worksheet)
    matti = c.submitted_notebook(fx.SLUG, "2301001").read_bytes()
    juha_before = c.submitted_notebook(fx.SLUG, "2301003").read_bytes()
    res = collect.collect(c, fx.SLUG, files.newer, files.newer_worksheet)
    actions = {pid: w.action for pid, w in res.identities.items()}
    assert actions[1048215] == "updated"  # Juha Mäkinen resubmitted
    assert actions[1048213] == "kept earlier"  # Matti is not in the newer zip: his submission stays
    assert actions[1048214] == "unchanged"
    assert c.submitted_notebook(fx.SLUG, "2301001").read_bytes() == matti
    juha = c.submitted_notebook(fx.SLUG, "2301003")
    assert juha.read_bytes() != juha_before
    assert (juha.parent / "timestamp.txt").read_text() == "2026-03-10 19:05:00.000000 UTC\n"
    replaced = list((c.workspace / "moodle" / fx.SLUG / "replaced").glob("2301003-*/99_kokeilu.ipynb"))
    assert len(replaced) == 1 and replaced[0].read_bytes() == juha_before
    assert len(list((c.workspace / "moodle" / fx.SLUG / "originals").iterdir())) == 2  # both downloads kept
    # the record still holds everyone (the newer worksheet has Matti too; his earlier placement is kept)
    assert participants.read_record(c, fx.SLUG)[1048213].action == "kept earlier"
    # an older zip after a newer one replaces nothing
    res = collect.collect(c, fx.SLUG, files.folders, files.worksheet)
    assert res.identities[1048215].action == "kept earlier" and "newer" in res.identities[1048215].detail
    assert juha.read_bytes() != juha_before
    # the same zip again changes nothing
    again = collect.collect(c, fx.SLUG, files.newer, files.newer_worksheet)
    assert again.identities[1048215].action == "unchanged"


def test_without_a_worksheet_the_earlier_record_maps_and_times_are_unknown(course):
    c, files = course
    first = collect.collect(c, fx.SLUG, files.folders)  # no worksheet, no record, no roster yet
    assert all(w.action == "not mapped" for w in first.identities.values())
    assert "no worksheet given, and the name is not in the roster" in first.identities[1048213].detail
    collect.collect(c, fx.SLUG, files.folders, files.worksheet)
    (c.submitted_notebook(fx.SLUG, "2301003").parent / "timestamp.txt").unlink()
    res = collect.collect(c, fx.SLUG, files.newer)  # the participant ids are this assignment's: the record maps
    assert res.identities[1048215].action == "updated"
    assert "submission time unknown without the worksheet" in res.identities[1048215].detail
    assert not (c.submitted_notebook(fx.SLUG, "2301003").parent / "timestamp.txt").exists()


def test_mapping_by_email_and_by_id_map(course, tmp_path):
    c, files = course
    res = collect.collect(c, fx.SLUG, files.folders, files.worksheet, MoodleSettings(identify_by="email"))
    ids = {pid: w.student_id for pid, w in res.identities.items()}
    assert ids[1048215] == "juha.makinen" and ids[1048216] == "juha.makinen2"  # the same name, two students
    assert c.submitted_notebook(fx.SLUG, "asa.ohman-karkkainen").exists()
    id_map = tmp_path / "ids.csv"
    id_map.write_text("student_id,identifier\ns_matti,2301001\ns_asa,2301002\n", encoding="utf-8")
    res = collect.collect(c, fx.SLUG, files.folders, files.worksheet, MoodleSettings(id_map=id_map))
    assert res.identities[1048213].student_id == "s_matti"
    assert res.identities[1048215].action == "not mapped"
    assert res.identities[1048215].detail.startswith("ID number 2301003 is not in the id map ([moodle] id_map)")


def test_two_participants_never_become_one_student():
    class P:
        def __init__(self, name, pid):
            self.full_name, self.prefix, self.files = name, f"{name}_{pid}", []

    roster = {"s1": {"full_name": "Juha Mäkinen"}, "s2": {"full_name": "Juha Mäkinen"},
              "s3": {"full_name": "Matti Meikäläinen"}}
    found = participants.resolve({1: P("Juha Mäkinen", 1), 2: P("Matti Meikäläinen", 2), 3: P("Matti Meikäläinen", 3)},
                                 None, MoodleSettings(), {}, roster)
    assert found[1].student_id == "" and "2 students of the roster are called Juha Mäkinen" in found[1].why_not
    assert found[2].student_id == found[3].student_id == ""
    assert "would be student s3 as well as Matti Meikäläinen (participant 3)" in found[2].why_not


def test_bad_input_is_a_clear_error_and_nothing_is_placed(course, capsys, tmp_path):
    c, files = course
    bad = tmp_path / "lataus.zip"
    bad.write_bytes(b"PK\x03\x04 katkennut")
    assert cli.main(["moodle", "collect", fx.SLUG, str(bad), "--course-dir", str(c.root)]) == 2
    assert "crmkit moodle: " in capsys.readouterr().err
    assert cli.main(["moodle", "collect", "ei_ole", str(files.folders), "--course-dir", str(c.root)]) == 2
    assert "unknown assignment 'ei_ole'" in capsys.readouterr().err
    with pytest.raises(MoodleError, match="worksheet.csv: no such file"):
        collect.collect(c, fx.SLUG, files.folders, tmp_path / "worksheet.csv")
    assert not c.step_dir("submitted").exists() or not any(c.step_dir("submitted").iterdir())


def test_a_file_damaged_inside_the_zip_is_named_and_the_rest_goes_on(course, tmp_path):
    c, files = course
    notebook = mf.answered(json.loads(c.release_notebook(fx.SLUG).read_text()), "good")
    damaged = tmp_path / "rikki.zip"
    import zipfile

    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_STORED) as z:
        z.writestr("Matti Meikäläinen_1048213_assignsubmission_file/99_kokeilu.ipynb", notebook)
        z.writestr("Åsa Öhman-Kärkkäinen_1048214_assignsubmission_file/99_kokeilu.ipynb", notebook)
    raw = bytearray(damaged.read_bytes())
    at = raw.index(notebook[:200]) + 100  # Matti's copy, mid-file: its CRC no longer matches
    raw[at:at + 4] = b"XXXX"
    damaged.write_bytes(bytes(raw))
    res = collect.collect(c, fx.SLUG, damaged, files.worksheet)
    matti, asa = res.identities[1048213], res.identities[1048214]
    assert matti.action == "not placed" and "damaged in the zip" in matti.detail and "rikki.zip" in matti.detail
    assert asa.action == "placed"
    kept = next((c.workspace / "moodle" / fx.SLUG / "originals").glob("rikki-*"))
    assert list(kept.rglob("99_kokeilu.ipynb.UNREADABLE.txt"))


def test_feedback_before_collect_says_what_to_do(course, capsys):
    c, _ = course
    assert cli.main(["moodle", "feedback", fx.SLUG, "--course-dir", str(c.root)]) == 2
    assert f"run `crmkit moodle collect {fx.SLUG} SUBMISSIONS.zip --worksheet WORKSHEET.csv` first" in \
        capsys.readouterr().err
