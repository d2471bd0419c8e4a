"""Where the data world is, for the notebooks and the kit's tools.

A notebook reads its tables from one data folder, found in this order:

1. the folder it names (a lesson's papermill parameter ``DATA_DIR``);
2. ``$CRMKIT_DATA_DIR`` (a teacher's or company's own data; the autograder sets it for every kernel);
3. the ``data/`` folder of the course found from the working folder upward: the course
   repository, or the unpacked student kit (a notebook runs in ``notebooks/<slug>/``);
4. the ``data/`` folder beside the installed package, when the package is used from a course
   checkout (an editable install).

It never depends on where a non-editable package was installed (site-packages holds no data).
"""

from __future__ import annotations

import os
from pathlib import Path

from crmkit.runtime.errors import KitError

#: a folder is a data world when it holds this table
MARKER_TABLE = "customers.csv"


class DataNotFound(KitError, FileNotFoundError):
    """No data folder could be found (the message says where it looked)."""


def _is_world(folder: Path) -> bool:
    return (folder / MARKER_TABLE).is_file()


def find_course_data(start: str | os.PathLike | None = None) -> Path | None:
    """The ``data/`` folder of the nearest course at or above ``start`` (default: the working folder)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if _is_world(folder / "data"):
            return folder / "data"
    return None


def _beside_package() -> Path | None:
    candidate = Path(__file__).resolve().parents[2] / "data"
    return candidate if _is_world(candidate) else None


def course_data_dir() -> Path:
    """The course's own data world (rules 3–4 above), whatever ``DATA_DIR`` or ``$CRMKIT_DATA_DIR``
    say: where a lesson finds the kit's examples (the import mapping, CDNOW) for a company's data."""
    found = find_course_data() or _beside_package()
    if found is None:
        raise DataNotFound(
            "Kurssin aineistokansiota (data/, jossa customers.csv) ei löytynyt työkansiosta "
            f"{os.getcwd()} ylöspäin. Avaa muistikirja kurssikansion sisältä (notebooks/<tehtävä>/) "
            "tai kerro kansio ympäristömuuttujalla CRMKIT_DATA_DIR. / No data folder found from the "
            "working folder upward; set CRMKIT_DATA_DIR.")
    return found


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder to read: ``path`` if given, else ``$CRMKIT_DATA_DIR``, else :func:`course_data_dir`."""
    if path:
        return Path(path)
    env = os.environ.get("CRMKIT_DATA_DIR")
    return Path(env) if env else course_data_dir()
