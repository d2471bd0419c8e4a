"""The learning-outcome matrix of ``course/osaamistavoitteet.md``, generated from the notebooks.

Every graded cell of every ``solutions/<slug>/<slug>.ipynb`` names the learning outcomes it
evidences and the level (``metadata.crmkit = {"outcomes": [...], "level": "3-4"}``). This module
reads those tags and writes the matrix outcome × notebook × graded cells between two markers in
the outcomes document, so the matrix can never drift from the notebooks: ``crmkit course``
rewrites it, ``crmkit course --check`` (and ``tests/course/test_course.py``) fails when it is stale or
when an outcome has no graded evidence anywhere. New notebooks (``tentti``, ``naytto``) are picked
up by their folder alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from crmkit.course.authoring import LEVELS, OUTCOMES
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades.profile import CellTag, read_tags
from crmkit.runtime.errors import KitError

OUTCOMES_DOC = Path("course") / "osaamistavoitteet.md"
BEGIN = "<!-- BEGIN MATRIX (generated from solutions/*/*.ipynb by `crmkit course`; do not edit) -->"
END = "<!-- END MATRIX -->"

#: notebooks after the numbered lessons, in this order; anything else comes last, alphabetically
TAIL = ("projekti", "tentti", "naytto")
LEVEL_FI = {"1-2": "1–2", "3-4": "3–4", "5": "5"}


class MatrixError(KitError, ValueError):
    """The matrix cannot be made: untagged graded cells, or the document lacks its markers."""


def _order(slug: str) -> tuple:
    if re.match(r"^\d", slug):
        return (0, slug)
    if slug in TAIL:
        return (1, TAIL.index(slug))
    return (2, slug)


def notebooks(course: CourseDir) -> list[str]:
    """The course's notebooks (slugs), numbered lessons first, then projekti, tentti, naytto."""
    return sorted(course.assignments(), key=_order)


def evidence(course: CourseDir) -> list[CellTag]:
    """Every graded cell of every course notebook with its outcome tags (read as profiles read them).

    A graded cell whose tags are missing or invalid is an error here, not a silent gap in the matrix.
    """
    tags, problems = read_tags(course, notebooks(course), OUTCOMES)
    if problems:
        raise MatrixError("graded cells without valid outcome tags:\n" + "\n".join(problems))
    return list(tags.values())


def missing_outcomes(course: CourseDir) -> list[str]:
    """Outcomes A1–B7 that no graded cell of any notebook evidences."""
    seen = {o for e in evidence(course) for o in e.outcomes}
    return [o for o in OUTCOMES if o not in seen]


def _pts(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def matrix_markdown(course: CourseDir) -> str:
    """The generated part of the outcomes document (without the markers)."""
    ev = evidence(course)
    slugs = notebooks(course)
    lines = [
        "Taulukon solussa on muistikirjan arvioitujen tehtävien määrä ja pisteet tasoittain, "
        "esim. *3–4: 2 (5 p)* = kaksi tasolle 3–4 merkittyä arvioitua solua, yhteensä 5 pistettä. "
        "Tehtävä, joka on merkitty usealle tavoitteelle, näkyy jokaisen kohdalla.",
        "",
        "| tavoite | " + " | ".join(f"`{s}`" for s in slugs) + " | yhteensä |",
        "| --- | " + " | ".join("---" for _ in slugs) + " | --- |",
    ]
    for o in OUTCOMES:
        row, total_n, total_p = [], 0, 0.0
        for s in slugs:
            parts = []
            for lv in LEVELS:
                cells = [e for e in ev if e.assignment == s and o in e.outcomes and e.level == lv]
                if cells:
                    parts.append(f"{LEVEL_FI[lv]}: {len(cells)} ({_pts(float(sum(e.points for e in cells)))} p)")
                    total_n += len(cells)
                    total_p += float(sum(e.points for e in cells))
            row.append("<br>".join(parts) if parts else "–")
        total = f"{total_n} ({_pts(total_p)} p)" if total_n else "**ei näyttöä**"
        lines.append(f"| **{o}** | " + " | ".join(row) + f" | {total} |")
    lines += ["", "### Arvioidut tehtävät tavoitteittain", "",
              "*a* = automaattisesti arvioitu testisolu, *k* = opettajan käsin arvioima vastaus.", ""]
    for o in OUTCOMES:
        mine = [e for e in ev if o in e.outcomes]
        if not mine:
            lines.append(f"- **{o}**: ei arvioitua näyttöä")
            continue
        per_nb = []
        for s in slugs:
            cells = [e for e in mine if e.assignment == s]
            if cells:
                items = ", ".join(f"{e.grade_id} ({LEVEL_FI.get(e.level, e.level)}, {_pts(float(e.points))} p, "
                                  f"{'k' if e.manual else 'a'})" for e in cells)
                per_nb.append(f"`{s}`: {items}")
        lines.append(f"- **{o}** – " + "; ".join(per_nb))
    return "\n".join(lines)


def render(text: str, course: CourseDir) -> str:
    """``text`` with the part between the markers replaced by a fresh matrix."""
    if BEGIN not in text or END not in text:
        raise MatrixError(f"the markers {BEGIN!r} and {END!r} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{matrix_markdown(course)}\n{END}{tail}"


def check(course: CourseDir) -> list[str]:
    """Problems with the committed matrix: stale, or an outcome without evidence (empty = fine)."""
    path = course.root / OUTCOMES_DOC
    if not path.exists():
        return [f"{OUTCOMES_DOC} is missing"]
    text = path.read_text(encoding="utf-8")
    problems = []
    try:
        if render(text, course) != text:
            problems.append(f"{OUTCOMES_DOC}: the outcome matrix is not current; run `crmkit course`")
    except ValueError as e:
        problems.append(f"{OUTCOMES_DOC}: {e}")
    problems += [f"outcome {o} has no graded cell in any notebook" for o in missing_outcomes(course)]
    return problems


def update(course: CourseDir) -> bool:
    """Rewrite the matrix in the outcomes document; True if the file changed."""
    path = course.root / OUTCOMES_DOC
    text = path.read_text(encoding="utf-8")
    new = render(text, course)
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False
