"""A submitted notebook checked before it runs, and the fingerprint that says it is unchanged.

:func:`check` reads the file as nbgrader would and compares its graded cells with the source and
the release: not UTF-8, not JSON, not a notebook, a test or answer cell deleted, a test cell's
type or metadata changed (fatal or failing, each named), or a test cell's code edited (nbgrader
puts the original back; the teacher is told). :func:`fingerprint` is a sha256 over the
submission folder, so that an unchanged submission is not graded twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.engine import cells


@dataclass
class Check:
    """What :func:`check` found: a fatal reason (nothing can run), problems that fail the
    submission, and notes for the teacher."""

    fatal: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fingerprint(folder: Path) -> str:
    """sha256 over the submission folder's files (names and contents)."""
    h = hashlib.sha256()
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            h.update(str(p.relative_to(folder)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _load(path: Path):
    """(notebook, None) or (None, the Finnish reason it cannot be read)."""
    import nbformat

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, f"palautuksessa ei ole muistikirjaa {path.name}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"tiedosto ei ole kelvollinen muistikirja (ei UTF-8-tekstiä, tavu {e.start})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"tiedosto ei ole kelvollinen muistikirja (JSON-virhe rivillä {e.lineno})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "tiedosto ei ole kelvollinen muistikirja (ei soluluetteloa)"
    if data.get("nbformat") != 4:
        return None, f"tiedosto ei ole kelvollinen muistikirja (nbformat {data.get('nbformat')!r}, odotettiin 4)"
    try:
        return nbformat.reads(text, as_version=4), None
    except Exception as e:  # noqa: BLE001 - any reader error is the submission's problem
        return None, f"tiedosto ei ole kelvollinen muistikirja ({type(e).__name__}: {str(e)[:120]})"


def check(path: Path, source_nb, release_nb) -> Check:
    """Check a submitted notebook against the assignment's source and release (see the module)."""
    nb, fatal = _load(Path(path))
    if fatal:
        return Check(fatal=fatal)
    have = {cells.grade_id(c): c for c in nb.cells if cells.grade_id(c)}
    released = {cells.grade_id(c): c for c in release_nb.cells if cells.grade_id(c)}
    out = Check()
    for c in source_nb.cells:
        gid = cells.grade_id(c)
        if not gid or not cells.is_graded(c):
            continue
        if gid not in have:
            out.problems.append(f"{cells.kind_fi(c)} {gid} poistettu")
        elif cells.is_test(c):
            mine, rel = have[gid], released.get(gid)
            if mine.cell_type != "code" or not cells.grade_meta(mine).get("grade"):
                out.problems.append(f"testisolun {gid} tyyppi tai arviointitiedot muutettu")
            elif mine.source.strip() not in {c.source.strip(), rel.source.strip() if rel is not None else None}:
                out.notes.append(f"testisolun {gid} koodia oli muutettu; arvioitu alkuperäisellä testillä")
    return out
