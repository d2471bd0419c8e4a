"""Read and write the data world's tables as CSV with the schema's types."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crmkit.runtime.paths import data_dir
from crmkit.runtime.schema import TABLE_BY_NAME, TABLES

_PANDAS_TYPE = {"id": "str", "str": "str", "cat": "str", "float": "float64", "bool": "bool"}


def table_path(name: str, folder: str | os.PathLike | None = None) -> Path:
    """Path of table `name`'s CSV file in the data folder."""
    return data_dir(folder) / f"{name}.csv"


def read_table(name: str, folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read one table of the data world with the dtypes its schema declares.

    Dates become ``datetime64``, integers that may be empty become pandas' nullable ``Int64``.
    """
    tbl = TABLE_BY_NAME[name]
    path = table_path(name, folder)
    if not path.exists():
        raise FileNotFoundError(f"{path}: table {name!r} is missing; run `crmkit data --out {path.parent}`")
    dtypes, dates = {}, []
    for col in tbl.columns:
        if col.type in ("date", "datetime"):
            dates.append(col.name)
        elif col.type == "int":
            dtypes[col.name] = "Int64" if col.nullable else "int64"
        else:
            dtypes[col.name] = _PANDAS_TYPE[col.type]
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for c in dates:
        df[c] = pd.to_datetime(df[c], format="ISO8601")
    return df


def load_world(folder: str | os.PathLike | None = None, tables: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read every table (or those named) into a dict of DataFrames keyed by table name."""
    names = tables or [t.name for t in TABLES]
    return {n: read_table(n, folder) for n in names}


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write one table as UTF-8 CSV: ISO dates, empty cells for missing values, ``\\n`` line ends."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            has_time = (s.dropna().dt.normalize() != s.dropna()).any()
            out[c] = s.dt.strftime("%Y-%m-%dT%H:%M:%S" if has_time else "%Y-%m-%d")
    out.to_csv(path, index=False, lineterminator="\n")
