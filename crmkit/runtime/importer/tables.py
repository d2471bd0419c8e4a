"""Building one kit table from its source rows, and checking rows, keys, references and the schema."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from crmkit.runtime.checks import check_world
from crmkit.runtime.data import read_table
from crmkit.runtime.importer.mapping import Mapping, TableMapping, suggest
from crmkit.runtime.importer.problems import BadValue, Problem, ProblemList
from crmkit.runtime.importer.source import SourceFile, norm_header
from crmkit.runtime.importer.values import lookup_value, parse_text, typed_value
from crmkit.runtime.schema import EARLIEST, TODAY, Column


@dataclass
class LoadedTable:
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


def build_table(tm: TableMapping, src: SourceFile | None, mfile: str, problems: ProblemList) -> LoadedTable | None:
    tbl, fname = tm.schema, tm.file.name
    headers: dict[str, str] = {}
    index = {}
    if src is not None:
        for i, h in enumerate(src.header):
            index.setdefault(h, i)
        dups = [h for h, n in Counter(src.header).items() if n > 1 and h in {norm_header(x) for x in tm.columns.values()}]
        for h in dups:
            problems.add(Problem(fname, "the header appears more than once", "rename one of the columns in the file",
                                 row=1, column=h))
        casefolded = {}
        for h in src.header:
            casefolded.setdefault(h.casefold(), h)
        for kit, wanted in tm.columns.items():
            h = norm_header(wanted)
            if h not in index and h.casefold() in casefolded:
                h = casefolded[h.casefold()]
            if h in index:
                headers[kit] = h
                continue
            col = tbl.column(kit)
            hint = suggest(h, src.header)
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
                default = typed_value(tm.defaults[col.name], col, tm)
            except BadValue as b:
                problems.add(Problem(mfile, f"the default [{tm.table}.defaults] {col.name} = "
                                            f"{tm.defaults[col.name]!r} {b.message}", b.fix, kit_column=kit))
        if col.name in tm.constants:
            try:
                v = typed_value(tm.constants[col.name], col, tm)
            except BadValue as b:
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
                hit, mapped = lookup_value(vmap, text) if vmap else (False, None)
                if hit:
                    v = typed_value(mapped, col, tm)
                elif not text:
                    v = default
                else:
                    v = parse_text(text, col, tm)
            except BadValue as b:
                problems.add(Problem(fname, b.message, b.fix, row=rownum, column=header, kit_column=kit, value=rec[j]))
                v = None
            out.append(v)
        data[col.name] = out
        raw[col.name] = [rec[j].strip() for _, rec in src.rows]
    df = pd.DataFrame({c.name: _series(data[c.name], c) for c in tbl.columns})
    return LoadedTable(tm, df, [r for r, _ in src.rows], headers, raw)


def check_rows(ld: LoadedTable, mfile: str, problems: ProblemList, bad_cells: set) -> None:
    """Row-level versions of the schema checks: required values, allowed values, ranges."""
    tm, df = ld.tm, ld.df
    for col in tm.columns_checked:
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
                lo = pd.Timestamp(col.min or (EARLIEST if tm.limits == "world" else "1900-01-01"))
                hi = pd.Timestamp(col.max or latest_date()) + pd.Timedelta(days=1)
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


def check_keys(ld: LoadedTable, problems: ProblemList) -> None:
    """Every duplicate key, named on each repeated row with the rows it repeats (linear in the rows)."""
    tm, df = ld.tm, ld.df
    key = list(tm.schema.key)
    keys = df[key]
    dup = keys.duplicated(keep=False) & keys.notna().all(axis=1)
    if not dup.any():
        return
    header = " + ".join(ld.headers.get(k) or k for k in key)
    positions = [i for i, d in enumerate(dup.to_numpy()) if d]
    groups: dict[tuple, list[int]] = {}  # key -> positions of its rows, in file order
    for pos, k in zip(positions, keys.iloc[positions].itertuples(index=False, name=None)):
        groups.setdefault(k, []).append(pos)
    for k, members in groups.items():
        shown = " / ".join(str(x) for x in k)
        first = df.iloc[members[0]]
        for pos in members[1:]:
            r = ld.rows[pos]
            rest = [ld.rows[p] for p in members[:6] if p != pos][:5]
            others = ", ".join(map(str, rest)) + (f" and {len(members) - 1 - len(rest)} more" if len(members) > 6 else "")
            same = df.iloc[pos].equals(first)
            problems.add(Problem(
                ld.file, f"duplicate key: {'+'.join(key)} {shown!r} is also on row {others}"
                         + (" (the whole row is repeated)" if same else ""),
                f"each {'+'.join(key)} may occur only once: remove or merge the duplicate rows, or correct the id",
                row=r, column=header, kit_column=f"{tm.table}.{'+'.join(key)}", value=shown))


def check_references(loaded: dict[str, LoadedTable], mapping: Mapping, problems: ProblemList, notes: list[str]) -> None:
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


def schema_problems(loaded: dict[str, LoadedTable], problems: ProblemList, limits: str = "world") -> None:
    """Run crmkit.runtime.checks and add whatever the row-level checks did not already report."""
    tables = {n: ld.df for n, ld in loaded.items()}
    covered = problems.kit_columns()
    covered_tables = {p.kit_column.split(".")[0] for p in problems.items
                      if p.kit_column and p.message.startswith("duplicate key")}
    for msg in check_world(tables, latest_date(), limits):
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
