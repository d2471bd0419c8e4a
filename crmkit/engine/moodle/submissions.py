"""Read Moodle's *Download all submissions* zip (the assignment module, ``mod_assign``).

The format, as Moodle's source writes it (``mod/assign/classes/downloader.php``, Moodle 4.1 and
later; ``assign::download_submissions()`` in ``mod/assign/locallib.php`` before):

* every participant has a *prefix*: ``clean_filename(str_replace('_', ' ', <full name>) . '_' .
  <participant id>)`` – the full name with its underscores turned into spaces, an underscore, and
  the participant id (``assign::get_uniqueid_for_user()``: a number of this assignment, not the
  Moodle user id). Anonymous submissions show ``Participant`` instead of the name;
* with *Download submissions in folders* (the user preference ``assign_downloadasfolders``, on by
  default) each plugin's files go into a folder ``<prefix>_<subtype>_<type>/`` with their own
  names and subfolders, e.g. ``Matti Meikäläinen_1234567_assignsubmission_file/03_segmentointi.ipynb``.
  Moodle before 4.1 wrote the folder with a trailing underscore (``…_assignsubmission_file_/``), as
  ``mod/assign/feedback/file/importziplib.php`` notes; both are read;
* without folders every file is ``<prefix>_<subtype>_<type>_<file name>`` in the zip's root;
* online text arrives as ``onlinetext.html`` of ``assignsubmission_onlinetext``;
* the archive is written by ``core_files\\local\\archive_writer\\zip_writer``
  (``files/classes/local/archive_writer/zip_writer.php``), which adds each file from a stream without
  its modification time: the times inside the zip are not the submission times (those come from the
  grading worksheet, :mod:`.worksheet`).

Like Moodle's own importer (``is_valid_filename_for_import``), any folders above the participant's
part of a path are ignored (a zip that was unpacked and packed again), and so are hidden files
(``.``/``~`` first) and ``__MACOSX/``. Entries that follow none of these names are listed, never
dropped silently.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.engine.moodle import MoodleError

SUBTYPES = ("assignsubmission", "assignfeedback")
FOLDERS, FLAT = "folders", "flat"


@dataclass
class SubmittedFile:
    """One file of one participant's submission."""

    path: str  # the file's path inside the submission, e.g. "03_segmentointi.ipynb" or "vanha/x.ipynb"
    entry: str  # the zip entry's name as Moodle wrote it
    plugin: str  # e.g. "assignsubmission_file", "assignsubmission_onlinetext"
    layout: str  # FOLDERS or FLAT

    @property
    def name(self) -> str:
        """The file name without folders."""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class Participant:
    """One participant's files in the zip."""

    participant_id: int
    full_name: str  # as in the zip (underscores became spaces)
    prefix: str  # "<full name>_<participant id>", the start of every name Moodle gave this participant
    files: list[SubmittedFile] = field(default_factory=list)


@dataclass
class Download:
    """A read submissions zip."""

    path: Path
    participants: dict[int, Participant]
    layouts: set[str]  # FOLDERS, FLAT or both
    ignored: list[str] = field(default_factory=list)  # hidden files and folders
    unrecognised: list[str] = field(default_factory=list)  # entries that follow no Moodle name

    def read(self, f: SubmittedFile) -> bytes:
        """The bytes of one file; raises :class:`MoodleError` naming the entry if the zip's copy is damaged."""
        try:
            with zipfile.ZipFile(self.path) as z:
                return z.read(_raw_names(z)[f.entry])
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
            raise MoodleError(f"{self.path}: the file {f.entry!r} cannot be read from the zip ({e}); "
                              "download the submissions from Moodle again") from None


def _decoded(info: zipfile.ZipInfo) -> str:
    """The entry's name; a UTF-8 name without the zip's UTF-8 flag (which Python then reads as cp437)
    is decoded as UTF-8."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _raw_names(z: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    return {_decoded(i): i for i in z.infolist()}


def parse_part(part: str) -> tuple[str, int, str, str] | None:
    """``"<full name>_<id>_<subtype>_<type>[_<rest>]"`` -> (full name, id, plugin, rest), else None.

    The same split as Moodle's importer (``explode('_', $pathpart, 5)``): the full name holds no
    underscore (Moodle turned them into spaces), the id is a number, the subtype is a plugin type.
    """
    bits = part.split("_", 4)
    if len(bits) < 4 or not bits[1].isdigit() or bits[2] not in SUBTYPES or not bits[3]:
        return None
    return bits[0], int(bits[1]), f"{bits[2]}_{bits[3]}", bits[4] if len(bits) == 5 else ""


def _hidden(parts: list[str]) -> bool:
    return any(p.startswith((".", "~")) or p == "__MACOSX" for p in parts)


def read(path: str | Path) -> Download:
    """Read a *Download all submissions* zip; raises :class:`MoodleError` if it is not a readable zip."""
    path = Path(path)
    if not path.is_file():
        raise MoodleError(f"{path}: no such file (download it in Moodle: the assignment → "
                          "View all submissions → Download all submissions)")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise MoodleError(f"{path}: not a zip archive ({e}); download the submissions from Moodle again "
                          "(Download all submissions) and give that file as it is") from None
    out = Download(path=path, participants={}, layouts=set())
    with z:
        for info in z.infolist():
            name = _decoded(info)
            if info.is_dir():
                continue
            parts = [p for p in name.split("/") if p]
            if _hidden(parts):
                out.ignored.append(name)
                continue
            if any(p == ".." for p in parts):
                out.unrecognised.append(name)
                continue
            for i, part in enumerate(parts):
                parsed = parse_part(part)
                if parsed is None:
                    continue
                full_name, pid, plugin, rest = parsed
                inner = parts[i + 1:]
                if inner:  # a folder per participant and plugin (rest is "" or, before 4.1, the trailing "_")
                    layout, file_path = FOLDERS, "/".join(([rest] if rest else []) + inner)
                elif rest:
                    layout, file_path = FLAT, rest
                else:
                    continue
                p = out.participants.setdefault(pid, Participant(pid, full_name, f"{full_name}_{pid}"))
                p.files.append(SubmittedFile(path=file_path, entry=name, plugin=plugin, layout=layout))
                out.layouts.add(layout)
                break
            else:
                out.unrecognised.append(name)
    return out
