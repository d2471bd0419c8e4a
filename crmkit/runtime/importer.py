"""Import a teacher's or a company's own data: Finnish Excel CSV exports onto the kit's schema.

One job: read + map + validate + pseudonymise + write atomically.

- A *mapping file* (TOML, see ``data/import/README.md``) names, per kit table, the source CSV, the
  column map (kit column -> source header), optional value maps, constants and defaults, the
  encoding, separator, decimal mark and date formats.
- Reading understands Finnish Excel exports: ``;`` separator, decimal comma (``1 234,50``,
  ``1.234,50``), dates ``dd.mm.yyyy``, booleans Kyllä/Ei, K/E, 1/0, cp1252 or UTF-8 with a BOM.
- Every problem is collected (up to :data:`PER_COLUMN_CAP` per column) as a :class:`Problem`
  naming the file, the row as a spreadsheet shows it (header = row 1), the source column and the
  kit column, the bad value and the fix. The schema checks of :mod:`crmkit.runtime.checks` run on the
  result; duplicate keys and unknown foreign keys are traced back to their rows.
- Personal identifiers (:data:`PERSONAL`) are replaced by salted HMAC-SHA256 tokens unless the
  caller explicitly opts out.
- Output is written into a temporary folder next to the output folder and moved into place only
  when every table passed; a failed import writes nothing (not even a salt file).

Public API: :func:`import_export` (returns the tables), :func:`run_import` (also returns what was
written and notes for the user), :func:`load_mapping`, :func:`pseudonym`, :class:`Problem`,
:class:`ImportProblems`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import hmac
import io
import os
import re
import secrets
import shutil
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from crmkit.runtime.checks import check_world
from crmkit.runtime.errors import KitError
from crmkit.runtime.data import read_table, write_table
from crmkit.runtime.schema import EARLIEST, TABLE_BY_NAME, TODAY, Column, Table

#: At most this many problems are listed per file and column; the rest are counted in one line.
PER_COLUMN_CAP = 10
#: Name of the default salt file, created next to the mapping file.
SALT_FILE_NAME = ".crmkit-salt"
DEFAULT_DATE_FORMATS = ("%d.%m.%Y",)
DEFAULT_DATETIME_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
_ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
_SEPARATORS = (";", ",", "\t", "|")
_SEP_NAMES = {";": "';' (semicolon)", ",": "',' (comma)", "\t": "a tab", "|": "'|'"}

#: (table, column) -> kind of personal identifier that is pseudonymised.
#: customers.name only for rows that are not B2B (a company name is not personal data).
PERSONAL: dict[tuple[str, str], str] = {
    ("customers", "name"): "name",
    ("customers", "email"): "email",
    ("customers", "phone"): "phone",
    ("contacts", "first_name"): "name",
    ("contacts", "last_name"): "name",
    ("contacts", "email"): "email",
    ("contacts", "phone"): "phone",
    ("staff", "name"): "name",
}
_TOKEN_HEX = 12  # 48 bits: a collision is checked for and reported, not assumed away

_TRUE = {"kyllä", "k", "1", "true", "tosi", "yes", "y"}
_FALSE = {"ei", "e", "0", "false", "epätosi", "no", "n"}

_TOP_KEYS = {"encoding", "separator", "decimal", "date_format", "datetime_format", "salt_file", "reference_folder"}
_TABLE_KEYS = {"file", "columns", "values", "constants", "defaults", "encoding", "separator", "decimal",
               "date_format", "datetime_format"}


# --------------------------------------------------------------------------------------------
# problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the import, located as precisely as possible.

    ``file`` is the file's name (a source CSV, the mapping file or an output file), ``row`` the row
    as a spreadsheet shows it (the header is row 1; ``None`` if the problem is not about one row),
    ``column`` the source column header, ``kit_column`` the kit's ``table.column``, ``value`` the
    offending value as text, ``message`` what is wrong and ``fix`` what to do.
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    kit_column: str | None = None
    value: str | None = None

    @property
    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f'column "{self.column}"' + (f" ({self.kit_column})" if self.kit_column else ""))
        elif self.kit_column:
            parts.append(f"column {self.kit_column}")
        return ", ".join(parts)

    @property
    def description(self) -> str:
        """What is wrong, with the offending value: "value '31.02.2024' is not a valid date ..."."""
        if self.value is None:
            return self.message
        if self.message.startswith("is "):
            return f"value {self.value!r} {self.message}"
        return f"value {self.value!r}: {self.message}"

    def __str__(self) -> str:
        return f"{self.location}: {self.description}. Fix: {self.fix}"


class ImportProblems(KitError, ValueError):
    """The import failed; ``problems`` lists every :class:`Problem` found. Nothing was written."""

    def __init__(self, problems: list[Problem], source: str = "import"):
        self.problems = list(problems)
        super().__init__("\n".join([f"{source}: {len(self.problems)} problem(s); nothing was written:"]
                                   + [f"- {p}" for p in self.problems]))


class _Problems:
    """Collects problems, listing at most PER_COLUMN_CAP per (file, column) and counting the rest."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._listed: Counter = Counter()
        self._more: Counter = Counter()
        self._first: dict = {}
        self.cells: set[tuple[str, int]] = set()  # (kit column, row) of every problem, listed or not

    def add(self, p: Problem) -> None:
        if p.row is not None and p.kit_column:
            self.cells.add((p.kit_column, p.row))
        key = (p.file, p.column or p.kit_column or "")
        if p.row is not None and self._listed[key] >= PER_COLUMN_CAP:
            self._more[key] += 1
            self._first.setdefault(key, p)
            return
        self._listed[key] += 1
        self.items.append(p)

    def kit_columns(self) -> set[str]:
        return {p.kit_column for p in self.items if p.kit_column}

    def result(self) -> list[Problem]:
        files = {}
        for p in self.items:
            files.setdefault(p.file, len(files))
        out = sorted(self.items, key=lambda p: (files[p.file], p.row or 0))  # stable: column order within a row
        for key, n in self._more.items():
            p = self._first[key]
            out.append(Problem(p.file, f"{n} more problems in this column are not listed",
                               "fix the ones listed above (they are usually of the same kind) and run the import again",
                               column=p.column, kit_column=p.kit_column))
        return out

    def __bool__(self) -> bool:
        return bool(self.items)


class _Bad(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


# --------------------------------------------------------------------------------------------
# the mapping file


@dataclass
class TableMapping:
    """How one kit table is read from one source CSV (see data/import/README.md)."""

    table: str
    file: Path
    columns: dict[str, str] = field(default_factory=dict)  # kit column -> source header
    values: dict[str, dict] = field(default_factory=dict)  # kit column -> {source text: kit value}
    constants: dict = field(default_factory=dict)  # kit column -> value for every row
    defaults: dict = field(default_factory=dict)  # kit column -> value for empty cells
    encoding: str = "auto"
    separator: str = ";"
    decimal: str = ","
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    datetime_formats: tuple[str, ...] = DEFAULT_DATETIME_FORMATS

    @property
    def schema(self) -> Table:
        return TABLE_BY_NAME[self.table]


@dataclass
class Mapping:
    """A parsed mapping file."""

    path: Path
    tables: dict[str, TableMapping]
    salt_file: Path | None = None
    reference_folder: Path | None = None


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _formats(value, default, name: str, where: str, problems: _Problems, mfile: str) -> tuple[str, ...]:
    if value is None:
        return default
    vals = [value] if isinstance(value, str) else value
    if not isinstance(vals, list) or not vals or not all(isinstance(v, str) and "%" in v for v in vals):
        problems.add(Problem(mfile, f"{where}{name} = {value!r} is not a date format",
                             f'write e.g. {name} = "%d.%m.%Y" or a list such as ["%d.%m.%Y", "%d.%m.%y"]'))
        return default
    return tuple(vals)


def load_mapping(path: str | os.PathLike) -> Mapping:
    """Read and check a mapping file; raise :class:`ImportProblems` listing every mistake in it."""
    path = Path(path)
    mfile = path.name
    problems = _Problems()
    if not path.is_file():
        raise ImportProblems([Problem(mfile, f"mapping file {str(path)!r} not found",
                                      "give the path of a .toml mapping file; see data/import/example_mapping.toml")])
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportProblems([Problem(mfile, "the mapping file is not UTF-8 text",
                                      "save the mapping file as UTF-8 (any text editor can do it)")]) from None
    except tomllib.TOMLDecodeError as e:
        raise ImportProblems([Problem(mfile, f"not valid TOML: {e}",
                                      'check the quoting on that line: headers and values go in double quotes (name = "Nimi"), '
                                      'and so do keys with ä, ö, å or spaces ("Myymälä" = "myymälä")')]) from None

    base = path.parent
    top = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    for k in top:
        if k not in _TOP_KEYS:
            problems.add(Problem(mfile, f"unknown setting {k!r}{_suggest(k, _TOP_KEYS)}",
                                 f"use one of {sorted(_TOP_KEYS)}, or start a table section such as [customers]"))
    tables: dict[str, TableMapping] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            continue
        if name not in TABLE_BY_NAME:
            problems.add(Problem(mfile, f"[{name}] is not a table of the kit{_suggest(name, TABLE_BY_NAME)}",
                                 f"name the section after a kit table: {', '.join(TABLE_BY_NAME)}"))
            continue
        tm = _table_mapping(name, spec, top, base, mfile, problems)
        if tm is not None:
            tables[name] = tm
    if not tables and not problems:
        problems.add(Problem(mfile, "the mapping names no table",
                             'add a section such as [customers] with file = "asiakkaat.csv" and a [customers.columns] map'))
    if problems:
        raise ImportProblems(problems.result(), mfile)
    salt = top.get("salt_file")
    ref = top.get("reference_folder")
    return Mapping(path, tables,
                   salt_file=(base / salt) if isinstance(salt, str) else None,
                   reference_folder=Path(os.path.normpath(base / ref)) if isinstance(ref, str) else None)


def _table_mapping(name, spec, top, base, mfile, problems: _Problems) -> TableMapping | None:
    tbl = TABLE_BY_NAME[name]
    sec = f"[{name}]"
    for k in spec:
        if k not in _TABLE_KEYS:
            problems.add(Problem(mfile, f"unknown key {k!r} in {sec}{_suggest(k, _TABLE_KEYS)}",
                                 f"use one of {sorted(_TABLE_KEYS)}"))
    file = spec.get("file")
    if not isinstance(file, str) or not file:
        problems.add(Problem(mfile, f"{sec} has no file", f'add file = "{name}.csv" (the CSV export, relative to the mapping file)'))
        return None

    def section(key) -> dict:
        v = spec.get(key, {})
        if not isinstance(v, dict):
            problems.add(Problem(mfile, f"{key} in {sec} must be a table", f"write it as a section [{name}.{key}]"))
            return {}
        for col in v:
            if col not in tbl.column_names:
                problems.add(Problem(mfile, f"[{name}.{key}] names {col!r}, which is not a column of {name}"
                                            f"{_suggest(col, tbl.column_names)}",
                                     f"use the kit's column names (data/DATA.md): {', '.join(tbl.column_names)}",
                                     kit_column=f"{name}.{col}"))
        return {k: x for k, x in v.items() if k in tbl.column_names}

    columns = section("columns")
    for col, header in list(columns.items()):
        if not isinstance(header, str) or not header.strip():
            problems.add(Problem(mfile, f"[{name}.columns] {col} must be the source column's header in quotes",
                                 f'write e.g. {col} = "Otsikko"', kit_column=f"{name}.{col}"))
            del columns[col]
    values = section("values")
    for col, vmap in list(values.items()):
        if not isinstance(vmap, dict):
            problems.add(Problem(mfile, f"[{name}.values] {col} must be a table of source value = kit value",
                                 f'write a section [{name}.values.{col}] with lines such as "Kuluttaja" = "B2C"',
                                 kit_column=f"{name}.{col}"))
            del values[col]
    for col, vmap in values.items():
        c = tbl.column(col)
        for src_value, kit_value in vmap.items():
            if c.values and isinstance(kit_value, str) and kit_value.strip() and kit_value not in c.values:
                problems.add(Problem(mfile, f"[{name}.values.{col}] maps {src_value!r} to {kit_value!r}, which is not "
                                            f"one of the allowed values {list(dict.fromkeys(c.values))}"
                                            f"{_suggest(kit_value, [str(x) for x in c.values])}",
                                     "write one of the allowed values on the right-hand side", kit_column=f"{name}.{col}"))
    constants = section("constants")
    defaults = section("defaults")
    for col in set(columns) & set(constants):
        problems.add(Problem(mfile, f"{name}.{col} is both mapped to a source column and given a constant",
                             f"remove it from [{name}.columns] or from [{name}.constants]", kit_column=f"{name}.{col}"))
    for c in tbl.columns:
        if not c.nullable and c.name not in columns and c.name not in constants and c.name not in defaults:
            problems.add(Problem(
                mfile, f"required column {name}.{c.name} ({c.en}) is not mapped",
                f'add {c.name} = "<header in your file>" under [{name}.columns], or a fixed value for every row '
                f'under [{name}.constants]', kit_column=f"{name}.{c.name}"))

    def setting(key, default):
        return spec.get(key, top.get(key, default))

    encoding = setting("encoding", "auto")
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            problems.add(Problem(mfile, f"{sec}: unknown encoding {encoding!r}",
                                 'use encoding = "auto" (UTF-8 with or without BOM, else cp1252), "utf-8" or "cp1252"'))
            encoding = "auto"
    separator = setting("separator", ";")
    if separator == "\\t":
        separator = "\t"
    if not isinstance(separator, str) or len(separator) != 1:
        problems.add(Problem(mfile, f"{sec}: separator {separator!r} must be one character",
                             'use separator = ";" (Finnish Excel), "," or "\\t"'))
        separator = ";"
    decimal = setting("decimal", ",")
    if decimal not in (",", "."):
        problems.add(Problem(mfile, f"{sec}: decimal {decimal!r} must be \",\" or \".\"",
                             'use decimal = "," for a Finnish export'))
        decimal = ","
    return TableMapping(
        table=name, file=base / file, columns=columns, values=values, constants=constants, defaults=defaults,
        encoding=encoding, separator=separator, decimal=decimal,
        date_formats=_formats(setting("date_format", None), DEFAULT_DATE_FORMATS, "date_format", f"{sec}: ",
                              problems, mfile),
        datetime_formats=_formats(setting("datetime_format", None), DEFAULT_DATETIME_FORMATS, "datetime_format",
                                  f"{sec}: ", problems, mfile),
    )


# --------------------------------------------------------------------------------------------
# reading a source file


@dataclass
class _Source:
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
                raise _Bad(f"the file starts with a UTF-8 byte order mark but row {bad_row(e, raw[3:])} is not UTF-8",
                           "save the file again from Excel as 'CSV UTF-8' or as 'CSV (puolipisteerotin)'") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        encoding = "cp1252"
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    if enc != "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
        raise _Bad(f"the file starts with a UTF-8 byte order mark, so it is UTF-8, not {encoding}",
                   'set encoding = "auto" (or "utf-8") in the mapping')
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as e:
        raise _Bad(f"row {bad_row(e, raw)} cannot be read as {encoding} (byte {raw[e.start:e.start + 1]!r})",
                   'set encoding = "auto" in the mapping, or save the file from Excel as '
                   "'CSV UTF-8' or 'CSV (puolipisteerotin)'") from None


def _norm_header(h: str) -> str:
    return " ".join(h.replace("\ufeff", "").split())


def _read_source(tm: TableMapping, problems: _Problems, cache: dict) -> _Source | None:
    key = (tm.file, tm.encoding, tm.separator)
    if key in cache:
        return cache[key]
    fname = tm.file.name
    src = None
    try:
        if not tm.file.is_file():
            raise _Bad(f"the file {str(tm.file)!r} was not found",
                       f"check file = ... under [{tm.table}] in the mapping; the path is relative to the mapping file")
        text = _decode(tm.file.read_bytes(), tm.encoding)
        sep = tm.separator
        if text.startswith("sep=") and len(text) > 4 and text[5:6] in ("\r", "\n"):
            sep, text = text[4], text.split("\n", 1)[1] if "\n" in text else ""  # Excel's "sep=;" line
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        while records and not any(c.strip() for c in records[0]):
            records.pop(0)
        if not records:
            raise _Bad("the file is empty", "export the table again with a header row and data rows")
        header = [_norm_header(h) for h in records[0]]
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
        src = _Source(header, rows)
    except _Bad as b:
        problems.add(Problem(fname, b.message, b.fix, row=1 if "separat" in b.message else None))
        src = None
    cache[key] = src
    return src


def _check_separator(tm: TableMapping, header: list[str], text: str, sep: str) -> None:
    """Raise _Bad if the mapped headers are found only when the file is split at another character."""
    wanted = {_norm_header(h) for h in tm.columns.values()}
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
            alt_header = {_norm_header(h) for h in next(csv.reader([first_line], delimiter=alt))}
        except StopIteration:
            continue
        n = len(wanted & alt_header)
        if n > best_found:
            best, best_found = alt, n
    if best is not None:
        raise _Bad(f"wrong separator: the file is separated by {_SEP_NAMES.get(best, repr(best))}, "
                   f"not by {_SEP_NAMES.get(sep, repr(sep))}",
                   f"save it from Excel as 'CSV (puolipisteerotin)' / 'CSV (semicolon delimited)', or set "
                   f"separator = {best!r} under [{tm.table}] in the mapping")
    if len(header) == 1 and len(wanted) > 1:
        raise _Bad(f"the whole header is read as one column ({header[0][:60]!r}): the file is not separated by "
                   f"{_SEP_NAMES.get(sep, repr(sep))}",
                   "save it from Excel as 'CSV (puolipisteerotin)' / 'CSV (semicolon delimited)', or set "
                   f"separator = ... under [{tm.table}] in the mapping to the character between the headers")


# --------------------------------------------------------------------------------------------
# parsing one value

_SPACES = " \u00a0\u202f"


def _number_patterns(decimal: str):
    thousands = "[ \u00a0\u202f.]" if decimal == "," else "[ \u00a0\u202f,]"
    d = re.escape(decimal)
    return re.compile(rf"^([+-]?)(\d{{1,3}}(?:({thousands})\d{{3}})(?:\3\d{{3}})*|\d+)(?:{d}(\d+))?$")


_NUMBER_RE = {",": _number_patterns(","), ".": _number_patterns(".")}


def _parse_number(text: str, tm: TableMapping) -> float:
    t = text.replace("\u2212", "-").strip()
    if t.endswith("€"):
        t = t[:-1].strip()
    m = _NUMBER_RE[tm.decimal].match(t)
    if not m:
        if tm.decimal == "," and re.fullmatch(r"[+-]?\d+\.\d+", t):
            raise _Bad("is written with a decimal point, but the mapping expects a decimal comma",
                       f'write it as {t.replace(".", ",")}, or set decimal = "." under [{tm.table}] if the whole '
                       "file uses decimal points")
        example = "1 234,50" if tm.decimal == "," else "1234.50"
        raise _Bad("is not a number",
                   f"write a number such as {example} (no letters or units), or leave the cell empty if the "
                   "column may be empty")
    sign, whole, _, frac = m.groups()
    digits = "".join(ch for ch in whole if ch.isdigit())
    return float(f"{sign}{digits}.{frac or '0'}")


def _parse_date(text: str, col: Column, tm: TableMapping) -> pd.Timestamp:
    t = " ".join(text.split())
    fmts = tm.date_formats if col.type == "date" else tm.datetime_formats + tm.date_formats
    for fmt in fmts + _ISO_FORMATS:
        try:
            dt = datetime.strptime(t, fmt)
        except ValueError:
            continue
        if col.type == "date" and (dt.hour or dt.minute or dt.second):
            raise _Bad("has a time of day, but the column holds dates only",
                       "format the column in Excel as a date (pp.kk.vvvv) without a time, and save again")
        return pd.Timestamp(dt)
    shown = " or ".join(f.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")
                        .replace("%H", "hh").replace("%M", "mm").replace("%S", "ss") for f in fmts)
    if re.fullmatch(r"\d{5}([.,]\d+)?", t):
        raise _Bad("looks like an Excel date serial number, not a date",
                   "format the column in Excel as a date (pp.kk.vvvv) before saving the CSV")
    raise _Bad(f"is not a valid date in the form {shown}",
               f"write a real date as {shown} (e.g. 05.03.2024), or set date_format under [{tm.table}] "
               "if the file writes dates differently")


def _parse_text(text: str, col: Column, tm: TableMapping):
    """Parse one non-empty, stripped source text into the column's type, or raise _Bad."""
    if col.type in ("id", "str", "cat"):
        return text
    if col.type == "bool":
        low = text.casefold()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _Bad("is not a yes/no value",
                   f"use Kyllä/Ei, K/E or 1/0, or add a value map [{tm.table}.values.{col.name}] "
                   f'with e.g. "{text}" = true')
    if col.type == "int":
        x = _parse_number(text, tm)
        if x != int(x):
            raise _Bad("is not a whole number", "write a whole number without decimals, e.g. 12")
        return int(x)
    if col.type == "float":
        return _parse_number(text, tm)
    if col.type in ("date", "datetime"):
        return _parse_date(text, col, tm)
    raise ValueError(f"unknown column type {col.type!r}")


def _typed(value, col: Column, tm: TableMapping):
    """Accept a TOML value (from a value map, a constant or a default) for the column."""
    if isinstance(value, str):
        return _parse_text(value.strip(), col, tm) if value.strip() else None
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "date": isinstance(value, (date, datetime)),
        "datetime": isinstance(value, (date, datetime)),
    }.get(col.type, isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise _Bad(f"is not a {col.type} value", f"write a {col.type} value for {tm.table}.{col.name}")
    if col.type in ("id", "str", "cat"):
        return str(value)
    if col.type in ("date", "datetime"):
        return pd.Timestamp(value)
    return float(value) if col.type == "float" else value


def _lookup(vmap: dict, text: str):
    if text in vmap:
        return True, vmap[text]
    low = text.casefold()
    for k, v in vmap.items():
        if k.strip().casefold() == low:
            return True, v
    return False, None


# --------------------------------------------------------------------------------------------
# building one table


@dataclass
class _Loaded:
    tm: TableMapping
    df: pd.DataFrame
    rows: list[int]  # spreadsheet row number of each DataFrame row
    headers: dict[str, str]  # kit column -> source header actually used
    raw: dict[str, list[str]] = field(default_factory=dict)  # kit column -> the cells as written in the file

    @property
    def file(self) -> str:
        return self.tm.file.name


def _series(values: list, col: Column) -> pd.Series:
    has_na = any(v is None for v in values)
    if col.type in ("id", "str", "cat"):
        return pd.Series(values, dtype="str")
    if col.type == "int":
        return pd.Series(pd.array(values, dtype="Int64" if (col.nullable or has_na) else "int64"))
    if col.type == "float":
        return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    if col.type == "bool":
        return pd.Series(values, dtype="boolean" if has_na else "bool")
    return pd.Series(values, dtype="datetime64[us]")


def _build_table(tm: TableMapping, src: _Source | None, mfile: str, problems: _Problems) -> _Loaded | None:
    tbl, fname = tm.schema, tm.file.name
    headers: dict[str, str] = {}
    index = {}
    if src is not None:
        for i, h in enumerate(src.header):
            index.setdefault(h, i)
        dups = [h for h, n in Counter(src.header).items() if n > 1 and h in {_norm_header(x) for x in tm.columns.values()}]
        for h in dups:
            problems.add(Problem(fname, "the header appears more than once", "rename one of the columns in the file",
                                 row=1, column=h))
        casefolded = {}
        for h in src.header:
            casefolded.setdefault(h.casefold(), h)
        for kit, wanted in tm.columns.items():
            h = _norm_header(wanted)
            if h not in index and h.casefold() in casefolded:
                h = casefolded[h.casefold()]
            if h in index:
                headers[kit] = h
                continue
            col = tbl.column(kit)
            hint = _suggest(h, src.header)
            mojibake = any("Ã" in x for x in src.header)
            also = (' The headers look like UTF-8 read as cp1252: set encoding = "auto".' if mojibake else "")
            fix = (f'rename the column in the file, or change {kit} = "..." under [{tm.table}.columns] to one of the '
                   f"file's headers: {', '.join(src.header)}{hint}.{also}")
            if col.nullable:
                fix += f" Or delete the line {kit} = ... to leave {tm.table}.{kit} empty."
            else:
                fix += f" Or, if the file has no such column, give one value for every row under [{tm.table}.constants]."
            problems.add(Problem(fname, ("required column " if not col.nullable else "column ") + "not found in the header",
                                 fix, row=1, column=wanted, kit_column=f"{tm.table}.{kit}"))
    if src is None:
        return None
    n = len(src.rows)
    data, raw = {}, {}
    for col in tbl.columns:
        kit = f"{tm.table}.{col.name}"
        vmap = tm.values.get(col.name, {})
        default = None
        if col.name in tm.defaults:
            try:
                default = _typed(tm.defaults[col.name], col, tm)
            except _Bad as b:
                problems.add(Problem(mfile, f"the default [{tm.table}.defaults] {col.name} = "
                                            f"{tm.defaults[col.name]!r} {b.message}", b.fix, kit_column=kit))
        if col.name in tm.constants:
            try:
                v = _typed(tm.constants[col.name], col, tm)
            except _Bad as b:
                problems.add(Problem(mfile, f"the constant [{tm.table}.constants] {col.name} = "
                                            f"{tm.constants[col.name]!r} {b.message}", b.fix, kit_column=kit))
                v = None
            data[col.name] = [v] * n
            continue
        if col.name not in headers:
            data[col.name] = [default] * n
            continue
        j, header = index[headers[col.name]], headers[col.name]
        out = []
        for rownum, rec in src.rows:
            text = rec[j].strip()
            try:
                hit, mapped = _lookup(vmap, text) if vmap else (False, None)
                if hit:
                    v = _typed(mapped, col, tm)
                elif not text:
                    v = default
                else:
                    v = _parse_text(text, col, tm)
            except _Bad as b:
                problems.add(Problem(fname, b.message, b.fix, row=rownum, column=header, kit_column=kit, value=rec[j]))
                v = None
            out.append(v)
        data[col.name] = out
        raw[col.name] = [rec[j].strip() for _, rec in src.rows]
    df = pd.DataFrame({c.name: _series(data[c.name], c) for c in tbl.columns})
    return _Loaded(tm, df, [r for r, _ in src.rows], headers, raw)


def _check_rows(ld: _Loaded, mfile: str, problems: _Problems, bad_cells: set) -> None:
    """Row-level versions of the schema checks: required values, allowed values, ranges."""
    tm, df = ld.tm, ld.df
    for col in tm.schema.columns:
        kit = f"{tm.table}.{col.name}"
        header = ld.headers.get(col.name)
        values = df[col.name].tolist()
        if header is None:  # a constant, a default or an empty column: one value, check it once
            values = values[:1]
        for i, v in enumerate(values):
            row = ld.rows[i]
            if (kit, row) in bad_cells:
                continue
            loc = dict(row=row, column=header, kit_column=kit)
            file = ld.file
            if header is None:
                loc["row"], file = None, mfile
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                if not col.nullable and header is not None:
                    problems.add(Problem(file, "empty cell in a required column",
                                         f"fill in the {col.en}, or give a value for empty cells under "
                                         f"[{tm.table}.defaults]", **loc))
                continue
            if header is not None:
                shown = ld.raw[col.name][i]  # the value as written in the file
            else:
                shown = str(v.date()) if isinstance(v, pd.Timestamp) and col.type == "date" else str(v)
            if col.values and v not in col.values:
                allowed = list(dict.fromkeys(col.values))
                close = difflib.get_close_matches(str(v), [str(x) for x in allowed], n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                target = f'"{close[0]}"' if close else '"<one of the allowed values>"'
                problems.add(Problem(file, f"is not one of the allowed values {allowed}{hint}",
                                     f"correct the cell, or translate your file's values to the kit's under "
                                     f"[{tm.table}.values.{col.name}], e.g. \"{shown}\" = {target}",
                                     value=shown, **loc))
                continue
            if col.type in ("date", "datetime"):
                lo, hi = pd.Timestamp(col.min or EARLIEST), pd.Timestamp(col.max or latest_date()) + pd.Timedelta(days=1)
                if v < lo or v >= hi:
                    last = (hi - pd.Timedelta(days=1)).strftime("%d.%m.%Y")
                    problems.add(Problem(file, f"is outside the kit's date range {lo:%d.%m.%Y}–{last}",
                                         "check the date (a typo in the year?) or leave the row out", value=shown, **loc))
            elif col.type in ("int", "float"):
                if col.min is not None and v < col.min:
                    problems.add(Problem(file, f"is below the smallest allowed value {col.min}",
                                         f"correct the {col.en}", value=shown, **loc))
                if col.max is not None and v > col.max:
                    problems.add(Problem(file, f"is above the largest allowed value {col.max}",
                                         f"correct the {col.en}", value=shown, **loc))


def _check_keys(ld: _Loaded, problems: _Problems) -> None:
    tm, df = ld.tm, ld.df
    key = list(tm.schema.key)
    keys = df[key].copy()
    valid = keys.notna().all(axis=1)
    dup = keys.duplicated(keep=False) & valid
    if not dup.any():
        return
    groups: dict[tuple, list[int]] = {}
    for i in df.index[dup]:
        groups.setdefault(tuple(keys.loc[i].tolist()), []).append(ld.rows[i])
    header = " + ".join(ld.headers.get(k) or k for k in key)
    for k, rows in groups.items():
        shown = " / ".join(str(x) for x in k)
        first = ld.rows.index(rows[0])
        for r in rows[1:]:
            others = ", ".join(str(x) for x in rows if x != r)
            same = df.iloc[ld.rows.index(r)].equals(df.iloc[first])
            problems.add(Problem(
                ld.file, f"duplicate key: {'+'.join(key)} {shown!r} is also on row {others}"
                         + (" (the whole row is repeated)" if same else ""),
                f"each {'+'.join(key)} may occur only once: remove or merge the duplicate rows, or correct the id",
                row=r, column=header, kit_column=f"{tm.table}.{'+'.join(key)}", value=shown))


def _check_references(loaded: dict[str, _Loaded], mapping: Mapping, problems: _Problems, notes: list[str]) -> None:
    targets: dict[str, tuple[pd.DataFrame, str]] = {n: (ld.df, ld.file) for n, ld in loaded.items()}
    needed = {c.ref.split(".")[0] for ld in loaded.values() for c in ld.tm.schema.columns
              if c.ref and c.name in ld.df and ld.df[c.name].notna().any()}
    for name in sorted(needed - set(targets)):
        if mapping.reference_folder is None:
            continue
        try:
            targets[name] = (read_table(name, mapping.reference_folder), f"{name}.csv in {mapping.reference_folder}")
        except FileNotFoundError:
            notes.append(f"references to {name} not checked: {mapping.reference_folder / (name + '.csv')} is missing")
    for ld in loaded.values():
        for col in ld.tm.schema.columns:
            if not col.ref:
                continue
            ref_table, ref_col = col.ref.split(".")
            if ref_table not in targets:
                if ld.df[col.name].notna().any():
                    notes.append(f"{ld.tm.table}.{col.name} not checked against {col.ref}: {ref_table} is not imported"
                                 + ("" if mapping.reference_folder else " (set reference_folder to check it)"))
                continue
            ref_df, ref_file = targets[ref_table]
            known = set(ref_df[ref_col].dropna().astype(str))
            for i, v in enumerate(ld.df[col.name].tolist()):
                if v is None or (not isinstance(v, str) and pd.isna(v)) or str(v) in known:
                    continue
                problems.add(Problem(
                    ld.file, f"unknown {col.ref}: no such {ref_col} in {ref_file}",
                    f"correct the id, or add the missing row to {ref_file}; ids must match exactly",
                    row=ld.rows[i], column=ld.headers.get(col.name), kit_column=f"{ld.tm.table}.{col.name}",
                    value=str(v)))


_CHECK_PREFIX = re.compile(r"^(\w+)(?:\.(\w+))?: ")


def latest_date() -> str:
    """The last date imported data may carry: today (a company's own data runs past the data world's TODAY)."""
    return max(TODAY, pd.Timestamp.today().strftime("%Y-%m-%d"))


def _schema_problems(loaded: dict[str, _Loaded], problems: _Problems) -> None:
    """Run crmkit.runtime.checks and add whatever the row-level checks did not already report."""
    tables = {n: ld.df for n, ld in loaded.items()}
    covered = problems.kit_columns()
    covered_tables = {p.kit_column.split(".")[0] for p in problems.items
                      if p.kit_column and p.message.startswith("duplicate key")}
    for msg in check_world(tables, latest_date()):
        m = _CHECK_PREFIX.match(msg)
        table, col = (m.group(1), m.group(2)) if m else (None, None)
        if table and col and f"{table}.{col}" in covered:
            continue
        if table and not col and "is not unique" in msg and table in covered_tables:
            continue
        ld = loaded.get(table)
        problems.add(Problem(ld.file if ld else "import", msg, "see data/DATA.md for the column's rules",
                             column=ld.headers.get(col) if ld and col else None,
                             kit_column=f"{table}.{col}" if col else None))


# --------------------------------------------------------------------------------------------
# pseudonymisation


def _normalise(value: str, kind: str) -> str:
    if kind == "email":
        return value.strip().casefold()
    if kind == "phone":
        d = re.sub(r"[^\d+]", "", value)
        if d.startswith("00"):
            d = "+" + d[2:]
        elif d.startswith("0"):
            d = "+358" + d[1:]
        return d
    return " ".join(value.split()).casefold()


def pseudonym(value: str, kind: str, salt: bytes | str) -> str:
    """Salted HMAC-SHA256 token for a personal identifier of `kind` ('name', 'email' or 'phone').

    The value is normalised first (case and spacing; phone numbers to +358 form), so the same
    person gets the same token in every table and on every run with the same salt.
    """
    salt = salt.encode("utf-8") if isinstance(salt, str) else salt
    h = hmac.new(salt, f"{kind}\x1f{_normalise(value, kind)}".encode(), hashlib.sha256).hexdigest()[:_TOKEN_HEX]
    return {"name": f"hlö_{h}", "email": f"email_{h}@example.invalid", "phone": f"puh_{h}"}[kind]


def pseudonymise_tables(tables: dict[str, pd.DataFrame], salt: bytes | str) -> dict[str, pd.DataFrame]:
    """Return copies of `tables` with every personal identifier (:data:`PERSONAL`) replaced."""
    seen: dict[str, dict[str, str]] = {}
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for (tname, col), kind in PERSONAL.items():
            if tname != name or col not in df:
                continue
            mask = df[col].notna()
            if (name, col) == ("customers", "name") and "customer_type" in df:
                mask &= df["customer_type"] != "B2B"
            tokens = []
            for v in df.loc[mask, col].tolist():
                t = pseudonym(v, kind, salt)
                norm = _normalise(v, kind)
                if seen.setdefault(kind, {}).setdefault(t, norm) != norm:
                    raise ImportProblems([Problem(name, "two different values got the same pseudonym",
                                                  "delete the salt file (a new one is created) and import again",
                                                  kit_column=f"{name}.{col}")])
                tokens.append(t)
            df.loc[mask, col] = tokens
        out[name] = df
    return out


def load_salt(path: str | os.PathLike, create: bool = True) -> tuple[bytes, bool]:
    """Read the salt from `path`; create it with 256 random bits if missing. Returns (salt, created)."""
    path = Path(path)
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if len(text) < 16:
            raise ImportProblems([Problem(path.name, "the salt file is empty or too short (under 16 characters)",
                                          "delete it to have a new one created, or put a long random text in it")])
        return text.encode("utf-8"), False
    if not create:
        raise FileNotFoundError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8"), True


# --------------------------------------------------------------------------------------------
# the whole job


@dataclass
class ImportResult:
    """What :func:`run_import` did: the tables, the files written and notes for the user."""

    tables: dict[str, pd.DataFrame]
    out_dir: Path | None = None
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    salt_file: Path | None = None
    pseudonymised: bool = True


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def run_import(mapping_path: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
               salt: bytes | str | None = None, salt_file: str | os.PathLike | None = None,
               pseudonymise: bool = True, force: bool = False) -> ImportResult:
    """Read, map, check, pseudonymise and (if `out_dir` is given) write the tables of a mapping.

    Raises :class:`ImportProblems` with every problem found; then nothing has been written.
    """
    mapping = load_mapping(mapping_path)
    mfile = mapping.path.name
    problems = _Problems()
    notes: list[str] = []
    out = Path(out_dir) if out_dir is not None else None

    salt_path = None
    if pseudonymise and salt is None:
        salt_path = Path(salt_file) if salt_file else (mapping.salt_file or mapping.path.parent / SALT_FILE_NAME)
    if out is not None:
        if out.exists() and not out.is_dir():
            problems.add(Problem(out.name, "the output path exists and is not a folder", "give a folder as --out"))
        elif out.is_dir() and not force:
            for name in mapping.tables:
                if (out / f"{name}.csv").exists():
                    problems.add(Problem(f"{name}.csv", f"{out / (name + '.csv')} already exists; the import does "
                                                        "not overwrite tables",
                                         "choose another output folder, remove the file, or use --force "
                                         "(force=True) to replace it"))
        if salt_path is not None and _inside(salt_path, out):
            problems.add(Problem(salt_path.name, f"the salt file {salt_path} is inside the output folder",
                                 "keep the salt apart from the data: use --salt-file outside the output folder"))

    cache: dict = {}
    loaded: dict[str, _Loaded] = {}
    for name, tm in mapping.tables.items():
        src = _read_source(tm, problems, cache)
        ld = _build_table(tm, src, mfile, problems)
        if ld is not None:
            loaded[name] = ld
            if src is not None:
                used = set(ld.headers.values())
                ignored = [h for h in src.header if h and h not in used]
                if ignored:
                    notes.append(f"{tm.file.name}: columns not imported into {name}: {', '.join(ignored)}")
    bad_cells = set(problems.cells)
    for ld in loaded.values():
        _check_rows(ld, mfile, problems, bad_cells)
        _check_keys(ld, problems)
    _check_references(loaded, mapping, problems, notes)
    if len(loaded) == len(mapping.tables):
        _schema_problems(loaded, problems)
    if problems:
        raise ImportProblems(problems.result(), mfile)

    tables = {n: ld.df for n, ld in loaded.items()}
    result = ImportResult(tables, out, notes=notes, pseudonymised=pseudonymise)
    if salt is not None and len(salt) < 16:
        raise ValueError("the salt must be at least 16 characters (use secrets.token_hex(32))")
    if pseudonymise and any(t for t, _ in PERSONAL if t in tables):
        if salt is None:
            salt, created = load_salt(salt_path)
            result.salt_file = salt_path
            if created:
                notes.append(f"created a new salt file {salt_path}: keep it private and out of version control "
                             "(add it to .gitignore), and keep it to get the same pseudonyms next time")
        result.tables = pseudonymise_tables(tables, salt)
    elif not pseudonymise:
        notes.append("personal identifiers were NOT pseudonymised (explicit choice): handle the output as personal data")
    if out is not None:
        result.written = _write_atomically(result.tables, out, force)
    return result


def _write_atomically(tables: dict[str, pd.DataFrame], out: Path, force: bool) -> list[Path]:
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.import-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        for name, df in tables.items():
            write_table(df, tmp / f"{name}.csv")
        back = {name: read_table(name, tmp) for name in tables}  # prove the files read back and fit
        problems = check_world(back, latest_date())
        if problems:
            raise ImportProblems([Problem(out.name, p, "report this as a bug in crmkit.runtime.importer")
                                  for p in problems], "writing")
        if not out.exists():
            os.replace(tmp, out)
        else:
            for name in tables:
                target = out / f"{name}.csv"
                if target.exists() and not force:
                    raise ImportProblems([Problem(target.name, f"{target} appeared during the import",
                                                  "run the import again")])
            for name in tables:
                os.replace(tmp / f"{name}.csv", out / f"{name}.csv")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return [out / f"{name}.csv" for name in tables]


def import_export(mapping_path: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
                  salt: bytes | str | None = None, salt_file: str | os.PathLike | None = None,
                  pseudonymise: bool = True, force: bool = False) -> dict[str, pd.DataFrame]:
    """Import the CSV exports named by a mapping file; return the kit tables by name.

    With `out_dir` the tables are also written there as ``<table>.csv`` (all or nothing; existing
    tables are only replaced with ``force=True``; other files in the folder are left alone).
    Personal identifiers are pseudonymised with `salt`, or with the salt read from `salt_file`
    (default: the mapping's ``salt_file``, else ``.crmkit-salt`` next to the mapping file, created
    if missing), unless ``pseudonymise=False``. Raises :class:`ImportProblems` (a ValueError)
    listing every problem; then nothing has been written.
    """
    return run_import(mapping_path, out_dir, salt=salt, salt_file=salt_file, pseudonymise=pseudonymise,
                      force=force).tables
