"""The CRM as a SQLite database: the CRM tables plus the ERP's order headers, with keys and indexes.

Like a real CRM integration, only the ERP's orders (B2B, ``source_system = 'ERP'``) are copied in;
web-shop and point-of-sale orders stay in their own systems, so references to them (for example
``campaign_members.order_id``) are not enforced as foreign keys inside the database.

The DDL is derived from :mod:`crmkit.runtime.schema`: primary keys, foreign keys (enforced with
``PRAGMA foreign_keys = ON``) and an index on every foreign key column. Dates are ISO text,
booleans 0/1.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pandas as pd

from crmkit.runtime.schema import TABLE_BY_NAME, TABLES, Table

# foreign keys that CRM queries do not search by get no index of their own (keeps crm.sqlite small)
# tables copied only in part, and the filter that selects their rows
PARTIAL = {"orders": lambda df: df[df["source_system"] == "ERP"]}
UNINDEXED = {("orders", "staff_id"), ("orders", "campaign_id"), ("campaign_members", "order_id")}
SQL_TYPE = {"id": "TEXT", "str": "TEXT", "cat": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER",
            "date": "TEXT", "datetime": "TEXT"}


def crm_tables() -> list[Table]:
    """The tables stored in crm.sqlite, parents before children."""
    return [t for t in TABLES if t.in_crm]


def create_sql(tbl: Table, stored: set[str]) -> str:
    """CREATE TABLE statement for one table: types, NOT NULL, CHECKs, primary and foreign keys."""
    cols = []
    for c in tbl.columns:
        line = f'"{c.name}" {SQL_TYPE[c.type]}'
        if not c.nullable:
            line += " NOT NULL"
        if c.type == "bool":
            line += f' CHECK ("{c.name}" IN (0, 1))'
        elif c.type == "cat" and c.values:
            vals = ", ".join("'" + v.replace("'", "''") + "'" for v in c.values)
            line += f' CHECK ("{c.name}" IN ({vals}))'
        cols.append(line)
    cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in tbl.key) + ")")
    for c in tbl.columns:
        if c.ref and c.ref.split(".")[0] in stored and not _into_partial(tbl.name, c.ref):
            rt, rc = c.ref.split(".")
            cols.append(f'FOREIGN KEY ("{c.name}") REFERENCES "{rt}" ("{rc}")')
    return f'CREATE TABLE "{tbl.name}" (\n  ' + ",\n  ".join(cols) + "\n)"


def _into_partial(table_name: str, ref: str) -> bool:
    """True if `ref` points into a partially copied table from another table (not enforceable)."""
    return ref.split(".")[0] in PARTIAL and ref.split(".")[0] != table_name


def _sql_values(df: pd.DataFrame, tbl: Table) -> list[tuple]:
    out = df.copy()
    for c in tbl.columns:
        s = out[c.name]
        if c.type == "date":
            out[c.name] = s.dt.strftime("%Y-%m-%d")
        elif c.type == "datetime":
            out[c.name] = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif c.type == "bool":
            out[c.name] = s.astype(int)
    out = out.astype(object).where(out.notna(), None)
    return list(out.itertuples(index=False, name=None))


def write_sqlite(tables: dict[str, pd.DataFrame], path: str | os.PathLike) -> None:
    """Write the CRM tables into a new SQLite file at `path` (replacing it atomically)."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    tbls = crm_tables()
    stored = {t.name for t in tbls}
    con = sqlite3.connect(tmp)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        for t in _ordered(tbls):
            con.execute(create_sql(t, stored))
            for c in t.columns:
                if (c.ref and c.ref.split(".")[0] in stored and (t.name, c.name) not in UNINDEXED
                        and not _into_partial(t.name, c.ref)):
                    con.execute(f'CREATE INDEX "ix_{t.name}_{c.name}" ON "{t.name}" ("{c.name}")')
        for t in _ordered(tbls):
            marks = ", ".join("?" * len(t.columns))
            rows = PARTIAL.get(t.name, lambda df: df)(tables[t.name])
            con.executemany(f'INSERT INTO "{t.name}" VALUES ({marks})', _sql_values(rows, t))
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    os.replace(tmp, path)


def _ordered(tbls: list[Table]) -> list[Table]:
    """Tables sorted so that every referenced table comes first."""
    done, out = set(), []
    pending = list(tbls)
    names = {t.name for t in tbls}
    while pending:
        for t in list(pending):
            deps = {c.ref.split(".")[0] for c in t.columns if c.ref} & names - {t.name}
            if deps <= done:
                out.append(t)
                done.add(t.name)
                pending.remove(t)
    return out


def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """Open a CRM database with foreign keys enforced."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = ON")
    return con


__all__ = ["TABLE_BY_NAME", "connect", "create_sql", "crm_tables", "write_sqlite"]
