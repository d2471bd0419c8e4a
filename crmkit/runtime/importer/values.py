"""Parsing one cell: Finnish numbers (1 234,50), dates (dd.mm.yyyy), booleans (Kyllä/Ei), text."""

from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd

from crmkit.runtime.importer.mapping import TableMapping
from crmkit.runtime.importer.problems import BadValue
from crmkit.runtime.schema import Column

_ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
_TRUE = {"kyllä", "k", "1", "true", "tosi", "yes", "y"}
_FALSE = {"ei", "e", "0", "false", "epätosi", "no", "n"}


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
            raise BadValue("is written with a decimal point, but the mapping expects a decimal comma",
                       f'write it as {t.replace(".", ",")}, or set decimal = "." under [{tm.table}] if the whole '
                       "file uses decimal points")
        example = "1 234,50" if tm.decimal == "," else "1234.50"
        raise BadValue("is not a number",
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
            raise BadValue("has a time of day, but the column holds dates only",
                       "format the column in Excel as a date (pp.kk.vvvv) without a time, and save again")
        return pd.Timestamp(dt)
    shown = " or ".join(f.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")
                        .replace("%H", "hh").replace("%M", "mm").replace("%S", "ss") for f in fmts)
    if re.fullmatch(r"\d{5}([.,]\d+)?", t):
        raise BadValue("looks like an Excel date serial number, not a date",
                   "format the column in Excel as a date (pp.kk.vvvv) before saving the CSV")
    raise BadValue(f"is not a valid date in the form {shown}",
               f"write a real date as {shown} (e.g. 05.03.2024), or set date_format under [{tm.table}] "
               "if the file writes dates differently")


def parse_text(text: str, col: Column, tm: TableMapping):
    """Parse one non-empty, stripped source text into the column's type, or raise BadValue."""
    if col.type in ("id", "str", "cat"):
        return text
    if col.type == "bool":
        low = text.casefold()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise BadValue("is not a yes/no value",
                   f"use Kyllä/Ei, K/E or 1/0, or add a value map [{tm.table}.values.{col.name}] "
                   f'with e.g. "{text}" = true')
    if col.type == "int":
        x = _parse_number(text, tm)
        if x != int(x):
            raise BadValue("is not a whole number", "write a whole number without decimals, e.g. 12")
        return int(x)
    if col.type == "float":
        return _parse_number(text, tm)
    if col.type in ("date", "datetime"):
        return _parse_date(text, col, tm)
    raise ValueError(f"unknown column type {col.type!r}")


def typed_value(value, col: Column, tm: TableMapping):
    """Accept a TOML value (from a value map, a constant or a default) for the column."""
    if isinstance(value, str):
        return parse_text(value.strip(), col, tm) if value.strip() else None
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "date": isinstance(value, (date, datetime)),
        "datetime": isinstance(value, (date, datetime)),
    }.get(col.type, isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise BadValue(f"is not a {col.type} value", f"write a {col.type} value for {tm.table}.{col.name}")
    if col.type in ("id", "str", "cat"):
        return str(value)
    if col.type in ("date", "datetime"):
        return pd.Timestamp(value)
    return float(value) if col.type == "float" else value


def lookup_value(vmap: dict, text: str):
    if text in vmap:
        return True, vmap[text]
    low = text.casefold()
    for k, v in vmap.items():
        if k.strip().casefold() == low:
            return True, v
    return False, None
