"""Reading Moodle's "Download all submissions" zip: both layouts, Finnish names, odd entries, bad files."""

from __future__ import annotations

import zipfile

import pytest
from conftest import mf

from crmkit.engine.moodle import MoodleError, submissions


def _files(download):
    return {pid: sorted((f.path, f.plugin) for f in p.files) for pid, p in download.participants.items()}


def test_both_layouts_give_the_same_participants_and_files(moodle_files):
    folders = submissions.read(moodle_files.folders)
    flat = submissions.read(moodle_files.flat)
    assert folders.layouts == {submissions.FOLDERS} and flat.layouts == {submissions.FLAT}
    assert _files(folders) == _files(flat)
    assert not folders.unrecognised and not flat.unrecognised
    with_files = {p.pid for p in mf.CLASS if p.files or p.online_text}
    assert set(folders.participants) == with_files  # Ville Nyström submitted nothing: not in the zip
    asa = folders.participants[1048214]
    assert asa.full_name == "Åsa Öhman-Kärkkäinen" and asa.prefix == "Åsa Öhman-Kärkkäinen_1048214"
    assert [f.entry for f in asa.files] == ["Åsa Öhman-Kärkkäinen_1048214_assignsubmission_file/99_kokeilu.ipynb"]
    # two students with the same name are two participants
    assert folders.participants[1048215].full_name == folders.participants[1048216].full_name == "Juha Mäkinen"
    assert _files(folders)[1048218] == [("99_kokeilu.ipynb", "assignsubmission_file"),
                                         ("kopio.ipynb", "assignsubmission_file")]
    assert _files(flat)[1048217] == [("99_kokeilu (1).ipynb", "assignsubmission_file")]
    assert _files(flat)[1048224] == [("onlinetext.html", "assignsubmission_onlinetext")]
    assert folders.read(asa.files[0]).startswith(b"{")


def test_older_moodle_rezipped_folders_hidden_files_and_strangers(tmp_path):
    """Moodle < 4.1 wrote `..._assignsubmission_file_/`; a zip unpacked and packed again has a folder
    above; the Mac adds __MACOSX and .DS_Store; anything else is listed, never dropped."""
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Matti Meikäläinen_17_assignsubmission_file_/03_segmentointi.ipynb", b"{}")
        z.writestr("CUS4LH102-Segmentointi-88/Anna-Liisa Ylä-Mäki_18_assignsubmission_file/alikansio/kopio.ipynb", b"{}")
        z.writestr("__MACOSX/Matti Meikäläinen_17_assignsubmission_file_/._03_segmentointi.ipynb", b"x")
        z.writestr("Matti Meikäläinen_17_assignsubmission_file_/.DS_Store", b"x")
        z.writestr("muistiinpanot.txt", b"x")
        z.writestr("Ryhmä 3_assignsubmission_file/x.ipynb", b"{}")  # a group's download: no participant id
    d = submissions.read(path)
    assert _files(d) == {17: [("03_segmentointi.ipynb", "assignsubmission_file")],
                         18: [("alikansio/kopio.ipynb", "assignsubmission_file")]}
    assert d.participants[18].full_name == "Anna-Liisa Ylä-Mäki"
    assert len(d.ignored) == 2
    assert d.unrecognised == ["muistiinpanot.txt", "Ryhmä 3_assignsubmission_file/x.ipynb"]


def test_utf8_names_without_the_zip_utf8_flag_are_read_as_utf8(tmp_path):
    path = tmp_path / "s.zip"
    name = "Tiina Kärppä_5_assignsubmission_file/03_segmentointi.ipynb"
    raw = name.encode("utf-8")
    placeholder = b"x" * len(raw)  # an ASCII name of the same length, then the UTF-8 bytes put in its place:
    with zipfile.ZipFile(path, "w") as z:  # an archiver that writes UTF-8 names without the flag
        z.writestr(placeholder.decode(), b"{}")
    path.write_bytes(path.read_bytes().replace(placeholder, raw))
    with zipfile.ZipFile(path) as z:
        assert not z.infolist()[0].flag_bits & 0x800
    d = submissions.read(path)
    assert d.participants[5].full_name == "Tiina Kärppä"
    assert d.read(d.participants[5].files[0]) == b"{}"


def test_not_a_zip_is_a_clear_error(tmp_path):
    bad = tmp_path / "palautukset.zip"
    bad.write_bytes(b"<html>Moodle login page</html>")
    with pytest.raises(MoodleError, match=r"palautukset.zip: not a zip archive .* download the submissions"):
        submissions.read(bad)
    with pytest.raises(MoodleError, match="no such file"):
        submissions.read(tmp_path / "ei.zip")


def test_the_name_split_is_moodles():
    """explode('_', $part, 5): name, id, subtype, type, rest (mod/assign/feedback/file/importziplib.php)."""
    assert submissions.parse_part("Student Name_12_assignsubmission_file_My_cool_filename.txt") == \
        ("Student Name", 12, "assignsubmission_file", "My_cool_filename.txt")
    assert submissions.parse_part("Student Name_StringID_assignsubmission_file_x.txt") is None
    assert submissions.parse_part("Student Name_12_assignsubmission_file") == ("Student Name", 12,
                                                                              "assignsubmission_file", "")
    assert submissions.parse_part("Student Name_12_somethingelse_file") is None
