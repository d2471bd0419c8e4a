"""The course notebooks' quality gates (DESIGN.md §7), as functions that return lists of problems.

Each check returns a list of human-readable problems (empty = the gate passes), so the same
functions serve ``tests/course/test_gates.py`` and a future ``crmkit check`` command.

Gates on files (fast, no kernel):

3. :func:`release_current_problems` – ``notebooks/`` equals a fresh ``nbgrader generate_assignment``
4. :func:`leak_problems` – no solution line, hidden test or delimiter anywhere in ``notebooks/``
5. :func:`output_problems` – committed without outputs and execution counts
6. :func:`metadata_problems` – grade ids, outcomes and levels, points add up to the stated total,
   test cells end in a statement
9. :func:`data_reference_problems` – every table and ``table.column`` named exists in the schema
11. :func:`readability_problems` – no scientific notation or raw object repr in what a student sees
12. :func:`answer_in_visible_test_problems` – no visible test repeats its solution's filter
13. :func:`pilot_problems` – the student pilots' own solutions (``tests/pilots/``) keep every point

Gates that run notebooks (real nbgrader in a temporary copy of the course, see :func:`grade_copy`):

1. :func:`solution_grade_problems` – the solution runs top to bottom and autogrades to full points
2. :func:`release_grade_problems` – the unchanged release autogrades to 0 on every test cell
7. :func:`blank_run_problems` – the blank release runs with no error but the stubs' and the tests'
8. :func:`wrong_answer_problems` – every named wrong answer fails a following test, with a message
   containing its ``expect`` (a visible test's; a hidden test's where the wrong answer is marked
   ``"hidden": true``); :func:`wrong_count_problems` – enough of them per lesson

Gate 7 reads the blank release's run from its autograded copy (nbgrader executes every cell with
errors allowed, as a student's kernel would), so a notebook runs three times in all: solution,
blank release, and the wrong answers' session. That run happens in
``grading/autograded/<student>/<slug>/``, not in ``notebooks/<slug>/``: notebooks must find their
data through :mod:`crmkit.runtime.data` (absolute paths), never by a path relative to the notebook.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.course import authoring
from crmkit.engine import cells, nbg
from crmkit.engine.cells import (
    DELIMITERS,
    errors,
    failure_text,
    grade_meta,
    is_answer,
    is_graded,
    is_test,
    label,
    read,
    regions,
    replace_solution,
    secret_lines,
    strip_hidden,
)
from crmkit.engine.coursedir import CourseDir
from crmkit.runtime.schema import TABLE_BY_NAME

#: lessons need at least 3 named wrong answers (DESIGN §4); these slugs need fewer
MIN_WRONG = {"projekti": 0, "tentti": 0, "naytto": 0}
DEFAULT_MIN_WRONG = 3

SOLUTION_STUDENT = "gate_solution"
BLANK_STUDENT = "gate_blank"

# ---------------------------------------------------------------------------------------------
# gate 5: no outputs


def output_problems(path: str | Path) -> list[str]:
    """Gate 5: the notebook file has no outputs and no execution counts."""
    nb = read(path)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{path}: {label(nb, i)} has outputs; clear them before committing")
        if cell.get("execution_count") is not None:
            problems.append(f"{path}: {label(nb, i)} has an execution count; clear outputs before committing")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 6: metadata, ids, points


def stated_total(nb) -> float | None:
    """The total points stated in the header markdown (``Pisteet yhteensä: N``), or None."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = authoring.TOTAL_RE.search(cell.source)
            if m:
                return float(m.group(1).replace(",", "."))
    return None


def _ends_in_expression(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return False
    value = tree.body[-1].value
    return not (isinstance(value, ast.Call) or (isinstance(value, ast.Constant) and isinstance(value.value, str)))


def metadata_problems(nb, name: str = "notebook") -> list[str]:
    """Gate 6: unique grade ids, valid outcomes and levels, points add up to the stated total.

    Also: every locked cell has an id, every test cell ends in a statement (nbgrader reads a
    number produced by the last line as partial credit), wrong answers are well formed.
    """
    problems, seen, total = [], {}, 0.0
    for i, cell in enumerate(nb.cells):
        m = grade_meta(cell)
        if not m:
            continue
        where = f"{name}: {label(nb, i)}"
        gid = m.get("grade_id")
        if not gid:
            problems.append(f"{where}: nbgrader cell without grade_id")
        elif gid in seen:
            problems.append(f"{where}: grade_id {gid!r} is also used by cell {seen[gid] + 1}")
        else:
            seen[gid] = i
        if m.get("grade"):
            points = m.get("points")
            if not isinstance(points, (int, float)) or points <= 0:
                problems.append(f"{where}: graded cell without positive points")
            else:
                total += points
        if is_graded(cell):
            meta = cell.metadata.get("crmkit") or {}
            outcomes = meta.get("outcomes")
            if not outcomes or not isinstance(outcomes, list):
                problems.append(f"{where}: no crmkit.outcomes")
            else:
                bad = [o for o in outcomes if o not in authoring.OUTCOMES]
                if bad:
                    problems.append(f"{where}: unknown outcome id(s) {bad}; valid: {', '.join(authoring.OUTCOMES)}")
            if meta.get("level") not in authoring.LEVELS:
                problems.append(f"{where}: crmkit.level {meta.get('level')!r} is not one of {authoring.LEVELS}")
            for w in meta.get("wrong", []) or []:
                if not is_answer(cell):
                    problems.append(f"{where}: wrong answers belong on an autograded answer cell")
                if not all(isinstance(w.get(k), str) and w.get(k) for k in ("name", "source", "expect")):
                    problems.append(f"{where}: wrong answer {w.get('name')!r} needs name, source and expect")
                if not isinstance(w.get("hidden", False), bool):
                    problems.append(f"{where}: wrong answer {w.get('name')!r}: hidden is true or false")
        if is_test(cell):
            for version, src in (("", cell.source), (" (as released, hidden tests removed)", strip_hidden(cell.source))):
                if _ends_in_expression(src):
                    problems.append(f"{where}: the test cell{version} ends in an expression; nbgrader would "
                                    "read its value as partial credit. End with a statement (assert …).")
                    break
        if is_answer(cell) and "BEGIN SOLUTION" not in cell.source:
            problems.append(f"{where}: answer cell without a ### BEGIN SOLUTION region")
    stated = stated_total(nb)
    if stated is None:
        problems.append(f"{name}: the header does not state the total points as '{authoring.TOTAL_PHRASE} N'")
    elif abs(stated - total) > 1e-9:
        problems.append(f"{name}: the header states {authoring.TOTAL_PHRASE} {stated:g}, "
                        f"but the graded cells' points sum to {total:g}")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 9: tables and columns named exist


_MD_TABLE_COLUMN = re.compile(r"`([A-Za-z_]\w*)\.([A-Za-z_]\w*)`")
_READ_TABLE = re.compile(r"read_table\(\s*[\"']([^\"']+)[\"']")
_LOAD_WORLD = re.compile(r"load_world\(([^)]*)\)")
_STRING = re.compile(r"[\"']([^\"']+)[\"']")


def data_reference_problems(nb, name: str = "notebook") -> list[str]:
    """Gate 9: tables and columns named in the notebook exist in the data world's schema.

    Markdown names columns as backticked ``table.column`` and tables as backticked names; code
    reads tables with ``read_table("name")`` or ``load_world(tables=[...])``.
    """

    all_columns = {c.name for t in TABLE_BY_NAME.values() for c in t.columns}
    problems = []
    for i, cell in enumerate(nb.cells):
        where = f"{name}: {label(nb, i)}"
        if cell.cell_type == "markdown":
            for tbl, col in _MD_TABLE_COLUMN.findall(cell.source):
                if tbl in TABLE_BY_NAME:
                    if col not in TABLE_BY_NAME[tbl].column_names:
                        problems.append(f"{where}: `{tbl}.{col}`: table {tbl} has no column {col}")
                elif col in all_columns:
                    owners = sorted(t.name for t in TABLE_BY_NAME.values() if col in t.column_names)
                    problems.append(f"{where}: `{tbl}.{col}`: no table {tbl!r} in the data world "
                                    f"(column {col} is in {', '.join(owners)})")
        elif cell.cell_type == "code":
            names = _READ_TABLE.findall(cell.source)
            for args in _LOAD_WORLD.findall(cell.source):
                names += _STRING.findall(args)
            for tbl in names:
                if tbl not in TABLE_BY_NAME and "/" not in tbl and "\\" not in tbl:
                    problems.append(f"{where}: reads table {tbl!r}, which is not in the data world")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 4: no solutions or hidden tests in notebooks/


#: across notebooks, a leak is a run of this many consecutive secret lines, or one line this long
CROSS_RUN, CROSS_LONG_LINE = 3, 60


def secret_runs(nb, run: int = CROSS_RUN) -> dict[tuple[str, ...], str]:
    """Every ``run`` consecutive non-trivial lines of a solution region or hidden test -> where from."""
    secrets = secret_lines(nb)
    out = {}
    for i, cell in enumerate(nb.cells):
        for begin, end, kind in (("BEGIN SOLUTION", "END SOLUTION", "solution"),
                                 ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "hidden test")):
            for region in regions(cell.source, begin, end):
                lines = [l.strip() for l in region if l.strip() in secrets]
                for k in range(len(lines) - run + 1):
                    out.setdefault(tuple(lines[k:k + run]), f"{kind} in {label(nb, i)}")
    return out


def _meaningful_lines(text: str) -> list[str]:
    return [s for s in (l.strip() for l in text.splitlines()) if not cells.is_trivial(s)]


def leak_problems(source_nb, release_dir: str | Path, name: str = "notebook") -> list[str]:
    """Gate 4: no line of a solution or hidden test, and no delimiter, anywhere in ``release_dir``.

    The notebook's own release (``<name>/`` or ``<name>.ipynb`` under ``release_dir``) and every
    non-notebook text file are searched line by line: any single secret line is a leak. Other
    notebooks' releases are searched for what would really hand out this notebook's answers: a run
    of :data:`CROSS_RUN` consecutive secret lines, or a single secret line of at least
    :data:`CROSS_LONG_LINE` characters — a shared idiom such as ``return None`` or a filter on
    cancelled orders, taught in lesson 00, is not a leak. Release notebooks must not carry the
    teacher-only ``crmkit.wrong`` metadata.
    """
    secrets = secret_lines(source_nb)
    runs = secret_runs(source_nb)
    problems = []
    for path in sorted(Path(release_dir).rglob("*")):
        if not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        if path.suffix == ".ipynb":
            rel = read(path)
            texts = [(label(rel, i), c.source) for i, c in enumerate(rel.cells)]
            for i, c in enumerate(rel.cells):
                if (c.metadata.get("crmkit") or {}).get("wrong"):
                    problems.append(f"{path}: {label(rel, i)} carries crmkit.wrong (teacher-only metadata)")
                texts += [(f"{label(rel, i)} output", str(out)) for out in c.get("outputs", [])]
        else:
            try:
                texts = [("", path.read_text(encoding="utf-8"))]
            except (UnicodeDecodeError, OSError):
                continue
        own = path.suffix != ".ipynb" or path.stem == name or name in path.relative_to(release_dir).parts[:-1]
        for where, text in texts:
            for delim in DELIMITERS:
                if delim in text:
                    problems.append(f"{path}: {where}: contains the delimiter {delim!r}")
            if own:
                for line in text.splitlines():
                    s = line.strip()
                    if s in secrets:
                        problems.append(f"{path}: {where}: line {s!r} leaks the {secrets[s]} of {name}")
                continue
            lines = _meaningful_lines(text)
            for s in lines:
                if s in secrets and len(s) >= CROSS_LONG_LINE:
                    problems.append(f"{path}: {where}: line {s!r} leaks the {secrets[s]} of {name}")
            for k in range(len(lines) - CROSS_RUN + 1):
                block = tuple(lines[k:k + CROSS_RUN])
                if block in runs:
                    problems.append(f"{path}: {where}: lines {list(block)!r} leak the {runs[block]} of {name}")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 3: the release is current


def _comparable(nb) -> tuple[dict, list[dict]]:
    cells = [{"cell_type": c.cell_type, "source": c.source, "metadata": dict(c.metadata)} for c in nb.cells]
    meta = {k: v for k, v in nb.metadata.items() if k in ("kernelspec",)}
    return meta, cells


def release_current_problems(generated, committed, name: str = "notebook") -> list[str]:
    """Gate 3: the committed release equals what ``nbgrader generate_assignment`` makes now.

    Compared: the kernelspec, and each cell's type, source and metadata (nbgrader's checksums
    included, so a changed locked cell is caught too). Outputs are gate 5's business.
    """
    gmeta, gcells = _comparable(generated)
    cmeta, ccells = _comparable(committed)
    fix = "run `make release` and commit notebooks/"
    if gmeta != cmeta:
        return [f"{name}: notebook metadata differs from a fresh generate_assignment; {fix}"]
    if len(gcells) != len(ccells):
        return [f"{name}: notebooks/ has {len(ccells)} cells, a fresh generate_assignment has {len(gcells)}; {fix}"]
    problems = []
    for i, (g, c) in enumerate(zip(gcells, ccells)):
        for key in ("cell_type", "source", "metadata"):
            if g[key] != c[key]:
                problems.append(f"{name}: {label(generated, i)}: {key} differs from a fresh generate_assignment; {fix}")
                break
    return problems


# ---------------------------------------------------------------------------------------------
# gates 1, 2, 7: real nbgrader in a temporary copy of the course


@dataclass
class GradedCopy:
    """A temporary course with one assignment generated, the solution and the release autograded."""

    slug: str
    course: CourseDir
    generated: Path  # fresh release made in the copy
    committed: Path | None  # the release committed in notebooks/ (None if missing)
    solution: nbg.Score
    blank: nbg.Score
    others: dict[str, nbg.Score] = field(default_factory=dict)  # extra submissions (pilots), by student

    @property
    def solution_run(self) -> Path:
        """The solution's autograded (executed) notebook."""
        return self.course.autograded_notebook(self.slug, SOLUTION_STUDENT)

    @property
    def blank_run(self) -> Path:
        """The unanswered release's autograded (executed) notebook."""
        return self.course.autograded_notebook(self.slug, BLANK_STUDENT)


def grade_copy(course: CourseDir, slug: str, workdir: str | Path,
               others: dict[str, Path] | None = None) -> GradedCopy:
    """Copy the course's config and ``solutions/<slug>/`` to ``workdir`` (its data folder linked),
    generate the release, submit the solution, the committed release and ``others`` (student ->
    notebook, e.g. the pilots' own solutions), autograde them in one nbgrader run and read the
    scores. The real ``grading/`` is never touched.
    """
    root = Path(workdir) / slug / "course"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copyfile(course.root / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "data").symlink_to(course.data_dir.resolve(), target_is_directory=True)
    copy_ = CourseDir.load(root)
    src = course.source_notebook(slug)
    shutil.copytree(src.parent, copy_.source_notebook(slug).parent, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    generated = nbg.generate(copy_, slug)
    committed = course.release_notebook(slug)
    committed = committed if committed.exists() else None
    nbg.submit(copy_, slug, SOLUTION_STUDENT, src)
    nbg.submit(copy_, slug, BLANK_STUDENT, committed or generated)
    for student, notebook in (others or {}).items():
        nbg.submit(copy_, slug, student, notebook)
    nbg.autograde(copy_, slug)
    return GradedCopy(slug, copy_, generated, committed,
                      nbg.scores(copy_, slug, SOLUTION_STUDENT), nbg.scores(copy_, slug, BLANK_STUDENT),
                      {s: nbg.scores(copy_, slug, s) for s in others or {}})


def solution_grade_problems(graded: GradedCopy) -> list[str]:
    """Gate 1: the solution ran top to bottom without errors and every test cell got full points."""
    problems = []
    run = read(graded.solution_run)
    for i, cell in enumerate(run.cells):
        if cell.cell_type != "code":
            continue
        # any error stops the notebook for a student; stderr only costs points in a test cell
        text = failure_text(cell) if is_test(cell) else (failure_text(cell) if errors(cell) else None)
        if text:
            problems.append(f"{graded.slug} solution: {label(run, i)} fails:\n{text[-1500:]}")
    for c in graded.solution.autograded:
        if c.score != c.max_score:
            problems.append(f"{graded.slug} solution: test cell {c.name} scored {c.score} of {c.max_score}")
    s = graded.solution
    if s.code_score != s.max_code_score:
        problems.append(f"{graded.slug} solution: autograded {s.code_score} of {s.max_code_score} points")
    return problems


def pilot_problems(graded: GradedCopy, student: str) -> list[str]:
    """Gate 13: a pilot's own solution (an independent, correct answer written another way) keeps
    every autograded point; test cells added since the pilot are not counted."""
    score = graded.others[student]
    return [f"{graded.slug} {student}: test cell {c.name} gives {c.score} of {c.max_score} points to the pilot's "
            "own solution (a hidden test rejects a correct answer written another way?)"
            for c in score.autograded if c.score is not None and c.score != c.max_score]


def release_grade_problems(graded: GradedCopy) -> list[str]:
    """Gate 2: the release submitted unchanged scores 0 on every autograded test cell."""
    return [f"{graded.slug} release: test cell {c.name} gives {c.score} of {c.max_score} points to an "
            "unanswered notebook (a test that passes on the stub)"
            for c in graded.blank.autograded if c.score]


def blank_run_problems(run_nb, name: str = "notebook") -> list[str]:
    """Gate 7: in the executed blank release, errors only as the stubs' NotImplementedError in
    answer cells, or in test cells. Any other error (a plot formatting an unanswered None, a
    missing file) is named with its cell.
    """
    problems = []
    for i, cell in enumerate(run_nb.cells):
        if cell.cell_type != "code" or is_test(cell):
            continue
        for err in errors(cell):
            if is_answer(cell) and err.get("ename") == "NotImplementedError":
                continue
            problems.append(f"{name} blank release: {label(run_nb, i)} raises {err.get('ename')}: "
                            f"{err.get('evalue')} (only answer stubs and test cells may fail in a blank notebook)")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 11: numbers a student can read

_SCIENTIFIC = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?e[+-]\d{2,3}\b")
_RAW_REPR = re.compile(r"<[A-Za-z_][\w.]*(?: object)? at 0x[0-9a-fA-F]+>|\bnp\.(?:float|int)\d+\(|"
                       r"\bnumpy\.(?:float|int)\d+\(|\bTimestamp\('|\bNaT\b(?!Type)|\b[VH]Box\(children=")


def _shown_text(cell) -> list[str]:
    """What a student reads in a code cell's outputs: streams and plain-text results."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            out.append(o.get("text", ""))
        elif o.get("output_type") in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "text/html" not in data and "application/vnd.jupyter.widget-view+json" not in data:
                out.append(str(data.get("text/plain", "")))  # HTML tables and live widgets are not read as text
    return out


def readability_problems(run_nb, name: str = "notebook") -> list[str]:
    """Gate 11: no output of the executed solution shows scientific notation (``3.131e+06``) or a
    raw object repr (``<… at 0x…>``, ``np.float64(…)``, ``Timestamp('…')``)."""
    problems = []
    for i, cell in enumerate(run_nb.cells):
        if cell.cell_type != "code" or is_test(cell):
            continue
        for text in _shown_text(cell):
            for pattern, what in ((_SCIENTIFIC, "scientific notation"), (_RAW_REPR, "a raw object repr")):
                m = pattern.search(text)
                if m:
                    problems.append(f"{name}: {label(run_nb, i)} shows {what}: {m.group(0)!r} in "
                                    f"{text[max(0, m.start() - 40):m.end() + 20]!r}")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 12: visible tests do not hand out the answer

#: filters every lesson states in its narrative (the course's rules), allowed in a visible test
COURSE_RULES = ("peruttu",)


def _filters(source: str) -> set[str]:
    """The filter expressions of some code: comparisons of a column (``df["col"] == "x"``,
    ``df.col >= 3``) and ``.isin(…)``/``.between(…)`` calls, normalised by ``ast.unparse``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            column = any(isinstance(s, (ast.Subscript, ast.Attribute)) for s in sides)
            value = any(isinstance(s, (ast.Constant, ast.List, ast.Tuple, ast.Set)) and not
                        (isinstance(s, ast.Constant) and s.value is None) for s in sides)
            if column and value:
                found.add(ast.unparse(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("isin", "between", "query"):
            found.add(ast.unparse(node))
    return {f for f in found if not any(rule in f for rule in COURSE_RULES)}


def answer_in_visible_test_problems(nb, name: str = "notebook") -> list[str]:
    """Gate 12: a visible test (what a student reads under the answer) repeats no filter of the
    solution it checks; such checks go to the hidden part, the visible part checks properties."""
    problems = []
    answers = [i for i, c in enumerate(nb.cells) if is_answer(c)]
    for k, i in enumerate(answers):
        solution = "\n".join(line for region in regions(nb.cells[i].source, "BEGIN SOLUTION", "END SOLUTION")
                             for line in region)
        wanted = _filters(textwrap.dedent(solution))
        end = answers[k + 1] if k + 1 < len(answers) else len(nb.cells)
        for j in range(i + 1, end):
            if is_test(nb.cells[j]):
                shown = wanted & _filters(strip_hidden(nb.cells[j].source))
                for f in sorted(shown):
                    problems.append(f"{name}: {label(nb, j)} shows the solution's filter {f!r} in its visible part")
    return problems


# ---------------------------------------------------------------------------------------------
# gate 8: named wrong answers


def wrong_count_problems(nb, slug: str) -> list[str]:
    """Gate 8 (count): a lesson carries at least 3 named wrong answers (the assessments none)."""
    need = MIN_WRONG.get(slug, DEFAULT_MIN_WRONG)
    have = sum(len((c.metadata.get("crmkit") or {}).get("wrong", []) or []) for c in nb.cells if is_answer(c))
    return [] if have >= need else [f"{slug}: {have} named wrong answer(s); at least {need} needed"]


def wrong_answer_problems(nb, workdir: str | Path, timeout: int = 120, name: str = "notebook") -> list[str]:
    """Gate 8: each named wrong answer, put in place of its solution, makes a following test fail
    with a message (as the student sees it, hidden tests removed) that contains its ``expect``.

    All wrong answers of a notebook run in one kernel: cells run in order; at an answer cell with
    wrong answers, each wrong answer runs followed by the test cells up to the next answer cell,
    then the real solution runs and the notebook continues.
    """
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    problems = []
    answers = [i for i, c in enumerate(nb.cells) if is_answer(c)]
    client.reset_execution_trackers()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            wrongs = (cell.metadata.get("crmkit") or {}).get("wrong", []) if is_answer(cell) else []
            if wrongs:
                nxt = next((j for j in answers if j > i), len(nb.cells))
                tests = [j for j in range(i + 1, nxt) if is_test(nb.cells[j])]
                if not tests:
                    problems.append(f"{name}: {label(nb, i)} has wrong answers but no test cell before the next answer")
                for w in wrongs:
                    problems += _try_wrong(client, nb, i, w, tests, name)
            client.execute_cell(cell, i)
    return problems


def _run_variant(client, nb, index: int, source: str):
    """Execute a copy of cell ``index`` with another source; the notebook keeps its own cell.

    (nbclient stores the executed cell back into ``nb.cells[index]``, so put the original back.)
    """
    original = nb.cells[index]
    variant = copy.deepcopy(original)
    variant.source = source
    try:
        client.execute_cell(variant, index)
    finally:
        nb.cells[index] = original
    return variant


def _without_magics(source: str) -> str:
    """Cell source with IPython's magic and shell lines (``%…``, ``!…``) blanked, for ``compile``."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _try_wrong(client, nb, i: int, w: dict, tests: list[int], name: str) -> list[str]:
    where = f"{name}: {label(nb, i)}, wrong answer {w.get('name')!r}"
    wrong_cell = replace_solution(nb.cells[i].source, w["source"])
    try:  # a wrong answer that does not compile would only show a misleading NameError further on
        compile(_without_magics(wrong_cell), where, "exec")
    except SyntaxError as e:
        return [f"{where}: its code does not compile ({e.msg}, line {e.lineno}): fix its indentation or syntax"]
    answer = _run_variant(client, nb, i, wrong_cell)
    own = failure_text(answer)
    if w.get("hidden"):
        return _try_hidden_wrong(client, nb, w, tests, where)
    found, seen = _failure_messages(client, nb, tests, w["expect"], hidden=False)
    if found:
        return []
    if seen:
        return [f"{where}: the tests fail, but no message contains {w['expect']!r}; the student sees: "
                f"{_last_lines(seen)}"]
    # the visible tests pass: do the hidden ones catch it at least?
    hidden_fail = False
    for j in tests:
        full = _run_variant(client, nb, j, nb.cells[j].source)
        hidden_fail = hidden_fail or failure_text(full) is not None
    extra = f" (the answer cell itself fails: {own.splitlines()[0]})" if own else ""
    if hidden_fail:
        return [f"{where}: only hidden tests catch it, so the student sees no message; "
                f"add a visible test whose message contains {w['expect']!r}{extra}"]
    return [f"{where}: no test cell after it fails (it would get full points){extra}"]


def _try_hidden_wrong(client, nb, w: dict, tests: list[int], where: str) -> list[str]:
    """A wrong answer marked ``"hidden": true``: one the visible tests cannot tell from the right
    answer without giving the value away (the competence demonstration's form-only checks). A test
    cell, hidden tests included, must fail with a message containing its ``expect``; the student's
    feedback shows only that a hidden test failed, the teacher's autograded copy shows the message."""
    found, seen = _failure_messages(client, nb, tests, w["expect"], hidden=True)
    if found:
        return []
    if seen:
        return [f"{where}: the tests (hidden ones included) fail, but no message contains {w['expect']!r}; "
                f"the message is: {_last_lines(seen)}"]
    return [f"{where}: no test cell after it fails, hidden tests included (it would get full points)"]


def _failure_messages(client, nb, tests: list[int], expect: str, hidden: bool) -> tuple[bool, list[str]]:
    """Run the test cells after a wrong answer (as released, or with their hidden tests) until one
    fails with a message containing ``expect``: whether one did, and the other failures' messages
    (the text the reader sees, not the test's code lines)."""
    seen = []
    for j in tests:
        source = nb.cells[j].source if hidden else strip_hidden(nb.cells[j].source)
        text = cells.message_text(_run_variant(client, nb, j, source))
        if text is not None:
            if expect in text:
                return True, seen
            seen.append(text)
    return False, seen


def _last_lines(messages: list[str]) -> str:
    """The last failure message's last three lines, on one line."""
    return " | ".join(messages[-1].strip().splitlines()[-3:])
