"""The data dictionary section of data/DATA.md, rendered from :mod:`crmkit.runtime.schema`.

DATA.md is written by hand except for the part between the two markers below, which
``update_data_md`` rewrites so that every table and column is documented exactly as declared.
"""

from __future__ import annotations

import os
from pathlib import Path

from crmkit.runtime.schema import TABLES, Column

BEGIN = "<!-- BEGIN DICTIONARY (generated from crmkit/schema.py by `crmkit data`; do not edit) -->"
END = "<!-- END DICTIONARY -->"

TYPE_FI = {"id": "tunniste / id", "str": "teksti / text", "cat": "luokka / category", "int": "kokonaisluku / integer",
           "float": "desimaaliluku / decimal", "bool": "totuusarvo / boolean (True/False)",
           "date": "päivämäärä / date (yyyy-mm-dd)", "datetime": "aikaleima / timestamp (yyyy-mm-ddThh:mm:ss)"}


def _constraints(c: Column) -> str:
    parts = []
    if c.values:
        parts.append("arvot / values: " + ", ".join(f"`{v}`" for v in c.values))
    if c.min is not None or c.max is not None:
        parts.append(f"{c.min if c.min is not None else ''}…{c.max if c.max is not None else ''}")
    if c.ref:
        parts.append(f"→ `{c.ref}`")
    if c.nullable:
        parts.append("voi puuttua / may be empty")
    return "; ".join(parts)


def render_dictionary() -> str:
    """Markdown tables: one per data-world table, one row per column."""
    out = [BEGIN, ""]
    for t in TABLES:
        where = "CSV + crm.sqlite" if t.in_crm else "CSV"
        out += [f"### `{t.name}` — {t.fi} / {t.en}", "",
                f"Avain / key: {', '.join(f'`{k}`' for k in t.key)} · tiedosto / file: `{t.name}.csv` ({where})", "",
                "| sarake / column | tyyppi / type | yksikkö / unit | merkitys | meaning | rajoitteet / constraints |",
                "| --- | --- | --- | --- | --- | --- |"]
        for c in t.columns:
            out.append(f"| `{c.name}` | {TYPE_FI[c.type]} | {c.unit or '–'} | {c.fi} | {c.en} | {_constraints(c) or '–'} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def update_data_md(path: str | os.PathLike) -> bool:
    """Rewrite the dictionary section of DATA.md at `path`; return True if the file changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path}: the markers {BEGIN!r} … {END!r} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + render_dictionary() + tail
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False
