"""The course directory, found as nbgrader finds it, made once and passed down.

``CourseDir.find()`` looks for ``nbgrader_config.py`` in the working folder and its parents (or
takes ``--course-dir``), loads nbgrader's configuration once, and carries everything the engine
needs: the folders of nbgrader's steps (through nbgrader's own ``CourseDirectory.format_path``),
the gradebook's URL, the course id, the cell time limit, the kit's workspace ``grading/`` (status
files, backups, reports) and the data folder. No module of the engine reads the configuration again
or assumes where the package was installed.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.runtime.errors import KitError

CONFIG_FILE = "nbgrader_config.py"
#: the kit's own workspace under the course directory (status files, backups, reports, policy)
WORKSPACE = "grading"


class CourseNotFound(KitError):
    """No ``nbgrader_config.py`` where the course was looked for."""


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working folder) with ``nbgrader_config.py``."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None


@dataclass(eq=False)
class CourseDir:
    """One course directory and its nbgrader configuration (loaded once)."""

    root: Path
    config: object = field(repr=False)  # traitlets Config, as nbgrader reads it from nbgrader_config.py

    @classmethod
    def find(cls, course_dir: str | os.PathLike | None = None) -> "CourseDir":
        """The course at ``course_dir`` if given, else the nearest one from the working folder upward."""
        if course_dir is not None:
            root = Path(course_dir).resolve()
            if not (root / CONFIG_FILE).is_file():
                raise CourseNotFound(f"{root} is not a course directory: it has no {CONFIG_FILE}")
        else:
            root = find_root()
            if root is None:
                raise CourseNotFound(f"no {CONFIG_FILE} in {Path.cwd()} or any folder above it: run the "
                                     "command in the course directory (where nbgrader runs) or give --course-dir")
        return cls.load(root)

    @classmethod
    def load(cls, root: str | os.PathLike) -> "CourseDir":
        """Read ``root/nbgrader_config.py`` the way nbgrader does; the course root is ``root``."""
        from traitlets.config.loader import PyFileConfigLoader

        root = Path(root).resolve()
        try:
            config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
        except Exception as e:  # noqa: BLE001 - a broken config file is the teacher's to fix
            raise CourseNotFound(f"{root / CONFIG_FILE} cannot be read: {type(e).__name__}: {e}") from None
        config.CourseDirectory.root = str(root)
        return cls(root, config)

    # --- nbgrader's folders ------------------------------------------------------------------

    def nbgrader_config(self, **sections):
        """A copy of the configuration for one nbgrader converter run (converters change it)."""
        cfg = copy.deepcopy(self.config)
        for section, values in sections.items():
            for key, value in values.items():
                cfg[section][key] = value
        return cfg

    def coursedirectory(self, log=None):
        """nbgrader's own ``CourseDirectory`` for this course (for its converters)."""
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config, log=log) if log else CourseDirectory(config=self.config)

    def step_dir(self, step: str) -> Path:
        """The folder of one nbgrader step: ``source``, ``release``, ``submitted``, ``autograded``, ``feedback``."""
        value = self.config.CourseDirectory.get(f"{step}_directory") or step
        return self.root / value

    def format_path(self, step: str, student: str, slug: str) -> Path:
        """nbgrader's ``CourseDirectory.format_path``: ``<root>/<step>/<student>/<slug>``."""
        return Path(self._nbgrader.format_path(self.step_dir(step).relative_to(self.root).as_posix(), student, slug))

    def notebook(self, step: str, slug: str, student: str = ".") -> Path:
        """``<step folder>/[<student>/]<slug>/<slug>.ipynb``."""
        return self.format_path(step, student, slug) / f"{slug}.ipynb"

    def source_notebook(self, slug: str) -> Path:
        """nbgrader's source: ``solutions/<slug>/<slug>.ipynb``."""
        return self.notebook("source", slug)

    def release_notebook(self, slug: str) -> Path:
        """nbgrader's release: ``notebooks/<slug>/<slug>.ipynb``."""
        return self.notebook("release", slug)

    def submitted_notebook(self, slug: str, student: str) -> Path:
        """``grading/submitted/<student>/<slug>/<slug>.ipynb``."""
        return self.notebook("submitted", slug, student)

    def autograded_notebook(self, slug: str, student: str) -> Path:
        """``grading/autograded/<student>/<slug>/<slug>.ipynb``."""
        return self.notebook("autograded", slug, student)

    def feedback_page(self, slug: str, student: str) -> Path:
        """``grading/feedback/<student>/<slug>/<slug>.html``."""
        return self.format_path("feedback", student, slug) / f"{slug}.html"

    def assignments(self) -> list[str]:
        """The assignment slugs: every ``<source>/<slug>/<slug>.ipynb``, sorted."""
        return sorted(p.parent.name for p in self.step_dir("source").glob("*/*.ipynb") if p.stem == p.parent.name)

    def students_with_submission(self, slug: str) -> list[str]:
        """Students with a folder ``<submitted>/<student>/<slug>/``, sorted."""
        return sorted(p.parent.name for p in self.step_dir("submitted").glob(f"*/{slug}") if p.is_dir())

    # --- settings ----------------------------------------------------------------------------

    @property
    def db_url(self) -> str:
        """The gradebook's URL (``CourseDirectory.db_url``)."""
        return self.config.CourseDirectory.get("db_url") or f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def db_path(self) -> Path | None:
        """The gradebook's file when it is SQLite, else None."""
        url = self.db_url
        return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None

    @property
    def course_id(self) -> str:
        """``CourseDirectory.course_id`` (nbgrader's default when unset)."""
        return self.config.CourseDirectory.get("course_id") or "default_course"

    @property
    def cell_timeout(self) -> int:
        """Seconds a cell may run when grading (``Execute.timeout``; nbgrader's default 30)."""
        return int(self.config.Execute.get("timeout", 30) or 30)

    @property
    def workspace(self) -> Path:
        """The kit's workspace ``<root>/grading`` (status files, backups, reports, the policy)."""
        return self.root / WORKSPACE

    def status_file(self, slug: str) -> Path:
        """``grading/status/<slug>.json``: each student's autograde outcome."""
        return self.workspace / "status" / f"{slug}.json"

    @property
    def data_dir(self) -> Path:
        """The data folder notebooks read when graded: ``$CRMKIT_DATA_DIR`` or ``<root>/data``."""
        return Path(os.environ.get("CRMKIT_DATA_DIR") or self.root / "data")

    @property
    def _nbgrader(self):
        nbc = self.__dict__.get("_nbc")
        if nbc is None:
            nbc = self.__dict__["_nbc"] = self.coursedirectory()
        return nbc
