"""`crmkit import MAPPING [--out DIR] [--force] [--salt-file F | --no-pseudonymise]`.

Reads the Finnish Excel CSV exports named by a mapping file (see data/import/README.md), maps
them onto the kit's schema, checks them, pseudonymises personal identifiers and writes
``<table>.csv`` files into DIR, all or nothing. Without --out it only checks and writes nothing.

Exit code 0: imported (or, without --out, the data fits); 2: problems, every one printed, nothing
written.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit import`."""
    parser.add_argument("mapping", help="the mapping file (.toml); see data/import/README.md")
    parser.add_argument("--out", metavar="DIR",
                        help="write the tables here as <table>.csv (without --out: check only, write nothing)")
    parser.add_argument("--force", action="store_true",
                        help="replace tables that already exist in DIR (other files in DIR are never touched)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--salt-file", metavar="FILE",
                       help="salt for the pseudonyms (created if missing; default: the mapping's salt_file, "
                            "else .crmkit-salt next to the mapping file). Keep it private and out of git.")
    group.add_argument("--no-pseudonymise", "--no-pseudonymize", dest="pseudonymise", action="store_false",
                       help="keep names, e-mails and phone numbers as they are (only for data you may process so)")


def run(args: argparse.Namespace) -> int:
    """Import (or only check); every problem goes to stderr with where it is and how to fix it."""
    from crmkit.runtime.importer import ImportProblems, run_import

    check_only = args.out is None
    try:
        result = run_import(args.mapping, args.out, salt_file=args.salt_file,
                            pseudonymise=args.pseudonymise and not check_only, force=args.force)
    except ImportProblems as e:
        n = len(e.problems)
        print(f"Tuonti epäonnistui / Import failed: {n} problem{'s' if n != 1 else ''} in {args.mapping}. "
              "Nothing was written. / Mitään ei kirjoitettu.", file=sys.stderr)
        for i, p in enumerate(e.problems, 1):
            print(f"{i:>3}. {p.location}:\n     {p.description}\n     fix: {p.fix}", file=sys.stderr)
        return 2
    for note in result.notes:
        if check_only and "NOT pseudonymised" in note:
            continue
        print(f"note: {note}", file=sys.stderr)
    sizes = ", ".join(f"{name} ({len(df)} rows)" for name, df in result.tables.items())
    if check_only:
        print(f"OK: the data fits the kit's schema: {sizes}. Nothing was written (give --out DIR to write the tables).")
        return 0
    print(f"Tuonti onnistui / Imported: {sizes}")
    for path in result.written:
        print(f"  wrote {path}")
    if result.pseudonymised:
        where = f" with the salt in {result.salt_file}" if result.salt_file else ""
        print(f"Personal identifiers were pseudonymised{where}. / Henkilötiedot pseudonymisoitiin.")
    return 0
