"""What the class got wrong: per exercise, the share who passed and the messages students saw,
ranked by how many students saw them ("Yleisimmät virheet", for the next lecture).

Autograde keeps, for each student, the first line of the message each failing test cell showed
(:func:`crmkit.engine.feedback.failure_messages`: the assertion text the student saw, never a hidden
test's text) in the status file. Here they are counted per exercise (a test cell), with the
exercise's heading (``Tehtävä 2.1``), learning outcomes and level from the source notebook, and
the pass rate from the gradebook (full points = passed). Messages that differ only in the student's
own numbers ("nyt 10859" / "nyt 10622") are one mistake. No student is named unless the teacher
asks for the per-student table.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from crmkit.engine import cells, status
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.feedback import UNANSWERED
from crmkit.engine.grades import gradebook as gbk
from crmkit.engine.grades import html

_NUMBER = re.compile(r"[-−]?\d+(?:[ .,\u00a0]\d+)*(?:e[-+]?\d+)?")
_HEADING = re.compile(r"\*\*(Tehtävä|Task|Kysymys|Tarkistuspiste)\s+([\w.]+)\*\*")


def normalise(message: str) -> str:
    """The mistake behind a message: the student's own numbers replaced by #, spaces folded."""
    return " ".join(_NUMBER.sub("#", message).split())


@dataclass
class Mistake:
    """One mistake: the message students saw (the most common wording), how many saw it, and who."""

    message: str
    students: list[str]
    variants: int = 1  # how many different wordings (their numbers) were grouped


@dataclass
class Exercise:
    """One autograded exercise (a test cell) and what the class did with it."""

    grade_id: str
    label: str
    outcomes: tuple[str, ...]
    level: str
    graded: int = 0  # students with a score for the cell
    passed: int = 0  # ... with full points
    unanswered: int = 0
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        """Share of graded students with full points (None when nobody was graded)."""
        return self.passed / self.graded if self.graded else None


def exercises_of(source_nb) -> list[Exercise]:
    """The test cells of a source notebook, labelled with the nearest exercise heading above them."""
    out, heading = [], ""
    for cell in source_nb.cells:
        if cell.cell_type == "markdown":
            m = _HEADING.search(cell.source)
            if m:
                heading = f"{m.group(1)} {m.group(2)}"
        elif cells.is_test(cell):
            meta = cells.kit_meta(cell)
            out.append(Exercise(cells.grade_id(cell), heading or cells.grade_id(cell),
                                tuple(meta.get("outcomes") or ()), str(meta.get("level") or "")))
    return out


def collect(course: CourseDir, slug: str, data: gbk.GradebookData) -> list[Exercise]:
    """Every exercise of ``slug`` with its pass rate and ranked mistakes (students of ``data``)."""
    exercises = exercises_of(cells.read(course.source_notebook(slug)))
    entries = status.read(course.status_file(slug))
    seen: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for student in data.students:
        r = data.results.get((student, slug))
        if r is None or not r.cells:
            continue
        scores = {c.name: c for c in r.cells}
        said = {m.get("cell"): m.get("message", "") for m in (entries.get(student, {}).get("messages") or [])}
        for ex in exercises:
            c = scores.get(ex.grade_id)
            if c is None or c.auto_score is None:
                continue
            ex.graded += 1
            if c.score >= c.max_score:
                ex.passed += 1
            elif said.get(ex.grade_id) == UNANSWERED:
                ex.unanswered += 1
            elif said.get(ex.grade_id):
                seen[ex.grade_id][normalise(said[ex.grade_id])].append((student, said[ex.grade_id]))
    for ex in exercises:
        groups = sorted(seen[ex.grade_id].values(), key=lambda g: (-len(g), g[0][1]))
        ex.mistakes = [Mistake(Counter(text for _, text in g).most_common(1)[0][0], sorted(s for s, _ in g),
                               len({text for _, text in g})) for g in groups]
    return exercises


def figure(exercises: list[Exercise], title: str, n: int = 10):
    """The ``n`` exercises with the lowest pass rate, as horizontal bars (percent passed)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    shown = sorted((e for e in exercises if e.pass_rate is not None), key=lambda e: e.pass_rate)[:n]
    fig = Figure(figsize=(7.5, 0.45 * max(3, len(shown)) + 1))
    ax = fig.subplots()
    labels = [f"{e.label} ({', '.join(e.outcomes)} {e.level})" for e in shown][::-1]
    values = [100 * e.pass_rate for e in shown][::-1]
    ax.barh(labels, values, color="#c0392b")
    for y, v in enumerate(values):
        ax.text(v + 1, y, f"{v:.0f} %", va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.xaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("täydet pisteet saaneiden osuus / share with full points")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def render_section(slug: str, exercises: list[Exercise], per_student: bool = False, top: int = 5) -> str:
    """The "Yleisimmät virheet" section of one assignment (HTML)."""
    body = [f'<h2 id="virheet-{html.esc(slug)}">Yleisimmät virheet / most common mistakes: {html.esc(slug)}</h2>']
    if not any(e.graded for e in exercises):
        return "\n".join(body + ["<p>Ei arvioituja palautuksia / no graded submissions.</p>"])
    body.append(html.figure_png(figure(exercises, f"{slug}: tehtävät, joissa harvimmat onnistuivat")))
    rows = []
    for e in exercises:
        if not e.graded:
            continue
        listed = "".join(f"<li>{len(m.students)} × {html.esc(m.message)}"
                         + (f' <span class="muted">({m.variants} muotoa, luvut vaihtelevat)</span>' if m.variants > 1 else "")
                         + (f' <span class="muted">– {html.esc(", ".join(m.students))}</span>' if per_student else "")
                         + "</li>" for m in e.mistakes[:top])
        more = f"<li class='muted'>… {len(e.mistakes) - top} muuta</li>" if len(e.mistakes) > top else ""
        rows.append([e.label, ", ".join(e.outcomes), e.level.replace("-", "–"), f"{100 * e.pass_rate:.0f} %",
                     e.unanswered, f"<ol>{listed}{more}</ol>" if listed else "–"])
    body.append(html.table(["tehtävä", "tavoite", "taso", "onnistui", "ei vastattu", "viestit (opiskelijoita)"],
                           rows, numeric={3, 4}, raw={5}))
    return "\n".join(body)
