"""The mapping file (TOML): which source CSV and columns make each kit table (data/import/README.md)."""

from __future__ import annotations

import codecs
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.runtime.importer.flat import FLAT_SECTION, FlatMapping, parse_section
from crmkit.runtime.importer.problems import ImportProblems, Problem, ProblemList
from crmkit.runtime.schema import LIMITS, TABLE_BY_NAME, Column, Table

DEFAULT_DATE_FORMATS = ("%d.%m.%Y",)
DEFAULT_DATETIME_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
_TOP_KEYS = {"encoding", "separator", "decimal", "date_format", "datetime_format", "salt_file", "reference_folder",
             "limits", "currency", "company"}
_TABLE_KEYS = {"file", "columns", "values", "constants", "defaults", "encoding", "separator", "decimal",
               "date_format", "datetime_format"}


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
    limits: str = "world"  # "world": the sample world's constraints; "business": a company's own data

    @property
    def schema(self) -> Table:
        """The kit table this mapping fills."""
        return TABLE_BY_NAME[self.table]

    @property
    def columns_checked(self) -> tuple[Column, ...]:
        """The table's columns with the constraints of this mapping's ``limits``."""
        return self.schema.columns_for(self.limits)


@dataclass
class Mapping:
    """A parsed mapping file."""

    path: Path
    tables: dict[str, TableMapping]
    salt_file: Path | None = None
    reference_folder: Path | None = None
    limits: str = "world"
    currency: str = "€"
    company: str = ""  # the company's name as the notebooks show it (empty: "the company")
    flat: FlatMapping | None = None  # a flat transaction export ([transactions]) instead of tables


def mapping_limits(top: dict, mfile: str, problems: ProblemList) -> tuple[str, str]:
    """The mapping's ``limits`` and ``currency`` settings, checked."""
    limits = top.get("limits", "world")
    if limits not in LIMITS:
        problems.add(Problem(mfile, f"limits = {limits!r} is not one of {list(LIMITS)}",
                             'use limits = "business" for a company\'s own data (no sample-world caps on lines, '
                             'quantities, VAT rates or categories), "world" for data shaped like the course\'s'))
        limits = "world"
    currency = top.get("currency", "€")
    if not isinstance(currency, str) or not currency.strip() or len(currency) > 5:
        problems.add(Problem(mfile, f"currency = {currency!r} is not a currency sign or code",
                             'write e.g. currency = "€", "£" or "SEK"'))
        currency = "€"
    return limits, currency


def suggest(word: str, options) -> str:
    """" (did you mean 'x'?)" for the closest of ``options``, or ""."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _formats(value, default, name: str, where: str, problems: ProblemList, mfile: str) -> tuple[str, ...]:
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
    problems = ProblemList()
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
            problems.add(Problem(mfile, f"unknown setting {k!r}{suggest(k, _TOP_KEYS)}",
                                 f"use one of {sorted(_TOP_KEYS)}, or start a table section such as [customers]"))
    if FLAT_SECTION in raw:
        return _flat_mapping(raw, top, path, problems)
    limits, currency = mapping_limits(top, mfile, problems)
    tables: dict[str, TableMapping] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            continue
        if name not in TABLE_BY_NAME:
            problems.add(Problem(mfile, f"[{name}] is not a table of the kit{suggest(name, TABLE_BY_NAME)}",
                                 f"name the section after a kit table: {', '.join(TABLE_BY_NAME)}"))
            continue
        tm = _table_mapping(name, spec, top, base, mfile, problems, limits)
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
                   reference_folder=Path(os.path.normpath(base / ref)) if isinstance(ref, str) else None,
                   limits=limits, currency=currency.strip(), company=company_name(top, mfile, problems))


def company_name(top: dict, mfile: str, problems: ProblemList) -> str:
    """The mapping's ``company`` setting (the name the notebooks show), checked."""
    company = top.get("company", "")
    if not isinstance(company, str) or len(company) > 80:
        problems.add(Problem(mfile, f"company = {company!r} is not a company name",
                             'write the name the reports should use, e.g. company = "Tukkukauppa Oy"'))
        return ""
    return company.strip()


def _flat_mapping(raw: dict, top: dict, path: Path, problems: ProblemList) -> Mapping:
    """A mapping whose ``[transactions]`` section describes a flat export (its limits default to "business")."""
    mfile = path.name
    limits, currency = mapping_limits({"limits": "business", **top}, mfile, problems)
    others = [k for k, v in raw.items() if isinstance(v, dict) and k != FLAT_SECTION]
    for k in others:
        problems.add(Problem(mfile, f"[{k}] cannot be combined with [{FLAT_SECTION}]",
                             "import the flat export with one mapping and other tables with another"))
    found: list[Problem] = []
    flat = parse_section(raw[FLAT_SECTION], path.parent, mfile, found) if isinstance(raw[FLAT_SECTION], dict) else None
    for p in found:
        problems.add(p)
    if problems:
        raise ImportProblems(problems.result(), mfile)
    salt = top.get("salt_file")
    return Mapping(path, {}, salt_file=(path.parent / salt) if isinstance(salt, str) else None,
                   limits=limits, currency=currency.strip(), company=company_name(top, mfile, problems), flat=flat)


def _table_mapping(name, spec, top, base, mfile, problems: ProblemList, limits: str = "world") -> TableMapping | None:
    tbl = TABLE_BY_NAME[name]
    sec = f"[{name}]"
    for k in spec:
        if k not in _TABLE_KEYS:
            problems.add(Problem(mfile, f"unknown key {k!r} in {sec}{suggest(k, _TABLE_KEYS)}",
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
                                            f"{suggest(col, tbl.column_names)}",
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
                                            f"{suggest(kit_value, [str(x) for x in c.values])}",
                                     "write one of the allowed values on the right-hand side", kit_column=f"{name}.{col}"))
    constants = section("constants")
    defaults = section("defaults")
    for col in set(columns) & set(constants):
        problems.add(Problem(mfile, f"{name}.{col} is both mapped to a source column and given a constant",
                             f"remove it from [{name}.columns] or from [{name}.constants]", kit_column=f"{name}.{col}"))
    for c in tbl.columns_for(limits):
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
        limits=limits,
    )
