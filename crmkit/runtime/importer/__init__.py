"""Import a teacher's or a company's own data: Finnish Excel CSV exports onto the kit's schema.

One job, one module per step:

- :mod:`.mapping` – a *mapping file* (TOML, see ``data/import/README.md``) names, per kit table,
  the source CSV, the column map (kit column -> source header), optional value maps, constants and
  defaults, the encoding, separator, decimal mark and date formats;
- :mod:`.source` – reading a Finnish Excel export: ``;`` separator, cp1252 or UTF-8 with a BOM;
- :mod:`.values` – one cell: decimal comma (``1 234,50``, ``1.234,50``), dates ``dd.mm.yyyy``,
  booleans Kyllä/Ei, K/E, 1/0;
- :mod:`.tables` – building each table and checking rows, keys, references and the schema
  (:mod:`crmkit.runtime.checks`); duplicate keys and unknown foreign keys traced to their rows;
- :mod:`.problems` – every problem collected (up to ``PER_COLUMN_CAP`` per column) as a
  :class:`Problem` naming the file, the row as a spreadsheet shows it (header = row 1), the source
  and kit column, the bad value and the fix;
- :mod:`.pseudonymise` – personal identifiers replaced by salted HMAC-SHA256 tokens unless the
  caller explicitly opts out;
- :mod:`.run` – the whole import; output goes to a temporary folder next to the output folder and
  is moved into place only when every table passed: a failed import writes nothing.

Lesson 01 uses it (students read a messy export with it), and so does ``crmkit import``.
"""

from crmkit.runtime.importer.mapping import load_mapping
from crmkit.runtime.importer.problems import ImportProblems, Problem
from crmkit.runtime.importer.pseudonymise import PERSONAL, load_salt, pseudonym, pseudonymise_tables
from crmkit.runtime.importer.run import ImportResult, import_export, run_import
from crmkit.runtime.importer.tables import latest_date

__all__ = ["ImportProblems", "ImportResult", "PERSONAL", "Problem", "import_export", "latest_date", "load_mapping",
           "load_salt", "pseudonym", "pseudonymise_tables", "run_import"]
