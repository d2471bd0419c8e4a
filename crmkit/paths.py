"""Where the kit's folders are (the repository root is nbgrader's course directory)."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root: the folder that holds nbgrader_config.py.
ROOT = Path(os.environ.get("CRMKIT_ROOT", Path(__file__).resolve().parent.parent))
DATA_DIR = ROOT / "data"
SOLUTIONS_DIR = ROOT / "solutions"
RELEASE_DIR = ROOT / "notebooks"
GRADING_DIR = ROOT / "grading"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the data folder to read: `path` if given, else $CRMKIT_DATA_DIR, else data/."""
    if path:
        return Path(path)
    return Path(os.environ.get("CRMKIT_DATA_DIR", DATA_DIR))
