"""What a graded cell is, and nbgrader's markers: defined once for the whole kit.

nbgrader marks a solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and hidden tests
between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``; a cell's role is in its
``metadata.nbgrader`` (``solution``, ``grade``, ``grade_id``, ``points``). The kit adds
``metadata.crmkit``: the learning outcomes and level a cell demonstrates, and on an answer cell its
named wrong answers. Everything that reads notebooks (autograde, feedback, gates, bundle, the demo)
uses these functions, so that a cell is classified and a secret line recognised the same way
everywhere.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
#: the words nbgrader looks for (a line containing one is a marker line)
SOLUTION_WORDS = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_WORDS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
DELIMITERS = (*SOLUTION_WORDS, *HIDDEN_WORDS)
#: the levels a graded cell can demonstrate (``metadata.crmkit.level``), lowest first
LEVELS = ("1-2", "3-4", "5")

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TRIVIAL = re.compile(r"^[\s()\[\]{}:;,.'\"#`*|\-=_]*$")
_TRIVIAL_WORDS = {"pass", "else:", "try:", "finally:", "return", "break", "continue", "...", "None",
                  "except:", "raise", "else", "\"\"\"", "'''"}
#: ``except FileNotFoundError:`` and the like name a Python exception, never an answer
_EXCEPT_CLAUSE = re.compile(r"^except\s*\(?\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*\)?(\s+as\s+\w+)?\s*:$")


def read(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook (nbformat 4) without validating it."""
    return nbformat.read(str(path), as_version=4)


def grade_meta(cell) -> dict:
    """The cell's nbgrader metadata ({} if none)."""
    meta = cell.get("metadata")
    return (meta.get("nbgrader") or {}) if isinstance(meta, dict) else {}


def kit_meta(cell) -> dict:
    """The cell's ``crmkit`` metadata: outcomes, level, named wrong answers ({} if none)."""
    meta = cell.get("metadata")
    return (meta.get("crmkit") or {}) if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    """The cell's nbgrader ``grade_id`` (None for an ordinary cell)."""
    return grade_meta(cell).get("grade_id")


def is_answer(cell) -> bool:
    """An autograded answer cell: a code cell with ``solution: true, grade: false``."""
    m = grade_meta(cell)
    return cell.cell_type == "code" and bool(m.get("solution")) and not m.get("grade")


def is_test(cell) -> bool:
    """An autograded test cell: a code cell with ``grade: true, solution: false``."""
    m = grade_meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def is_graded(cell) -> bool:
    """A cell that carries points or holds a solution (answer, test or hand-graded cell)."""
    m = grade_meta(cell)
    return bool(m.get("grade")) or bool(m.get("solution"))


def kind_fi(cell) -> str:
    """The cell's role in Finnish, as messages to teachers and students name it."""
    return "testisolu" if is_test(cell) else ("vastaussolu" if is_answer(cell) else "arvioitava solu")


def label(nb, i: int) -> str:
    """``cell 7 (t1_mediaani)``: how problems name a cell (1-based, like JupyterLab shows)."""
    gid = grade_id(nb.cells[i])
    first = nb.cells[i].source.strip().splitlines()[0][:50] if nb.cells[i].source.strip() else ""
    return f"cell {i + 1} ({gid})" if gid else f"cell {i + 1} ({first!r})"


def regions(source: str, begin: str, end: str) -> list[list[str]]:
    """The lines inside each ``begin`` … ``end`` region (delimiter lines excluded)."""
    out, current = [], None
    for line in source.splitlines():
        if begin in line:
            current = []
        elif end in line and current is not None:
            out.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return out


def solution_regions(source: str) -> list[list[str]]:
    """The lines of each solution region of a cell's source."""
    return regions(source, *SOLUTION_WORDS)


def hidden_regions(source: str) -> list[list[str]]:
    """The lines of each hidden-test region of a cell's source."""
    return regions(source, *HIDDEN_WORDS)


def strip_hidden(source: str) -> str:
    """The test source as the student sees it: hidden tests (and their delimiters) removed."""
    keep, hidden = [], False
    for line in source.splitlines():
        if HIDDEN_WORDS[0] in line:
            hidden = True
        elif HIDDEN_WORDS[1] in line:
            hidden = False
        elif not hidden:
            keep.append(line)
    return "\n".join(keep)


def replace_solution(source: str, replacement: str) -> str:
    """Put ``replacement`` in place of the one solution region (delimiters included), indented like
    its ``BEGIN`` line; a cell with no or several regions is replaced whole."""
    lines = source.splitlines()
    begins = [i for i, l in enumerate(lines) if SOLUTION_WORDS[0] in l]
    ends = [i for i, l in enumerate(lines) if SOLUTION_WORDS[1] in l]
    if len(begins) != 1 or len(ends) != 1:
        return replacement
    b, e = begins[0], ends[0]
    indent = re.match(r"\s*", lines[b]).group(0)
    new = textwrap.indent(textwrap.dedent(replacement).strip("\n"), indent).splitlines()
    return "\n".join(lines[:b] + new + lines[e + 1:])


def errors(cell) -> list[dict]:
    """The error outputs of an executed cell."""
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def failure_text(cell) -> str | None:
    """Why nbgrader would score this executed cell 0: its error and stderr text, or None."""
    parts, failed = [], False
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            failed = True
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
            parts.extend(strip_ansi(t) for t in out.get("traceback", []))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            failed = True
            parts.append(out.get("text", ""))
    return "\n".join(parts) if failed else None


def message_text(cell) -> str | None:
    """What an executed cell's failure says in words: each error's ``name: message`` and anything
    on stderr, without the traceback's code lines (None when the cell did not fail)."""
    parts = [f"{o.get('ename')}: {o.get('evalue')}" for o in errors(cell)]
    parts += [o.get("text", "") for o in cell.get("outputs", [])
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    return "\n".join(parts) if parts else None


def strip_ansi(text: str) -> str:
    """Text without terminal colour codes (tracebacks carry them)."""
    return _ANSI.sub("", text)


def is_trivial(line: str) -> bool:
    """A line that says nothing on its own (brackets, ``pass``, ``return`` …): never a secret."""
    s = line.strip()
    return not s or bool(_TRIVIAL.match(s)) or s in _TRIVIAL_WORDS or bool(_EXCEPT_CLAUSE.match(s))


def secret_lines(nb) -> dict[str, str]:
    """Non-trivial lines of solution regions and hidden tests -> where they come from.

    Lines that also appear outside every secret region of the notebook (a skeleton's ``def`` line
    repeated, say) are public and left out.
    """
    secret, public = {}, set()
    for i, cell in enumerate(nb.cells):
        inside = set()
        for words, kind in ((SOLUTION_WORDS, "solution"), (HIDDEN_WORDS, "hidden test")):
            for region in regions(cell.source, *words):
                for line in region:
                    s = line.strip()
                    inside.add(s)
                    secret.setdefault(s, f"{kind} in {label(nb, i)}")
        public.update(l.strip() for l in cell.source.splitlines() if l.strip() not in inside)
    return {s: w for s, w in secret.items() if not is_trivial(s) and s not in public}


def hidden_lines(nb) -> set[str]:
    """Non-trivial lines of hidden tests that appear nowhere else in the notebook (stripped)."""
    hidden = {l.strip() for c in nb.cells for region in hidden_regions(c.source) for l in region}
    return {l for l in hidden - public_lines(nb) if not is_trivial(l)}


def public_lines(nb) -> set[str]:
    """Every stripped line of the notebook outside its hidden tests (what students may see)."""
    return {l.strip() for c in nb.cells for l in strip_hidden(c.source).splitlines() if l.strip()}
