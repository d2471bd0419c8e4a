"""Build nbgrader source notebooks for ``solutions/`` without getting the metadata wrong.

Notebook authors use these from a scratch script and commit only the ``.ipynb`` it writes::

    from crmkit.course import authoring as a

    cells = [
        a.markdown("# 00 Aloitus\\n\\nPisteet yhteensä: 3"),
        a.code("from crmkit.runtime import lesson\\nlesson.setup(min_version='0.1.0')", locked=True),
        a.answer("t1_mediaani", "vastaus = ...\\n### BEGIN SOLUTION\\nvastaus = 3\\n### END SOLUTION",
                 outcomes=["A1"], level="1-2",
                 wrong=[a.wrong("mean instead of median", "vastaus = 4", expect="keskiarvo")]),
        a.tests("t1_mediaani_testit", 'assert vastaus == 3, "Laskitko keskiarvon?"', points=1,
                outcomes=["A1"], level="1-2"),
        a.manual("t2_perustelu", "**Tehtävä 1.2** (2 p) ...rubric...", "Mallivastaus ...", points=2,
                 outcomes=["A2"], level="3-4"),
    ]
    a.write(cells, "solutions/00_aloitus/00_aloitus.ipynb")

Conventions (checked by :mod:`crmkit.course.gates`):

* Every graded cell carries nbgrader's metadata and, under ``crmkit``, the learning-outcome ids
  and the level it demonstrates: ``{"outcomes": ["A1"], "level": "1-2"}``.
* An autograded exercise is two cells: the answer cell (``solution: true, grade: false``; the
  solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION``) and right after it a locked
  test cell that holds the points (``grade: true``), with hidden tests between
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. A test cell must end in a statement, not
  an expression: nbgrader reads a number printed by the last line as partial credit. Any output
  on stderr makes nbgrader score the test cell 0 (:func:`crmkit.runtime.lesson.setup` routes warnings to
  stdout for that reason).
* A named wrong answer's ``source`` replaces the answer cell's solution region (the delimiters
  included), indented like the ``### BEGIN SOLUTION`` line; if the cell has more than one
  solution region it replaces the whole cell. ``expect`` is a substring of the Finnish failure
  message the student then sees; the quality gate proves it.
* A hand-graded answer is a markdown cell (``solution: true, grade: true, points``) whose text
  holds the prompt and the three-level rubric (grade 1 / 3 / 5) above the solution region; the
  release keeps the rubric and replaces only the model answer.
* The header markdown states the notebook's total as ``Pisteet yhteensä: N`` (see
  :data:`TOTAL_RE`), which must equal the sum of the points of the graded cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

#: valid learning-outcome ids (course-outcomes.md) and levels
OUTCOMES = ("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4", "B5", "B6", "B7")
LEVELS = ("1-2", "3-4", "5")

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

#: the header phrase that states the notebook's total points, e.g. "Pisteet yhteensä: 24"
TOTAL_PHRASE = "Pisteet yhteensä:"
TOTAL_RE = re.compile(r"Pisteet yhteensä:\s*(\d+(?:[.,]\d+)?)")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

_ID_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    if not _ID_RE.match(grade_id):
        raise ValueError(f"grade_id {grade_id!r}: use letters, digits, '_' and '-' only")
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        if points is None or points <= 0:
            raise ValueError(f"{grade_id}: a graded cell needs points > 0")
        meta["points"] = points
    return meta


def _crmkit(outcomes: Sequence[str], level: str) -> dict:
    outcomes = list(outcomes)
    bad = [o for o in outcomes if o not in OUTCOMES]
    if not outcomes or bad:
        raise ValueError(f"outcomes {outcomes!r}: give one or more of {', '.join(OUTCOMES)}")
    if level not in LEVELS:
        raise ValueError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    return {"outcomes": outcomes, "level": level}


def markdown(text: str) -> NotebookNode:
    """A plain markdown cell (narrative, theory, hints in ``<details>``)."""
    return nbformat.v4.new_markdown_cell(text)


def code(source: str, locked: bool = False, cell_id: str | None = None) -> NotebookNode:
    """A code cell; ``locked=True`` makes it read-only for students (nbgrader "read-only" cell).

    Locked cells need an id that nbgrader can check at grading time; :func:`write` gives
    ``lukittu_<n>`` to locked cells without ``cell_id``. Give a stable ``cell_id`` (e.g. "setup")
    to cells that matter.
    """
    cell = nbformat.v4.new_code_cell(source)
    if locked:
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": cell_id or "", "locked": True,
                                     "schema_version": 3, "solution": False, "task": False}
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False
    return cell


def wrong(name: str, source: str, expect: str) -> dict:
    """A named wrong answer for :func:`answer` (``expect``: substring of the failure message)."""
    if not expect:
        raise ValueError(f"wrong answer {name!r} needs `expect`")
    return {"name": name, "source": source, "expect": expect}


def answer(grade_id: str, source: str, outcomes: Sequence[str], level: str,
           wrong: Iterable[dict] = ()) -> NotebookNode:
    """An autograded answer cell. The points sit on the :func:`tests` cell that follows it.

    ``source`` holds the solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (with a
    skeleton around it if wanted); without delimiters the whole source is the solution.
    ``wrong`` is a list of :func:`wrong` entries (or dicts with name, source, expect).
    """
    if BEGIN_SOLUTION not in source:
        source = f"{BEGIN_SOLUTION}\n{source.strip(chr(10))}\n{END_SOLUTION}"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=False, solution=True, locked=False)
    meta = _crmkit(outcomes, level)
    wrongs = []
    for w in wrong:
        w = dict(w)
        missing = {"name", "source", "expect"} - set(w)
        if missing:
            raise ValueError(f"{grade_id}: wrong answer {w.get('name')!r} lacks {sorted(missing)}")
        wrongs.append({"name": w["name"], "source": w["source"], "expect": w["expect"]})
    if wrongs:
        meta["wrong"] = wrongs
    cell.metadata["crmkit"] = meta
    return cell


def tests(grade_id: str, source: str, points: float, outcomes: Sequence[str], level: str) -> NotebookNode:
    """A locked, autograded test cell worth ``points`` (hidden tests between the HIDDEN delimiters)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=False, locked=True, points=points)
    cell.metadata["crmkit"] = _crmkit(outcomes, level)
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    return cell


def manual(grade_id: str, prompt_with_rubric: str, model_answer: str, points: float,
           outcomes: Sequence[str], level: str) -> NotebookNode:
    """A hand-graded markdown answer: prompt and rubric (grade 1 / 3 / 5), then the model answer.

    The release keeps the prompt and rubric; nbgrader replaces only the model answer (the
    solution region) with the stub the student overwrites.
    """
    source = f"{prompt_with_rubric.rstrip()}\n\n{BEGIN_SOLUTION}\n{model_answer.strip()}\n{END_SOLUTION}"
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=True, locked=False, points=points)
    cell.metadata["crmkit"] = _crmkit(outcomes, level)
    return cell


def parameters(source: str) -> NotebookNode:
    """Papermill's ``parameters`` cell (e.g. ``DATA_DIR = None``): a plain, editable code cell."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def notebook(cells: Sequence[NotebookNode], title: str | None = None) -> NotebookNode:
    """Assemble cells into an nbformat 4 notebook with the python3 kernelspec."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    if title:
        nb.metadata["title"] = title
    n = 0
    for cell in cells:
        cell = nbformat.from_dict(dict(cell))
        meta = cell.metadata.get("nbgrader")
        if meta and not meta.get("grade_id"):
            n += 1
            meta["grade_id"] = f"lukittu_{n}"
        nb.cells.append(cell)
    # deterministic cell ids, so rewriting a notebook does not make a noisy diff
    for i, cell in enumerate(nb.cells):
        cell["id"] = (cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{i}")[:64]
    nbformat.validate(nb)
    return nb


def write(cells: Sequence[NotebookNode], path: str | Path, title: str | None = None) -> Path:
    """Write the cells as a source notebook at ``path`` (no outputs, no execution counts)."""
    nb = notebook(cells, title=title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
