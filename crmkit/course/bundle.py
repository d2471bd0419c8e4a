"""The student kit: the archive a student or self-learner downloads (``crmkit bundle``).

``dist/cus4lh102-opiskelija-<version>.zip`` holds, under one top folder:

* ``README.md`` – the student README (``course/README-opiskelija.md``);
* ``notebooks/`` – the released assignments (nbgrader's release, no solutions);
* ``data/`` – the data world, the CDNOW sample and the import examples (everything under data/
  but any ``.crmkit-salt``);
* ``environment.yml``, ``postBuild`` and a ``pyproject.toml`` of its own (:func:`pyproject_text`)
  – the environment and the install of the student runtime, with no command-line script;
* ``crmkit/`` – the student runtime (:mod:`crmkit.runtime`), whole, and nothing else of the kit
  (:func:`package_files`). Released notebooks may import only it (:func:`foreign_imports`);
* ``course/`` – the student and AHOT guides that exist (:data:`GUIDES`); absent ones are listed.

Before the archive is written it is checked (:func:`problems`) and refused if anything leaks: no
path from solutions/ or grading/, no gradebook, no salt, no teacher-only document (an answer key
marked :data:`TEACHER_ONLY_MARK`), no solution or hidden-test delimiter in
any file, no line of any solution region or hidden test of any solutions/ notebook in any released
notebook, and none of at least :data:`MIN_LINE` characters in any other text file (shorter lines
such as ``return {`` occur in ordinary code too). The archive is reproducible: sorted entries and a
fixed timestamp, so an unchanged kit gives the same bytes.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import crmkit
from crmkit.engine import cells
from crmkit.engine.autograde.kernelpool import notebook_imports
from crmkit.engine.cells import DELIMITERS
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import output
from crmkit.runtime.errors import KitError

NAME = "cus4lh102-opiskelija"
STUDENT_README = "course/README-opiskelija.md"
#: the guides a student or self-learner needs, included when present (patterns under the root)
GUIDES = ("course/opiskelijan-opas*.md", "course/*opiskelija*.md", "course/ahot*.md", "course/*ahot*.md",
          "course/*naytto*.md", "course/*näyttö*.md", "course/aikataulu.md", "course/opintojakso.md",
          "course/projekti-arviointi.md", "course/osaamistavoitteet.md")
#: the guides the kit expects (reported as absent if missing)
EXPECTED_GUIDES = ("student guide (course/opiskelijan-opas*.md)", "AHOT guide (course/ahot*.md)")
TOP_FILES = ("environment.yml", "postBuild")  # pyproject.toml is the kit's own (pyproject_text)
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
FORBIDDEN_NAMES = {".crmkit-salt", "gradebook.db", "nbgrader_config.py"}
FORBIDDEN_TOP = {"solutions", "grading", "tests", ".git", ".jupyter", ".venv"}
#: the first line of a teacher-only document (an answer key such as the data world's planted
#: structure); a kit holding a file with it is refused
TEACHER_ONLY_MARK = "<!-- crmkit: teacher-only -->"
MIN_LINE = 16
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


class BundleError(KitError):
    """The kit cannot be made (a missing part) or would leak (nothing is written)."""


@dataclass
class Plan:
    """What the kit holds."""

    files: list[tuple[str, Path | bytes]]  # archive path (under the top folder) -> source file or content
    guides: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


def _walk(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not (SKIP_PARTS & set(path.parts)) and path.name not in FORBIDDEN_NAMES:
            yield path


RUNTIME = "crmkit.runtime"


def package_files() -> list[tuple[str, Path]]:
    """The student runtime, whole: ``crmkit/__init__.py`` and every module of ``crmkit/runtime/``
    (archive path, file), taken from the installed package. It is what notebooks may import."""
    pkg = Path(crmkit.__file__).resolve().parent
    files = [("crmkit/__init__.py", pkg / "__init__.py")]
    for path in sorted((pkg / "runtime").rglob("*.py")):
        if not (SKIP_PARTS & set(path.parts)):
            files.append((f"crmkit/{path.relative_to(pkg).as_posix()}", path))
    return files


def foreign_imports(course: CourseDir) -> list[str]:
    """Released notebooks' imports of the kit from outside the student runtime (empty = fine):
    the kit ships only :mod:`crmkit.runtime`, so such a notebook would fail on a student's machine."""

    found = []
    for slug in course.assignments():
        path = course.release_notebook(slug)
        if not path.exists():
            continue
        for module in notebook_imports(cells.read(path)):
            if module.split(".")[0] == "crmkit" and module != "crmkit" and not (
                    module == RUNTIME or module.startswith(RUNTIME + ".")):
                found.append(f"{path.relative_to(course.root)}: imports {module}, which is not in the student runtime")
    return found


def pyproject_text(course: CourseDir) -> str:
    """The student kit's ``pyproject.toml``: the course's dependencies, the runtime package only,
    no command-line script (the kit has no teacher's tools)."""
    import tomllib

    project = tomllib.loads((course.root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    deps = "".join(f'    "{d}",\n' for d in project.get("dependencies", []))
    return (f"# The student kit of {NAME}: installs the notebooks' runtime (crmkit.runtime) and its dependencies.\n"
            "# Generated by `crmkit bundle` from the course's pyproject.toml.\n"
            "[build-system]\nrequires = [\"setuptools>=68\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
            f"[project]\nname = \"crmkit\"\nversion = \"{crmkit.__version__}\"\n"
            f"requires-python = \"{project.get('requires-python', '>=3.11')}\"\n"
            f"dependencies = [\n{deps}]\n\n"
            "[tool.setuptools.packages.find]\ninclude = [\"crmkit\", \"crmkit.runtime*\"]\n")


def plan(course: CourseDir) -> Plan:
    """What goes into the kit, from the course: the student README, ``notebooks/``, ``data/``, the
    environment files, the student runtime and the student guides."""
    root = course.root
    files: list[tuple[str, Path | bytes]] = []
    readme = root / STUDENT_README
    if not readme.exists():
        raise BundleError(f"{readme} is missing: the kit needs a student README")
    files.append(("README.md", readme))
    for folder in (course.step_dir("release"), course.data_dir):
        if not folder.is_dir():
            raise BundleError(f"{folder} is missing (run `make release` / `make data`)")
        name = folder.name if folder == course.data_dir else "notebooks"
        files += [(f"{name}/{p.relative_to(folder).as_posix()}", p) for p in _walk(folder)]
    for name in TOP_FILES:
        if (root / name).exists():
            files.append((name, root / name))
    if (root / "pyproject.toml").exists():
        files.append(("pyproject.toml", pyproject_text(course).encode("utf-8")))
    files += package_files()
    guides = []
    for pattern in GUIDES:
        for p in sorted(root.glob(pattern)):
            rel = p.relative_to(root).as_posix()
            if rel != STUDENT_README and rel not in guides:
                guides.append(rel)
    files += [(g, root / g) for g in guides]
    absent = [e for e in EXPECTED_GUIDES
              if not any(fnmatch.fnmatchcase(g, e.split("(")[1].rstrip(")")) for g in guides)]
    return Plan(files=files, guides=guides, absent=absent)


def build(p: Plan) -> bytes:
    """The zip archive (in memory), entries sorted, fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for arc, src in sorted(p.files, key=lambda f: f[0]):
            info = zipfile.ZipInfo(f"{NAME}/{arc}", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = isinstance(src, Path) and os.access(src, os.X_OK)
            info.external_attr = (0o755 if executable else 0o644) << 16
            zf.writestr(info, src if isinstance(src, bytes) else src.read_bytes())
    return buf.getvalue()


def _secrets(course: CourseDir) -> dict[str, str]:
    """Every non-trivial line of every solution region and hidden test in solutions/ -> where from.

    A line the teacher also wrote outside every secret region, in any solutions/ notebook (e.g. a
    worked example in lesson 03 that is the answer of an exercise in lesson 05), is public
    anyway and is not counted as a secret.
    """
    out, public = {}, set()
    for slug in course.assignments():
        for path in sorted(course.source_notebook(slug).parent.glob("*.ipynb")):
            nb = cells.read(path)
            for line, where in cells.secret_lines(nb).items():
                out.setdefault(line, f"{where} of {path.relative_to(course.root)}")
            for cell in nb.cells:
                inside = {l.strip() for region in cells.solution_regions(cell.source) + cells.hidden_regions(cell.source)
                          for l in region}
                public.update(l.strip() for l in cell.source.splitlines() if l.strip() not in inside)
    return {line: where for line, where in out.items() if line not in public}


def _strings(obj):
    """Every string inside nested lists and dicts (a notebook cell's outputs)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        if all(isinstance(x, str) for x in obj):
            yield "".join(obj)
        else:
            for x in obj:
                yield from _strings(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _strings(x)


def problems(archive: bytes | str | os.PathLike, course: CourseDir) -> list[str]:
    """Everything in ``archive`` that must not be in a student kit (empty = clean)."""
    secrets = _secrets(course)
    long_secrets = {s: w for s, w in secrets.items() if len(s) >= MIN_LINE}
    data = archive if isinstance(archive, bytes) else Path(archive).read_bytes()
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            rel = "/".join(parts[1:]) if parts[0] == NAME else name
            top = rel.split("/")[0]
            if top in FORBIDDEN_TOP:
                found.append(f"{name}: files from {top}/ must not be in the student kit")
            if parts[-1] in FORBIDDEN_NAMES:
                found.append(f"{name}: {parts[-1]} must not be in the student kit")
            raw = zf.read(name)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if TEACHER_ONLY_MARK in text:
                found.append(f"{name}: a teacher-only document (answer key) must not be in the student kit")
            for delim in DELIMITERS:
                if delim in text:
                    found.append(f"{name}: contains {delim!r}")
            if name.endswith(".ipynb"):
                try:
                    nb = json.loads(text)
                except json.JSONDecodeError as e:
                    found.append(f"{name}: not a readable notebook ({e})")
                    continue
                lines = []
                for i, cell in enumerate(nb.get("cells", []), start=1):
                    src = cell.get("source", "")
                    lines += [(f"cell {i}", l) for l in ("".join(src) if isinstance(src, list) else src).splitlines()]
                    if (cell.get("metadata", {}).get("crmkit") or {}).get("wrong"):
                        found.append(f"{name}: cell {i} carries crmkit.wrong (teacher-only wrong answers)")
                    for text_out in _strings(cell.get("outputs", [])):
                        lines += [(f"cell {i} output", l) for l in text_out.splitlines()]
                check = secrets
            else:
                lines = [(f"line {n}", l) for n, l in enumerate(text.splitlines(), start=1)]
                check = long_secrets
            for where, line in lines:
                s = line.strip()
                if s in check:
                    found.append(f"{name}: {where}: {s!r} leaks the {check[s]}")
    return found


def make(course: CourseDir, out_dir: str | os.PathLike | None = None) -> tuple[Path, Plan, str]:
    """Plan, build, check and write the kit; raise :class:`BundleError` (nothing written) on a leak
    or on a released notebook that imports the kit from outside the student runtime."""

    p = plan(course)
    data = build(p)
    leaks = foreign_imports(course) + problems(data, course)
    if leaks:
        raise BundleError("the student kit would leak, nothing written:\n" + "\n".join(f"  - {x}" for x in leaks))
    out_dir = Path(out_dir) if out_dir else course.root / "dist"
    path = out_dir / f"{NAME}-{crmkit.__version__}.zip"
    return path, p, output.write(path, data)
