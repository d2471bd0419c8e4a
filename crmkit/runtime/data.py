"""Read and write the data world's tables as CSV with the schema's types, and what the folder is.

A data folder may hold ``crmkit-data.toml`` (:data:`INFO_FILE`): where its data came from (the
generator or an import), its "today" (the last day the data covers), its currency and its limits
(see :data:`crmkit.runtime.schema.LIMITS`). Notebooks read it through :func:`data_info` and
:func:`data_today`, so a lesson run on a company's data labels money in the company's currency and
counts ages from the company's last day, not the sample world's.
"""

from __future__ import annotations

import io
import json
import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from crmkit.runtime.errors import KitError
from crmkit.runtime.paths import data_dir
from crmkit.runtime.schema import TABLE_BY_NAME, TABLES, TODAY

INFO_FILE = "crmkit-data.toml"
GENERATED = "generated"


class MissingTable(KitError, FileNotFoundError):
    """A table a notebook needs is not in the data folder (a company's data may lack it)."""


@dataclass(frozen=True)
class DataInfo:
    """What a data folder is: its source, its last day, its currency and its limits."""

    source: str = GENERATED  # "generated" (crmkit data) or "import" (a company's own data)
    today: str | None = None  # ISO date: the last day the data covers (None: the last order date)
    currency: str = "€"
    limits: str = "world"
    description: str = ""
    company: str = ""  # the company whose data this is ("Paahtimo Aurora Oy" for the course's own world)
    #: what the tables assume where the source had no data (Finnish sentences the notebooks print),
    #: e.g. an import's unit costs as a share of the price, or anonymous buyers as one-order guests
    assumptions: tuple[str, ...] = ()


def data_info(folder: str | os.PathLike | None = None) -> DataInfo:
    """The folder's :class:`DataInfo` (defaults when it has no ``crmkit-data.toml``)."""
    path = data_dir(folder) / INFO_FILE
    if not path.exists():
        return DataInfo()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise KitError(f"{path} cannot be read ({e}); fix or delete it") from None
    known = {k: tuple(str(x) for x in v) if isinstance(v, list) else str(v)
             for k, v in raw.items() if k in DataInfo.__dataclass_fields__}
    return DataInfo(**known)


def write_info(folder: str | os.PathLike, info: DataInfo) -> Path:
    """Write ``crmkit-data.toml`` into ``folder``."""
    path = Path(folder) / INFO_FILE
    lines = ["# What this data folder is (read by the notebooks through crmkit.runtime.data.data_info)."]
    lines += [f"{k} = {_toml_value(v)}" for k, v in asdict(info).items() if v is not None and v != ()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_value(value) -> str:
    """A string or a list of strings as TOML (JSON's string escapes are TOML's basic-string escapes)."""
    if isinstance(value, (list, tuple)):
        return "[\n" + "".join(f"    {json.dumps(str(v), ensure_ascii=False)},\n" for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def say_assumptions(folder: str | os.PathLike | None = None) -> None:
    """Print, once, what the data folder's tables assume where its source had no data (nothing for
    the course's own data): a lesson run on a company's import says it before any figure."""
    for line in data_info(folder).assumptions:
        print(f"Huom (aineiston oletus): {line}")


def data_today(folder: str | os.PathLike | None = None) -> pd.Timestamp:
    """The data's "today": ``today`` in ``crmkit-data.toml``, else the last order date, else the
    sample world's TODAY. Lessons take it as the default of their reference-date parameter."""
    info = data_info(folder)
    if info.today:
        return pd.Timestamp(info.today)
    path = table_path("orders", folder)
    if path.exists():
        dates = pd.read_csv(path, usecols=["order_date"])["order_date"]
        if len(dates):
            return pd.Timestamp(pd.to_datetime(dates, format="ISO8601").max()).normalize()
    return pd.Timestamp(TODAY)

_PANDAS_TYPE = {"id": "str", "str": "str", "cat": "str", "float": "float64", "bool": "bool"}


def table_path(name: str, folder: str | os.PathLike | None = None) -> Path:
    """Path of table `name`'s CSV file in the data folder."""
    return data_dir(folder) / f"{name}.csv"


def read_table(name: str, folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read one table of the data world with the dtypes its schema declares.

    Dates become ``datetime64``, integers that may be empty become pandas' nullable ``Int64``.
    """
    path = table_path(name, folder)
    if not path.exists():
        raise MissingTable(
            f"Taulua {name!r} ei ole aineistokansiossa {path.parent}: tämä kohta tarvitsee sen. Yrityksen omasta "
            f"aineistosta se voi puuttua; käytä tähän kohtaan kurssin omaa aineistoa (DATA_DIR = None) tai tuo taulu "
            f"(crmkit import). / Table {name!r} is not in {path.parent}: this part needs it. A company's data may "
            "lack it: use the course's own data here, or import the table with `crmkit import`.")
    return _read_csv(name, path)


def _read_csv(name: str, source) -> pd.DataFrame:
    """Parse table ``name``'s CSV text from a path or a buffer with the schema's types."""
    dtypes, dates = _column_types(name)
    df = pd.read_csv(source, dtype=dtypes, keep_default_na=False, na_values=[""])
    for c in dates:
        df[c] = pd.to_datetime(df[c], format="ISO8601")
    return df


def _column_types(name: str) -> tuple[dict[str, str], list[str]]:
    """The pandas dtypes of table ``name``'s non-date columns, and its date columns."""
    dtypes, dates = {}, []
    for col in TABLE_BY_NAME[name].columns:
        if col.type in ("date", "datetime"):
            dates.append(col.name)
        elif col.type == "int":
            dtypes[col.name] = "Int64" if col.nullable else "int64"
        else:
            dtypes[col.name] = _PANDAS_TYPE[col.type]
    return dtypes, dates


def empty_table(name: str) -> pd.DataFrame:
    """Table ``name`` with no rows: the schema's columns with their types."""
    header = ",".join(col.name for col in TABLE_BY_NAME[name].columns)
    df = _read_csv(name, io.StringIO(header + "\n"))
    date_type = pd.to_datetime(pd.Series(["2000-01-01"]), format="ISO8601").dtype  # the unit a read date gets
    return df.astype({c: date_type for c in _column_types(name)[1]})


def read_optional_table(name: str, folder: str | os.PathLike | None = None, why: str = "") -> pd.DataFrame:
    """Read table ``name``, or, when the data folder lacks it (a company's data may), print a note
    in Finnish that says what is left out (``why``) and return the table empty.

    The lesson then runs on without it: sums over the empty table are zero and a check that needs
    it says so instead of failing.
    """
    if table_path(name, folder).exists():
        return read_table(name, folder)
    print(f"Huom: aineistossa ei ole taulua {name}. {why}".rstrip())
    return empty_table(name)


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
