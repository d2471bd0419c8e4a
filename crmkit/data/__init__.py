"""The sample data world: generator, CSV input/output and the SQLite CRM.

Notebooks read the world with ``read_table("customers")`` or ``load_world()``; both take an
optional data folder (a lesson's papermill ``DATA_DIR``) and default to ``data/``.
"""

from crmkit.data.io import load_world, read_table

__all__ = ["load_world", "read_table"]
