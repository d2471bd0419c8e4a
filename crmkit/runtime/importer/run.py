"""The whole import: read, map, check, pseudonymise and write atomically (all or nothing)."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from crmkit.runtime.checks import check_world
from crmkit.runtime.data import DataInfo, read_table, write_info, write_table
from crmkit.runtime.importer.flat import assumptions as flat_assumptions
from crmkit.runtime.importer.flat import import_flat
from crmkit.runtime.importer.mapping import load_mapping
from crmkit.runtime.importer.problems import ImportProblems, Problem, ProblemList
from crmkit.runtime.importer.pseudonymise import (
    PERSONAL,
    SALT_FILE_NAME,
    load_salt,
    pseudonymise_tables,
)
from crmkit.runtime.importer.source import read_source
from crmkit.runtime.importer.tables import (
    LoadedTable,
    build_table,
    check_keys,
    check_references,
    check_rows,
    latest_date,
    schema_problems,
)


@dataclass
class ImportResult:
    """What :func:`run_import` did: the tables, the files written and notes for the user."""

    tables: dict[str, pd.DataFrame]
    out_dir: Path | None = None
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    salt_file: Path | None = None
    pseudonymised: bool = True


#: the tables a flat export becomes
FLAT_TABLES = ("customers", "products", "orders", "order_lines")


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
    problems = ProblemList()
    notes: list[str] = []
    out = Path(out_dir) if out_dir is not None else None

    salt_path = None
    if pseudonymise and salt is None:
        salt_path = Path(salt_file) if salt_file else (mapping.salt_file or mapping.path.parent / SALT_FILE_NAME)
    if out is not None:
        if out.exists() and not out.is_dir():
            problems.add(Problem(out.name, "the output path exists and is not a folder", "give a folder as --out"))
        elif out.is_dir() and not force:
            for name in (FLAT_TABLES if mapping.flat else mapping.tables):
                if (out / f"{name}.csv").exists():
                    problems.add(Problem(f"{name}.csv", f"{out / (name + '.csv')} already exists; the import does "
                                                        "not overwrite tables",
                                         "choose another output folder, remove the file, or use --force "
                                         "(force=True) to replace it"))
        if salt_path is not None and _inside(salt_path, out):
            problems.add(Problem(salt_path.name, f"the salt file {salt_path} is inside the output folder",
                                 "keep the salt apart from the data: use --salt-file outside the output folder"))

    if mapping.flat is not None:
        tables = _flat_tables(mapping, problems, notes)
    else:
        tables = _mapped_tables(mapping, problems, notes)
    if problems:
        raise ImportProblems(problems.result(), mfile)

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
        result.written = _write_atomically(result.tables, out, force, mapping.limits)
        today = result.tables["orders"]["order_date"].max() if "orders" in result.tables else None
        said = ()
        if mapping.flat is not None:
            said = tuple(flat_assumptions(mapping.flat.rules, (result.tables["customers"]["customer_type"] == "B2C").any()))
        write_info(out, DataInfo(source="import", today=None if today is None or pd.isna(today) else str(today.date()),
                                 currency=mapping.currency, limits=mapping.limits,
                                 description=f"crmkit import {mapping.path.name}", company=mapping.company,
                                 assumptions=said))
    return result


def _mapped_tables(mapping, problems: ProblemList, notes: list[str]) -> dict[str, pd.DataFrame]:
    """The tables of a table-by-table mapping, read, built and checked (problems collected)."""
    mfile = mapping.path.name
    cache: dict = {}
    loaded: dict[str, LoadedTable] = {}
    for name, tm in mapping.tables.items():
        src = read_source(tm, problems, cache)
        ld = build_table(tm, src, mfile, problems)
        if ld is not None:
            loaded[name] = ld
            if src is not None:
                used = set(ld.headers.values())
                ignored = [h for h in src.header if h and h not in used]
                if ignored:
                    notes.append(f"{tm.file.name}: columns not imported into {name}: {', '.join(ignored)}")
    bad_cells = set(problems.cells)
    for ld in loaded.values():
        check_rows(ld, mfile, problems, bad_cells)
        check_keys(ld, problems)
    check_references(loaded, mapping, problems, notes)
    if len(loaded) == len(mapping.tables):
        schema_problems(loaded, problems, mapping.limits)
    return {n: ld.df for n, ld in loaded.items()}


def _flat_tables(mapping, problems: ProblemList, notes: list[str]) -> dict[str, pd.DataFrame]:
    """The four tables derived from a flat export, checked under the mapping's limits."""
    try:
        tables, report = import_flat(mapping.flat, mapping.path.name)
    except ImportProblems as e:
        for p in e.problems:
            problems.add(p)
        return {}
    notes += report.notes(mapping.currency)
    for message in check_world(tables, latest_date(), mapping.limits):
        problems.add(Problem(mapping.flat.file.name, f"the derived tables do not fit the kit's schema: {message}",
                             "report this as a bug in crmkit.runtime.importer.flat (with the rows it names)"))
    return tables


def _write_atomically(tables: dict[str, pd.DataFrame], out: Path, force: bool, limits: str = "world") -> list[Path]:
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.import-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        for name, df in tables.items():
            write_table(df, tmp / f"{name}.csv")
        back = {name: read_table(name, tmp) for name in tables}  # prove the files read back and fit
        problems = check_world(back, latest_date(), limits)
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
