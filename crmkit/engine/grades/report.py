"""The class report: one self-contained HTML page (``grading/reports/class.html``).

Sections: the grade distribution; scores per category and per assignment (plots and tables with
how many submissions are graded, waiting, failed, missing); the outcome heatmap (the share of
students who reached each level of each outcome, see :mod:`crmkit.engine.grades.profile`); every failed,
missing, not-autograded or waiting submission with its reason; every student's row. Grades
are computed as ``crmkit grades --allow-pending`` would (provisional ones are marked), so the
report works during the course too. A policy that cannot be used yet (e.g. it names an assignment
not yet written) does not stop the report: the grade sections say why they are empty.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from crmkit.engine import cells
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.feedback import leaks
from crmkit.engine.grades import attendance as att
from crmkit.engine.grades import final, html, output
from crmkit.engine.grades import gradebook as gbk
from crmkit.engine.grades import mistakes as mistakes_mod
from crmkit.engine.grades import policy as pol_mod
from crmkit.engine.grades import profile as prof
from crmkit.engine.grades.final import round_percent
from crmkit.runtime.errors import KitError


@dataclass
class ReportData:
    policy: pol_mod.Policy
    data: gbk.GradebookData
    grades: list[final.StudentGrade] | None  # None when the policy cannot grade yet
    profiles: list[prof.Profile]
    warnings: list[str] = field(default_factory=list)
    mistakes: dict[str, list[mistakes_mod.Exercise]] = field(default_factory=dict)  # assignment -> exercises


def collect(course: CourseDir, policy_path=None, attendance_path=None) -> ReportData:
    """Everything the class report shows: grades (if the policy can grade yet), profiles, warnings."""

    warnings = []
    try:
        pol = pol_mod.load(course, policy_path)
        strict = True
    except pol_mod.PolicyError as e:
        pol = pol_mod.load(course, policy_path, check_assignments=False)  # re-raises on other problems
        warnings.append(f"Final grades are not computed: {e}")
        strict = False
    profiled = pol.profile_assignments()
    order = [a for a in pol.available if a in set(pol.assignments) | set(profiled)]
    attendance = None
    if strict and any(r.type == "absence" for r in pol.rules):
        try:
            attendance = att.read(attendance_path or pol.attendance_file)
        except att.AttendanceError as e:
            warnings.append(f"{e}; absence rules cannot be applied, so no grade is given")
    extra = sorted(set(attendance.absence) | set(attendance.problems)) if attendance else []
    data = gbk.read(course, order, ignore=pol.ignored, extra_students=extra)
    grades = final.compute(pol, data, attendance, allow_pending=True) if strict else None
    tags, problems = prof.read_tags(course, [a for a in profiled if a in pol.available], pol.profile_outcomes)
    warnings += problems
    profiles = [prof.student_profile(s, _subset(data, profiled), tags, pol.profile_threshold, pol.profile_outcomes)
                for s in data.students]
    found = {a: mistakes_mod.collect(course, a, data) for a in data.assignments if course.source_notebook(a).exists()}
    return ReportData(pol, data, grades, profiles, warnings, found)


def _subset(data: gbk.GradebookData, assignments: list[str]) -> gbk.GradebookData:
    keep = [a for a in data.assignments if a in assignments]
    return gbk.GradebookData(students=data.students, assignments=keep,
                             max_scores={a: data.max_scores[a] for a in keep},
                             results={k: v for k, v in data.results.items() if k[1] in keep})


def _f(value: Decimal | float | None, d: int = 2) -> str:
    if value is None:
        return ""
    return f"{round_percent(Decimal(str(value)), d):f}"


# ---------------------------------------------------------------------------------------------
# plots


def grade_figure(rd: ReportData):
    from matplotlib.figure import Figure

    counts = Counter(g.grade or "–" for g in rd.grades)
    labels = rd.policy.grades + (["–"] if counts["–"] else [])
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    colors = ["#c0392b"] + ["#7fb069"] * (len(rd.policy.grades) - 1) + ["#bbbbbb"]
    bars = ax.bar(labels, [counts[x] for x in labels], color=colors[:len(labels)], edgecolor="#444")
    ax.bar_label(bars)
    ax.set_xlabel("arvosana / grade (– = ei annettu / not given)")
    ax.set_ylabel("opiskelijoita / students")
    ax.set_title("Arvosanajakauma / grade distribution")
    ax.margins(y=0.15)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def box_figure(title: str, series: dict[str, list[float]]):
    from matplotlib.figure import Figure

    names = list(series)
    fig = Figure(figsize=(max(5, 0.9 * len(names) + 2), 3.6))
    ax = fig.subplots()
    data = [series[n] or [float("nan")] for n in names]
    ax.boxplot(data, showmeans=True)
    for i, values in enumerate(data, start=1):
        ax.scatter([i] * len(values), values, s=10, alpha=0.5, color="#2e6da4", zorder=3)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right")
    ax.set_ylim(-5, 105)
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def outcome_figure(matrix):
    import numpy as np
    from matplotlib.figure import Figure

    ids = list(matrix)
    grid = np.full((len(ids), len(prof.LEVELS)), np.nan)
    for i, o in enumerate(ids):
        for j, level in enumerate(prof.LEVELS):
            reached, n = matrix[o][level]
            if n:
                grid[i, j] = 100 * reached / n
    fig = Figure(figsize=(6, 5.2))
    ax = fig.subplots()
    ax.set_facecolor("#eeeeee")
    im = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(prof.LEVELS)), ["≥ 1–2", "≥ 3–4", "5"])
    ax.set_yticks(range(len(ids)), ids)
    for i, o in enumerate(ids):
        for j, level in enumerate(prof.LEVELS):
            reached, n = matrix[o][level]
            if n:
                ax.text(j, i, f"{reached}/{n}", ha="center", va="center", fontsize=8)
    ax.set_title("Tason saavuttaneiden osuus / share reaching the level\n(harmaa = ei arvioitu / not assessed)",
                 fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="%")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# the page


def render(rd: ReportData) -> str:
    pol, data = rd.policy, rd.data
    title = " – ".join(x for x in (pol.course, pol.title) if x) or "Kurssi"
    body = [f"<h1>Luokkaraportti / class report: {html.esc(title)}</h1>",
            f'<p class="muted">{len(data.students)} opiskelijaa / students · policy {html.esc(pol.path.name)} · '
            f"assignments: {html.esc(', '.join(data.assignments) or 'none')}</p>"]
    for w in rd.warnings:
        body.append(f'<div class="warn">{html.esc(w)}</div>')

    statuses = Counter(r.status for r in data.results.values())
    body.append("<p>" + " · ".join(f"{html.esc(s)}: {statuses[s]}" for s in gbk.STATUSES) + "</p>")

    # grades
    body.append("<h2>Arvosanat / grades</h2>")
    if rd.grades is None:
        body.append("<p>Not computed (see the warning above).</p>")
    elif not rd.grades:
        body.append("<p>No students in the gradebook yet.</p>")
    else:
        provisional = sum(g.provisional for g in rd.grades)
        if provisional:
            body.append(f'<div class="warn">{provisional} grade(s) are PROVISIONAL: work still waits for '
                        "grading (`crmkit grades` refuses final grades until it is done).</div>")
        body.append(html.figure_png(grade_figure(rd)))
        cats = {c.name: [float(g.categories[c.name]) for g in rd.grades if g.categories.get(c.name) is not None]
                for c in pol.categories}
        body.append("<h2>Osa-alueet / categories</h2>")
        body.append(html.figure_png(box_figure("Osa-alueiden prosentit / category %", cats)))
        rows = []
        for c in pol.categories:
            v = cats[c.name]
            rows.append([c.title, f"{c.weight:f}", _f(c.minimum) if c.minimum is not None else "", len(v),
                         _f(statistics.fmean(v)) if v else "", _f(statistics.median(v)) if v else "",
                         _f(min(v)) if v else "", _f(max(v)) if v else ""])
        body.append(html.table(["category", "weight", "minimum %", "n", "mean %", "median %", "min %", "max %"],
                               rows, numeric={1, 2, 3, 4, 5, 6, 7}))

    # assignments
    body.append("<h2>Tehtävät / assignments</h2>")
    series, rows = {}, []
    for a in data.assignments:
        rs = [data.result(s, a) for s in data.students]
        graded = [float(r.percent) for r in rs if r.status == gbk.GRADED and r.percent is not None]
        series[a] = graded
        c = Counter(r.status for r in rs)
        cat = pol.category_of(a)
        rows.append([a, cat.name if cat else "(not counted)", c[gbk.GRADED], c[gbk.PENDING], c[gbk.NOT_AUTOGRADED],
                     c[gbk.FAILED], c[gbk.MISSING], _f(statistics.fmean(graded)) if graded else "",
                     _f(statistics.median(graded)) if graded else ""])
    if series:
        body.append(html.figure_png(box_figure("Arvioitujen palautusten prosentit / graded submissions %", series)))
    body.append(html.table(["assignment", "category", "graded", "awaiting manual grading", "not autograded",
                            "failed", "missing", "mean % (graded)", "median % (graded)"],
                           rows, numeric={2, 3, 4, 5, 6, 7, 8}))

    # what the class got wrong
    for a, exercises in rd.mistakes.items():
        body.append(mistakes_mod.render_section(a, exercises))

    # outcomes
    body.append("<h2>Osaamistavoitteet / learning outcomes</h2>")
    matrix = prof.class_matrix(rd.profiles)
    body.append(html.figure_png(outcome_figure(matrix)))
    body.append(f'<div class="rule"><p>{html.esc(prof.rule_fi(pol.profile_threshold))}</p>'
                f'<p lang="en"><em>{html.esc(prof.rule_en(pol.profile_threshold))}</em> The heatmap shows, per '
                "outcome and level, the share of students who reached at least that level among the students "
                "whose work assessed that outcome at that level (k/n).</p></div>")

    # failed and missing
    body.append("<h2>Epäonnistuneet, puuttuvat ja odottavat / failed, missing and waiting</h2>")
    rows = []
    for status in (gbk.FAILED, gbk.NOT_AUTOGRADED, gbk.PENDING, gbk.MISSING):
        for r in sorted(data.by_status(status), key=lambda r: (r.assignment, r.student)):
            reason = r.describe().split(": ", 1)[1] if ": " in r.describe() else ""
            rows.append([r.student, r.assignment, status, reason])
    body.append(html.table(["student", "assignment", "status", "reason / cells"], rows) if rows
                else "<p>None.</p>")

    # students
    if rd.grades:
        body.append("<h2>Opiskelijat / students</h2>")
        header = ["student"] + [c.name + " %" for c in pol.categories] + ["weighted %", "grade", "notes"]
        rows = [[g.student] + [_f(g.categories[c.name]) for c in pol.categories]
                + [_f(g.weighted), (g.grade or "–") + (" (provisional)" if g.provisional else ""), "; ".join(g.notes)]
                for g in rd.grades]
        body.append(html.table(header, rows, numeric=set(range(1, len(pol.categories) + 2))))
        body.append(f'<p class="muted">{html.esc(ROUNDING_NOTE)}</p>')
    return html.page(f"Luokkaraportti {title}", "\n".join(body))


ROUNDING_NOTE = ("Percentages are computed exactly and rounded half up to two decimals only when shown and compared: "
                 "the grade is the highest grade whose threshold the rounded weighted % reaches (49.99 → H, 50.00 → 1).")


def assignment_page(course: CourseDir, slug: str, policy_path=None, per_student: bool = False) -> str:
    """One week's page to show in class: the assignment's most common mistakes (no student named
    unless ``per_student``)."""
    has_policy = policy_path is not None or pol_mod.resolve(course, None).exists()
    ignore = pol_mod.load(course, policy_path, check_assignments=False).ignored if has_policy else (lambda s: False)
    data = gbk.read(course, [slug], ignore=ignore)
    section = mistakes_mod.render_section(slug, mistakes_mod.collect(course, slug, data), per_student=per_student)
    return html.page(f"{slug}: yleisimmät virheet", f"<h1>{html.esc(slug)}: mitä luokka teki väärin</h1>\n"
                     f'<p class="muted">{len(data.students)} opiskelijaa / students</p>\n{section}')


class ReportLeak(KitError):
    """A report page would show a hidden test's text; nothing is written."""


def check_secret(course: CourseDir, page: str, slugs: list[str]) -> None:
    """Raise :class:`ReportLeak` if ``page`` shows a line of any of ``slugs``' hidden tests."""
    for slug in slugs:
        source = cells.read(course.source_notebook(slug))
        found = leaks(page, cells.hidden_lines(source), cells.public_lines(source))
        if found:
            raise ReportLeak(f"the report would show hidden-test lines of {slug}: {found[:3]}; nothing was written")


def write(course: CourseDir, *, policy_path=None, attendance_path=None, out=None, assignment: str | None = None,
          per_student: bool = False) -> tuple[str, list[str]]:
    """Collect and write the class report (default ``grading/reports/class.html``), or with
    ``assignment`` one week's mistakes page (``grading/reports/<slug>-virheet.html``); returns (what
    output.write said, the warnings). A page that would show a hidden test is not written."""
    if assignment is not None:
        if assignment not in course.assignments():
            raise KitError(f"unknown assignment {assignment!r}; solutions/ has: {', '.join(course.assignments())}")
        page = assignment_page(course, assignment, policy_path, per_student)
        check_secret(course, page, [assignment])
        path = Path(out) if out else course.workspace / "reports" / f"{assignment}-virheet.html"
        return output.write(path, page), []
    rd = collect(course, policy_path, attendance_path)
    page = render(rd)
    check_secret(course, page, list(rd.mistakes))
    path = Path(out) if out else course.workspace / "reports" / "class.html"
    return output.write(path, page), rd.warnings
