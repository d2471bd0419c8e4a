"""Reading one source file: its encoding (cp1252 or UTF-8 with a BOM), separator and header."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from crmkit.runtime.importer.mapping import TableMapping
from crmkit.runtime.importer.problems import BadValue, Problem, ProblemList

_SEPARATORS = (";", ",", "\t", "|")
_SEP_NAMES = {";": "';' (semicolon)", ",": "',' (comma)", "\t": "a tab", "|": "'|'"}


@dataclass
class SourceFile:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)


def _decode(raw: bytes, encoding: str) -> str:
    def bad_row(err: UnicodeDecodeError, data: bytes) -> int:
        return data[:err.start].count(b"\n") + 1

    if encoding == "auto":
        if raw.startswith(codecs.BOM_UTF8):
            try:
                return raw[len(codecs.BOM_UTF8):].decode("utf-8")
            except UnicodeDecodeError as e:
                raise BadValue(f"the file starts with a UTF-8 byte order mark but row {bad_row(e, raw[3:])} is not UTF-8",
                           "save the file again from Excel as 'CSV UTF-8' or as 'CSV (puolipisteerotin)'") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        encoding = "cp1252"
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    if enc != "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
        raise BadValue(f"the file starts with a UTF-8 byte order mark, so it is UTF-8, not {encoding}",
                   'set encoding = "auto" (or "utf-8") in the mapping')
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as e:
        raise BadValue(f"row {bad_row(e, raw)} cannot be read as {encoding} (byte {raw[e.start:e.start + 1]!r})",
                   'set encoding = "auto" in the mapping, or save the file from Excel as '
                   "'CSV UTF-8' or 'CSV (puolipisteerotin)'") from None


def norm_header(h: str) -> str:
    return " ".join(h.replace("\ufeff", "").split())


def read_source(tm: TableMapping, problems: ProblemList, cache: dict) -> SourceFile | None:
    key = (tm.file, tm.encoding, tm.separator)
    if key in cache:
        return cache[key]
    fname = tm.file.name
    src = None
    try:
        if not tm.file.is_file():
            raise BadValue(f"the file {str(tm.file)!r} was not found",
                       f"check file = ... under [{tm.table}] in the mapping; the path is relative to the mapping file")
        text = _decode(tm.file.read_bytes(), tm.encoding)
        sep = tm.separator
        if text.startswith("sep=") and len(text) > 4 and text[5:6] in ("\r", "\n"):
            sep, text = text[4], text.split("\n", 1)[1] if "\n" in text else ""  # Excel's "sep=;" line
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        while records and not any(c.strip() for c in records[0]):
            records.pop(0)
        if not records:
            raise BadValue("the file is empty", "export the table again with a header row and data rows")
        header = [norm_header(h) for h in records[0]]
        _check_separator(tm, header, text, sep)
        rows = []
        for i, rec in enumerate(records[1:], start=2):
            if not any(c.strip() for c in rec):
                continue  # an empty row (Excel often leaves ;;;; rows at the end)
            if len(rec) > len(header) and not any(c.strip() for c in rec[len(header):]):
                rec = rec[:len(header)]
            if len(rec) != len(header):
                problems.add(Problem(
                    fname, f"the row has {len(rec)} cells but the header has {len(header)}",
                    f"a value probably contains the separator {_SEP_NAMES.get(sep, repr(sep))} or a line break "
                    "without quotes: put the value in double quotes or remove the character, then save again",
                    row=i, column="(whole row)", value=sep.join(rec)[:80]))
                continue
            rows.append((i, rec))
        src = SourceFile(header, rows)
    except BadValue as b:
        problems.add(Problem(fname, b.message, b.fix, row=1 if "separat" in b.message else None))
        src = None
    cache[key] = src
    return src


def _check_separator(tm: TableMapping, header: list[str], text: str, sep: str) -> None:
    """Raise BadValue if the mapped headers are found only when the file is split at another character."""
    wanted = {norm_header(h) for h in tm.columns.values()}
    if not wanted:
        return
    found = len(wanted & set(header))
    if found == len(wanted):
        return
    first_line = text.splitlines()[0] if text else ""
    best, best_found = None, found
    for alt in _SEPARATORS:
        if alt == sep:
            continue
        try:
            alt_header = {norm_header(h) for h in next(csv.reader([first_line], delimiter=alt))}
        except StopIteration:
            continue
        n = len(wanted & alt_header)
        if n > best_found:
            best, best_found = alt, n
    if best is not None:
        raise BadValue(f"wrong separator: the file is separated by {_SEP_NAMES.get(best, repr(best))}, "
                   f"not by {_SEP_NAMES.get(sep, repr(sep))}",
                   f"save it from Excel as 'CSV (puolipisteerotin)' / 'CSV (semicolon delimited)', or set "
                   f"separator = {best!r} under [{tm.table}] in the mapping")
    if len(header) == 1 and len(wanted) > 1:
        raise BadValue(f"the whole header is read as one column ({header[0][:60]!r}): the file is not separated by "
                   f"{_SEP_NAMES.get(sep, repr(sep))}",
                   "save it from Excel as 'CSV (puolipisteerotin)' / 'CSV (semicolon delimited)', or set "
                   f"separator = ... under [{tm.table}] in the mapping to the character between the headers")
