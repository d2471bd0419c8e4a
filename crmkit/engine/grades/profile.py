"""Competence profile: which level of each learning outcome (A1–B7) a student has shown.

Every graded cell of a ``solutions/`` notebook names its outcomes and level
(``metadata.crmkit = {"outcomes": ["A4"], "level": "3-4"}``) and carries its points (nbgrader's
``points``); the gradebook holds each student's score per cell (``grade_id``).

**The rule** (stated in every profile page, :data:`RULE_FI` / :data:`RULE_EN`):

* For each outcome and level, the *share* is the points the student earned on the cells tagged
  with that outcome and level, divided by those cells' points. A cell tagged with several
  outcomes counts, in full, for each of them. A cell's score is capped at its points (extra
  credit does not lift a share above 100 %); late penalties do not apply (competence, not
  timeliness).
* Only evidence counts: cells of submissions that are graded (or partly graded). A hand-graded
  cell counts only once it is graded. Missing and failed submissions give no evidence either
  way and are listed in the profile; so are cells still waiting for grading.
* The level shown is the highest level L that was assessed, whose share is ≥ the threshold
  (``[profile] threshold`` in the policy, default 60 %), and every lower level of that outcome is
  either ≥ the threshold or was not assessed. Otherwise the outcome shows "none" (ei näyttöä).
  **No single task can veto**: a lower level below the threshold blocks a higher one only if it
  stays below the threshold with its one worst-scored task left out (so one slip in a small task
  never wipes out an outcome shown at a higher level); when a level is let through this way, the
  profile says so, naming the task, for the teacher to weigh.
* The class view: for each outcome and level, the share of students who reached at least that
  level, among the students whose work assessed that outcome at that level.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import nbformat

from crmkit.engine.cells import LEVELS
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import gradebook as gbk
from crmkit.engine.grades import html, output
from crmkit.engine.grades import policy as pol_mod
from crmkit.engine.grades.final import round_percent

NONE = "none"

LEVEL_LABELS = {NONE: "ei näyttöä", "1-2": "1–2", "3-4": "3–4", "5": "5"}


def rule_fi(threshold) -> str:
    return (f"Taso on osoitettu, kun opiskelija on saanut vähintään {threshold:g} % niiden arvioitujen "
            "tehtävien pisteistä, jotka on merkitty kyseiselle osaamistavoitteelle ja tasolle, ja jokaiselta "
            f"alemmalta tasolta vähintään {threshold:g} % (tai alempaa tasoa ei ole arvioitu). Yksittäinen tehtävä "
            "ei kumoa näyttöä: alempi taso estää ylemmän vain, jos se jää rajan alle vielä silloinkin, kun sen "
            "heikoimmin mennyt tehtävä jätetään pois; profiili kertoo, milloin näin kävi. Profiili näyttää "
            "korkeimman tällaisen tason; muuten ”ei näyttöä”. Käsin arvioitavat vastaukset lasketaan vasta, "
            "kun ne on arvioitu. Palauttamatta jääneet ja arvioinnissa epäonnistuneet tehtävät eivät ole "
            "näyttöä suuntaan eikä toiseen; ne luetellaan erikseen. Tehtävä, joka on merkitty usealle "
            "tavoitteelle, lasketaan jokaiselle niistä.")


def rule_en(threshold) -> str:
    return (f"A level is shown when the student earned at least {threshold:g} % of the points of the graded "
            f"cells tagged with that outcome and level, and at least {threshold:g} % at every lower level that "
            "was assessed – a lower level blocks only if it stays below the threshold with its worst task left out "
            "(no single task vetoes; the profile says when this applied); the profile shows the highest such "
            "level, else “none”. Hand-graded answers count once "
            "graded; missing and failed submissions are no evidence either way and are listed separately.")


RULE_FI = rule_fi(60)
RULE_EN = rule_en(60)


@dataclass(frozen=True)
class CellTag:
    assignment: str
    notebook: str
    grade_id: str
    outcomes: tuple[str, ...]
    level: str
    points: Decimal
    manual: bool = False  # a hand-graded (markdown) answer rather than an autograded test cell


def read_tags(course: CourseDir, assignments: list[str] | None = None, outcomes=None
              ) -> tuple[dict[tuple[str, str, str], CellTag], list[str]]:
    """(assignment, notebook, grade_id) -> tag for every graded cell of the source notebooks.

    Returns the tags and the problems found (a graded cell without valid outcomes or level — an
    outcome id not among ``outcomes``, when given —, a notebook that cannot be read): those cells
    are reported and left out, never guessed.
    """
    source = course.step_dir("source")
    if assignments is None:
        assignments = course.assignments()
    outcomes_known = set(outcomes or ())
    tags, problems = {}, []
    for a in assignments:
        for path in sorted((source / a).glob("*.ipynb")):
            try:
                nb = nbformat.read(str(path), as_version=4)
            except Exception as e:
                problems.append(f"{path}: cannot read the notebook ({e}); its cells have no outcome tags")
                continue
            for i, cell in enumerate(nb.cells, start=1):
                meta = cell.get("metadata", {}).get("nbgrader") or {}
                if not meta.get("grade"):
                    continue
                gid = meta.get("grade_id")
                crm = cell.get("metadata", {}).get("crmkit") or {}
                cell_outcomes = crm.get("outcomes") or []
                level = crm.get("level")
                bad = [o for o in cell_outcomes if not isinstance(o, str) or (outcomes_known and o not in outcomes_known)]
                if not gid or not cell_outcomes or bad or level not in LEVELS:
                    problems.append(f"{path}: cell {i} ({gid}): no valid crmkit outcomes/level "
                                    f"({cell_outcomes!r}, {level!r}); left out of the profile")
                    continue
                tags[(a, path.stem, gid)] = CellTag(a, path.stem, gid, tuple(cell_outcomes), level,
                                                    Decimal(str(meta.get("points", 0))),
                                                    cell.cell_type == "markdown")
    return tags, problems


@dataclass
class Share:
    """Points earned and possible on the cells of one outcome and level, and the cells themselves."""

    earned: Decimal = Decimal(0)
    possible: Decimal = Decimal(0)
    items: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)  # (cell, earned, possible)

    def add(self, cell: str, earned: Decimal, possible: Decimal) -> None:
        """Count one graded cell."""
        self.earned += earned
        self.possible += possible
        self.items.append((cell, earned, possible))

    def without_worst(self) -> tuple[Decimal | None, str]:
        """(the share with the one most-lost cell left out, that cell); (None, cell) if nothing is left."""
        if not self.items:
            return None, ""
        cell, earned, possible = max(self.items, key=lambda i: i[2] - i[1])
        rest = self.possible - possible
        return (None if not rest else (self.earned - earned) / rest * 100), cell

    @property
    def percent(self) -> Decimal | None:
        return None if not self.possible else self.earned / self.possible * 100


@dataclass
class OutcomeResult:
    outcome: str
    shares: dict[str, Share]  # level -> share (levels never assessed are absent)
    shown: str = NONE
    name: str = ""  # the outcome in words (the policy's [profile.outcomes])
    notes: list[str] = field(default_factory=list)  # why a level was let through (for the teacher)

    def assessed(self) -> bool:
        return any(s.possible for s in self.shares.values())


@dataclass
class Profile:
    student: str
    threshold: Decimal
    outcomes: list[OutcomeResult]
    evidence: list[str] = field(default_factory=list)  # assignments that gave evidence
    pending: list[str] = field(default_factory=list)  # "assignment: cell" waiting for grading
    not_counted: list[str] = field(default_factory=list)  # "assignment: missing / failed: reason"
    untagged: list[str] = field(default_factory=list)  # graded cells with no tag in solutions/

    def level(self, outcome: str) -> str:
        return next(o.shown for o in self.outcomes if o.outcome == outcome)


def level_shown(shares: dict[str, Share], threshold: Decimal, notes: list[str] | None = None) -> str:
    """The rule: the highest assessed level ≥ threshold with every lower assessed level ≥ threshold,
    where a lower level that falls short only by its one worst task does not block (said in ``notes``)."""
    shown, held = NONE, []
    for level in LEVELS:
        s = shares.get(level)
        if s is None or not s.possible:
            continue  # not assessed: neither shown nor blocking
        if s.percent >= threshold:
            shown = level
            for lower, cell in held:
                if notes is not None:
                    notes.append(f"taso {LEVEL_LABELS[lower]} jäi alle {threshold:g} %:n vain tehtävän {cell} takia; "
                                 f"se ei estä tasoa {LEVEL_LABELS[level]} (yksittäinen tehtävä ei kumoa näyttöä)")
            held = []
            continue
        rest, cell = s.without_worst()
        if rest is None or rest >= threshold:
            held.append((level, cell))  # below only because of one task: let a higher level through
            continue
        break
    return shown


def outcome_names(tags, outcomes: dict[str, str] | None = None) -> dict[str, str]:
    """The outcomes a profile lists, in order, with their names: the policy's ``[profile.outcomes]``
    when it has them, else every outcome the tags name (sorted, the id as its name)."""
    if outcomes:
        return dict(outcomes)
    return {o: o for o in sorted({o for tag in tags.values() for o in tag.outcomes})}


def student_profile(student: str, data: gbk.GradebookData, tags, threshold: Decimal = Decimal(60),
                    outcomes: dict[str, str] | None = None) -> Profile:
    """One student's shares and level shown per outcome (the rule in the module docstring)."""
    shares: dict[str, dict[str, Share]] = defaultdict(dict)
    prof = Profile(student=student, threshold=threshold, outcomes=[])
    for a in data.assignments:
        r = data.result(student, a)
        if r.status == gbk.MISSING:
            prof.not_counted.append(f"{a}: missing")
            continue
        if r.status == gbk.FAILED:
            prof.not_counted.append(f"{a}: failed ({r.reason})")
            continue
        if r.status == gbk.NOT_AUTOGRADED:
            prof.not_counted.append(f"{a}: {r.reason}")
            continue
        used = False
        for c in r.cells:
            if c.needs_manual_grade:
                prof.pending.append(f"{a}: {c.pending_note()}")
                continue
            tag = tags.get((a, c.notebook, c.name))
            if tag is None:
                prof.untagged.append(f"{a}/{c.notebook}: {c.name}")
                continue
            used = True
            earned = min(max(c.score, Decimal(0)), c.max_score)
            for o in tag.outcomes:
                shares[o].setdefault(tag.level, Share()).add(f"{a}: {c.name}", earned, c.max_score)
        if used:
            prof.evidence.append(a)
    for o, name in outcome_names(tags, outcomes).items():
        res = OutcomeResult(o, dict(shares.get(o, {})), name=name)
        res.shown = level_shown(res.shares, threshold, res.notes)
        prof.outcomes.append(res)
    return prof


def class_matrix(profiles: list[Profile]) -> dict[str, dict[str, tuple[int, int]]]:
    """outcome -> level -> (students who reached at least that level, students assessed at that level)."""
    out = {}
    for o in [r.outcome for r in profiles[0].outcomes] if profiles else []:
        results = [next(r for r in p.outcomes if r.outcome == o) for p in profiles]
        out[o] = {}
        for i, level in enumerate(LEVELS):
            assessed = [r for r in results if r.shares.get(level) is not None and r.shares[level].possible]
            reached = sum(1 for r in assessed if r.shown != NONE and LEVELS.index(r.shown) >= i)
            out[o][level] = (reached, len(assessed))
    return out


# ---------------------------------------------------------------------------------------------
# output


def _pct(share: Share | None) -> str:
    if share is None or not share.possible:
        return ""

    return f"{round_percent(share.percent, 2):f}"


def _points(d: Decimal) -> str:
    """7.0 -> "7", 2.50 -> "2.5"."""
    return f"{d.normalize():f}"


def csv_rows(prof: Profile) -> tuple[list[str], list[list[str]]]:
    header = ["student_id", "outcome", "name", "level_shown"]
    for level in LEVELS:
        header += [f"share_{level}", f"earned_{level}", f"possible_{level}"]
    rows = []
    for r in prof.outcomes:
        row = [prof.student, r.outcome, r.name, r.shown]
        for level in LEVELS:
            s = r.shares.get(level)
            row += [_pct(s), "" if s is None else _points(s.earned), "" if s is None else _points(s.possible)]
        rows.append(row)
    return header, rows


def profile_figure(prof: Profile):
    """Left: the level shown per outcome; right: the share per outcome × level (blank = not assessed)."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.8))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    ids = [r.outcome for r in prof.outcomes]
    ys = np.arange(len(ids))[::-1]
    values = [0 if r.shown == NONE else LEVELS.index(r.shown) + 1 for r in prof.outcomes]
    colors = ["#d9d9d9", "#f4c542", "#7fb069", "#2e7d32"]
    ax1.barh(ys, [max(v, 0.08) for v in values], color=[colors[v] for v in values], edgecolor="#555")
    ax1.set_yticks(ys, ids)
    ax1.set_xticks(range(4), ["ei näyttöä", "1–2", "3–4", "5"])
    ax1.set_xlim(0, 3.3)
    ax1.set_title("Osoitettu taso / level shown")
    ax1.grid(axis="x", alpha=0.3)
    grid = np.full((len(ids), len(LEVELS)), np.nan)
    for i, r in enumerate(prof.outcomes):
        for j, level in enumerate(LEVELS):
            s = r.shares.get(level)
            if s is not None and s.possible:
                grid[i, j] = float(s.percent)
    im = ax2.imshow(grid, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    ax2.set_xticks(range(len(LEVELS)), ["1–2", "3–4", "5"])
    ax2.set_yticks(range(len(ids)), ids)
    for i in range(len(ids)):
        for j in range(len(LEVELS)):
            if not np.isnan(grid[i, j]):
                ax2.text(j, i, f"{grid[i, j]:.0f} %", ha="center", va="center", fontsize=8)
    ax2.set_facecolor("#eeeeee")  # grey: not assessed
    ax2.set_title(f"Pisteosuus / share of points (raja {prof.threshold:g} %; harmaa = ei arvioitu)", fontsize=10)
    fig.colorbar(im, ax=ax2, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def render_html(prof: Profile, course: str = "") -> str:
    """The profile page: the rule, the plot, a table per outcome and level, what was not counted."""

    rows = []
    for r in prof.outcomes:
        row = [r.outcome, r.name, LEVEL_LABELS[r.shown]]
        for level in LEVELS:
            s = r.shares.get(level)
            row.append("–" if s is None or not s.possible else f"{_pct(s)} % ({_points(s.earned)} / {_points(s.possible)} p)")
        rows.append(row)
    table = html.table(["Tavoite", "Osaamistavoite", "Osoitettu taso", "Taso 1–2", "Taso 3–4", "Taso 5"], rows)

    detail = [[r.outcome, LEVEL_LABELS.get(level, level), cell, f"{_points(earned)} / {_points(possible)} p"]
              for r in prof.outcomes for level in LEVELS if level in r.shares
              for cell, earned, possible in r.shares[level].items]
    per_task = (html.table(["Tavoite", "Taso", "Tehtävä (solu)", "Pisteet"], detail) if detail else "")

    def listing(title, items):
        if not items:
            return ""
        return f"<h2>{html.esc(title)}</h2><ul>" + "".join(f"<li>{html.esc(i)}</li>" for i in items) + "</ul>"

    body = [
        f"<h1>Osaamisprofiili – {html.esc(prof.student)}</h1>",
        f'<p class="muted">{html.esc(course)} · competence profile per learning outcome</p>',
        f'<div class="rule"><p><strong>Sääntö.</strong> {html.esc(rule_fi(prof.threshold))}</p>'
        f'<p lang="en"><em>Rule.</em> {html.esc(rule_en(prof.threshold))}</p></div>',
        html.figure_png(profile_figure(prof)),
        table,
        listing("Näyttönä käytetyt tehtävät / evidence", prof.evidence or ["ei yhtään arvioitua tehtävää"]),
        "<h2>Näyttö tehtävittäin / evidence per task</h2>" + per_task if per_task else "",
        listing("Opettajalle: yksittäinen tehtävä ei kumonnut näyttöä / a single task did not veto",
                [f"{r.outcome}: {n}" for r in prof.outcomes for n in r.notes]),
        listing("Odottaa arviointia (ei vielä mukana) / awaiting grading", prof.pending),
        listing("Ei mukana: palauttamatta tai arviointi epäonnistui / not counted", prof.not_counted),
        listing("Arvioidut solut ilman osaamistavoitetta (ei mukana) / graded cells without tags", prof.untagged),
    ]
    return html.page(f"Osaamisprofiili {prof.student}", "\n".join(b for b in body if b))


# ---------------------------------------------------------------------------------------------
# the whole step, as `crmkit profile` and the demo run it


@dataclass
class Written:
    """The profiles :func:`write_profiles` wrote, what output.write said, and the tag problems."""

    profiles: list[Profile]
    messages: list[str]
    problems: list[str]
    tagged: bool  # any graded cell carries outcome tags


def write_profiles(course: CourseDir, students: list[str] | None = None, *, policy_path=None,
                   out_dir=None) -> Written:
    """Profiles (HTML + CSV) of ``students``, or of everyone the policy does not ignore, into
    ``grading/reports/profiles/``. Named students are profiled even if the policy's
    ``ignore_students`` would leave them out; an unknown one is an error."""

    pol = pol_mod.load(course, policy_path, check_assignments=False)
    assignments = pol.profile_assignments()
    data = gbk.read(course, assignments, ignore=(lambda s: False) if students else pol.ignored)
    tags, problems = read_tags(course, [a for a in assignments if a in pol.available], pol.profile_outcomes)
    unknown = [s for s in students or [] if s not in data.students]
    if unknown:
        raise gbk.GradebookError(f"unknown student(s): {', '.join(unknown)}; the gradebook has: "
                                 f"{', '.join(data.students) or 'none'}")
    out_dir = Path(out_dir) if out_dir else course.workspace / "reports" / "profiles"
    title = " – ".join(x for x in (pol.course, pol.title) if x)
    written = Written([], [], problems, bool(tags))
    for s in students or data.students:
        p = student_profile(s, data, tags, pol.profile_threshold, pol.profile_outcomes)
        header, rows = csv_rows(p)
        written.messages.append(output.write(out_dir / f"{s}.html", render_html(p, title)))
        written.messages.append(output.write(out_dir / f"{s}.csv", output.csv_text(header, rows)))
        written.profiles.append(p)
    return written
