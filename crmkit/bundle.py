"""The student kit: the archive a student or self-learner downloads (``crmkit bundle``).

``dist/cus4lh102-opiskelija-<version>.zip`` holds, under one top folder:

* ``README.md`` – the student README (``course/README-opiskelija.md``);
* ``notebooks/`` – the released assignments (nbgrader's release, no solutions);
* ``data/`` – the data world, the CDNOW sample and the import examples (everything under data/
  but any ``.crmkit-salt``);
* ``environment.yml``, ``pyproject.toml``, ``postBuild`` – the environment and the install of the
  ``crmkit`` package the notebooks import;
* ``crmkit/`` – the modules of that package the released notebooks import, and the modules those
  import (:func:`package_files`); never the teacher's tools (:data:`TEACHER_ONLY`);
* ``course/`` – the student and AHOT guides that exist (:data:`GUIDES`); absent ones are listed.

Before the archive is written it is checked (:func:`problems`) and refused if anything leaks: no
path from solutions/ or grading/, no gradebook, no salt, no solution or hidden-test delimiter in
any file, no line of any solution region or hidden test of any solutions/ notebook in any released
notebook, and none of at least :data:`MIN_LINE` characters in any other text file (shorter lines
such as ``return {`` occur in ordinary code too). The archive is reproducible: sorted entries and a
fixed timestamp, so an unchanged kit gives the same bytes.
"""

from __future__ import annotations

import fnmatch
import io
import re
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import crmkit
from crmkit.paths import ROOT

NAME = "cus4lh102-opiskelija"
STUDENT_README = "course/README-opiskelija.md"
#: the guides a student or self-learner needs, included when present (patterns under the root)
GUIDES = ("course/opiskelijan-opas*.md", "course/*opiskelija*.md", "course/ahot*.md", "course/*ahot*.md",
          "course/*naytto*.md", "course/*näyttö*.md")
#: the guides the kit expects (reported as absent if missing)
EXPECTED_GUIDES = ("student guide (course/opiskelijan-opas*.md)", "AHOT guide (course/ahot*.md)")
TOP_FILES = ("environment.yml", "pyproject.toml", "postBuild")
#: the teacher's tools, never in the student kit (they carry the solution markers and drive grading)
TEACHER_ONLY = ("crmkit/authoring.py", "crmkit/gates.py", "crmkit/nbg.py", "crmkit/bundle.py", "crmkit/grading/*",
                "crmkit/commands/grades.py", "crmkit/commands/profile.py", "crmkit/commands/report.py",
                "crmkit/commands/bundle.py", "crmkit/commands/demo.py", "crmkit/commands/release.py")
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
FORBIDDEN_NAMES = {".crmkit-salt", "gradebook.db", "nbgrader_config.py"}
FORBIDDEN_TOP = {"solutions", "grading", "tests", ".git", ".jupyter", ".venv"}
DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
#: the first line of a teacher-only document (an answer key such as the data world's planted
#: structure); a kit holding a file with it is refused
TEACHER_ONLY_MARK = "<!-- crmkit: teacher-only -->"
MIN_LINE = 16
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


class BundleError(RuntimeError):
    pass


@dataclass
class Plan:
    files: list[tuple[str, Path]]  # archive path (under the top folder) -> source file
    guides: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


def _walk(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not (SKIP_PARTS & set(path.parts)) and path.name not in FORBIDDEN_NAMES:
            yield path


_IMPORT = re.compile(r"^\s*(?:from\s+(crmkit(?:\.\w+)*)\s+import[ \t]+([^\n#]+)|import\s+(crmkit(?:\.\w+)*))",
                     re.MULTILINE)


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def package_files(root: str | os.PathLike = ROOT) -> list[str]:
    """The crmkit modules the released notebooks need: what they import, and what that imports.

    Imports are found in the source text (also imports inside functions), so new modules the
    lessons use come along without a change here; parent packages' ``__init__.py`` are included.
    """
    root = Path(root)
    todo = ["crmkit"]
    for nb in sorted((root / "notebooks").rglob("*.ipynb")):
        if SKIP_PARTS & set(nb.parts):
            continue
        try:
            cells = json.loads(nb.read_text(encoding="utf-8")).get("cells", [])
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BundleError(f"{nb}: not a readable notebook ({e})") from None
        for cell in cells:
            src = cell.get("source", "")
            todo += [m for m, *_ in _imports("".join(src) if isinstance(src, list) else src)]
    seen: set[str] = set()
    files: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        path = _module_file(root, module)
        if path is None:
            continue
        files.add(path.relative_to(root).as_posix())
        todo += [m for m, *_ in _imports(path.read_text(encoding="utf-8"))]
    return sorted(files)


def _imports(text: str) -> list[tuple[str]]:
    out = []
    for m in _IMPORT.finditer(text):
        if m.group(3):
            out.append((m.group(3),))
        else:
            out.append((m.group(1),))
            for name in re.split(r"[\s,()]+", m.group(2)):
                if name and name != "as" and name.isidentifier():
                    out.append((f"{m.group(1)}.{name}",))  # may be a submodule; non-modules are skipped
    return out


def plan(root: str | os.PathLike = ROOT) -> Plan:
    """What goes into the kit, from the course at ``root``."""
    root = Path(root)
    files: list[tuple[str, Path]] = []
    readme = root / STUDENT_README
    if not readme.exists():
        raise BundleError(f"{readme} is missing: the kit needs a student README")
    files.append(("README.md", readme))
    for folder in ("notebooks", "data"):
        if not (root / folder).is_dir():
            raise BundleError(f"{root / folder} is missing (run `make release` / `make data`)")
        files += [(p.relative_to(root).as_posix(), p) for p in _walk(root / folder)]
    for name in TOP_FILES:
        if (root / name).exists():
            files.append((name, root / name))
    for rel in package_files(root):
        if not any(fnmatch.fnmatchcase(rel, t) for t in TEACHER_ONLY):
            files.append((rel, root / rel))
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
        for arc, src in sorted(p.files):
            info = zipfile.ZipInfo(f"{NAME}/{arc}", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if os.access(src, os.X_OK) else 0o644) << 16
            zf.writestr(info, src.read_bytes())
    return buf.getvalue()


def _secrets(root: Path) -> dict[str, str]:
    """Every non-trivial line of every solution region and hidden test in solutions/ -> where from.

    A line the teacher also wrote outside every secret region, in any solutions/ notebook (e.g. a
    worked example in lesson 03 that is the answer of an exercise in lesson 05), is public
    anyway and is not counted as a secret.
    """
    from crmkit import gates, nbg

    out, public = {}, set()
    for slug in nbg.assignments(root):
        for path in sorted((root / "solutions" / slug).glob("*.ipynb")):
            nb = gates.read(path)
            for line, where in gates.secret_lines(nb).items():
                out.setdefault(line, f"{where} of {path.relative_to(root)}")
            for cell in nb.cells:
                inside = {l.strip() for begin, end in (("BEGIN SOLUTION", "END SOLUTION"),
                                                       ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
                          for region in gates.regions(cell.source, begin, end) for l in region}
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


def problems(archive: bytes | str | os.PathLike, root: str | os.PathLike = ROOT) -> list[str]:
    """Everything in ``archive`` that must not be in a student kit (empty = clean)."""
    root = Path(root)
    secrets = _secrets(root)
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


def make(root: str | os.PathLike = ROOT, out_dir: str | os.PathLike | None = None) -> tuple[Path, Plan, str]:
    """Plan, build, check and write the kit; raise :class:`BundleError` (nothing written) on a leak."""
    from crmkit.grading import output

    root = Path(root)
    p = plan(root)
    data = build(p)
    leaks = problems(data, root)
    if leaks:
        raise BundleError("the student kit would leak, nothing written:\n" + "\n".join(f"  - {x}" for x in leaks))
    out_dir = Path(out_dir) if out_dir else root / "dist"
    path = out_dir / f"{NAME}-{crmkit.__version__}.zip"
    return path, p, output.write(path, data)
