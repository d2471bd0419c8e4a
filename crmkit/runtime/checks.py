"""Schema checks for the data world: dtypes, keys, references, value ranges, dates in range.

Used on the generated world, on imported data and by the tests. Each check returns a list of
problems in plain words (table, column, what is wrong, an example) rather than stopping at the
first, so a teacher sees everything that needs fixing at once.
"""

from __future__ import annotations

import pandas as pd

from crmkit.runtime.errors import KitError
from crmkit.runtime.schema import EARLIEST, TABLE_BY_NAME, TODAY, Column, Table


class SchemaError(KitError, ValueError):
    """Data that does not fit the kit's schema; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(["the data does not fit the schema:"] + [f"- {p}" for p in self.problems]))


def _examples(values, n: int = 3) -> str:
    vals = list(pd.unique(pd.Series(values)))[:n]
    return ", ".join(repr(v) for v in vals)


def _dtype_ok(s: pd.Series, col: Column) -> bool:
    if col.type in ("id", "str", "cat"):
        return pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s) or s.isna().all()
    if col.type == "int":
        return pd.api.types.is_integer_dtype(s) or (s.isna().all())
    if col.type == "float":
        return pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s)
    if col.type == "bool":
        return pd.api.types.is_bool_dtype(s)
    if col.type in ("date", "datetime"):
        return pd.api.types.is_datetime64_any_dtype(s)
    raise ValueError(f"unknown column type {col.type!r}")


def check_columns(df: pd.DataFrame, col: Column, where: str, latest: str | None = None,
                  limits: str = "world") -> list[str]:
    """Check one column's dtype, missing values, allowed values and range.

    Dates must lie between the schema's EARLIEST (under the ``"world"`` limits; a company's data has
    no lower bound) and `latest` (default: the data world's TODAY; imported data passes the import
    date) unless the column declares its own bounds.
    """
    s = df[col.name]
    out = []
    if not _dtype_ok(s, col):
        return [f"{where}.{col.name}: expected type {col.type}, found {s.dtype}"]
    nulls = s.isna()
    if not col.nullable and nulls.any():
        rows = list(df.index[nulls][:3])
        out.append(f"{where}.{col.name}: {int(nulls.sum())} missing values (e.g. rows {rows}); the column is required")
    present = s[~nulls]
    if col.values:
        bad = present[~present.isin(col.values)]
        if len(bad):
            out.append(f"{where}.{col.name}: {len(bad)} values outside {list(col.values)}: {_examples(bad)}")
    if col.type in ("date", "datetime"):
        lo = pd.Timestamp(col.min or (EARLIEST if limits == "world" else "1900-01-01"))
        hi = pd.Timestamp(col.max or latest or TODAY) + pd.Timedelta(days=1)
        bad = present[(present < lo) | (present >= hi)]
        if len(bad):
            out.append(f"{where}.{col.name}: {len(bad)} dates outside {lo.date()}..{(hi - pd.Timedelta(days=1)).date()}: "
                       f"{_examples(bad.astype(str))}")
    elif col.type in ("int", "float") and len(present):
        if col.min is not None and (present < col.min).any():
            out.append(f"{where}.{col.name}: {int((present < col.min).sum())} values below {col.min}: "
                       f"{_examples(present[present < col.min])}")
        if col.max is not None and (present > col.max).any():
            out.append(f"{where}.{col.name}: {int((present > col.max).sum())} values above {col.max}: "
                       f"{_examples(present[present > col.max])}")
    return out


def check_table(df: pd.DataFrame, tbl: Table | str, latest: str | None = None, limits: str = "world") -> list[str]:
    """Check one table against its declaration (under ``limits``): columns, dtypes, values, a unique key."""
    tbl = TABLE_BY_NAME[tbl] if isinstance(tbl, str) else tbl
    missing = [c for c in tbl.column_names if c not in df.columns]
    extra = [c for c in df.columns if c not in tbl.column_names]
    out = []
    if missing:
        out.append(f"{tbl.name}: missing columns {missing}")
    if extra:
        out.append(f"{tbl.name}: columns not in the schema {extra}")
    for col in tbl.columns_for(limits):
        if col.name in df.columns:
            out += check_columns(df, col, tbl.name, latest, limits)
    key = [k for k in tbl.key if k in df.columns]
    if key and len(key) == len(tbl.key):
        dup = df.duplicated(subset=key, keep=False)
        if dup.any():
            sample = df.loc[dup, key].head(3).to_dict("records")
            out.append(f"{tbl.name}: key {list(tbl.key)} is not unique ({int(dup.sum())} rows share a key), e.g. {sample}")
    return out


def check_references(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Check that every foreign key value exists in the table it refers to (when both are present)."""
    out = []
    for name, df in tables.items():
        tbl = TABLE_BY_NAME.get(name)
        if tbl is None:
            continue
        for col in tbl.columns:
            if not col.ref or col.name not in df.columns:
                continue
            ref_table, ref_col = col.ref.split(".")
            if ref_table not in tables:
                continue
            values = df[col.name].dropna()
            unknown = values[~values.isin(tables[ref_table][ref_col])]
            if len(unknown):
                out.append(f"{name}.{col.name}: {len(unknown)} values not found in {col.ref}: {_examples(unknown)}")
    return out


def check_world(tables: dict[str, pd.DataFrame], latest: str | None = None, limits: str = "world") -> list[str]:
    """Run every check on a dict of tables; return all problems (empty list: the data fits).

    `latest` is the last allowed date (default: the data world's TODAY, 2025-12-31); ``limits``
    is ``"world"`` (the sample world's constraints) or ``"business"`` (a company's own data).
    """
    out = []
    for name, df in tables.items():
        if name not in TABLE_BY_NAME:
            out.append(f"{name}: not a table of the schema")
            continue
        out += check_table(df, name, latest, limits)
    return out + check_references(tables)


def assert_valid(tables: dict[str, pd.DataFrame]) -> None:
    """Raise :class:`SchemaError` listing every problem if the tables do not fit the schema."""
    problems = check_world(tables)
    if problems:
        raise SchemaError(problems)
