"""The exam (tentti): per-student variants are different, each is graded correctly, and the
multiple-choice keys cannot be read from the student copy.

How the variants work: the student writes their id into ``STUDENT_ID`` (answer cell
``t0_tunniste``); the locked cell ``versio`` derives ``VARIANT`` (region, month, channel, B2B
customer, thresholds, …) from sha256(id). The hidden tests re-derive the variant from
``STUDENT_ID`` with their own code and compute the expected answers from the data, so every
student is graded on their own variant, and a neighbour's numbers copied under one's own id fail.

The notebook is executed with nbclient (hidden tests included, i.e. as the autograder runs it)
under several ids; one test runs real nbgrader with two students to prove full marks under each
student's own id and the id check that the teacher reads.
"""

from __future__ import annotations

import copy
import json
import re
from itertools import combinations
from pathlib import Path

import nbformat
import pytest
from repo import ROOT, course_at

from crmkit.engine import cells, nbg

SLUG = "tentti"
SOURCE = ROOT / "solutions" / SLUG / f"{SLUG}.ipynb"
RELEASE = ROOT / "notebooks" / SLUG / f"{SLUG}.ipynb"
IDS = ["ab1234", "xy9876", "k0042", "opisk77"]
#: the computation answers (variable names), in notebook order
COMPUTED = ["n_region", "month_sales", "avg_order_value", "conversion", "cycle_days", "big_spenders",
            "sales_per_buyer", "nps_score", "retention", "profit", "compliance", "late_share",
            "n_activities", "win_rate"]

pytestmark = pytest.mark.slow


def _source() -> nbformat.NotebookNode:
    return cells.read(SOURCE)


def _grade_id(cell) -> str:
    return cells.grade_meta(cell).get("grade_id", "")


def _with_id(nb, student_id: str):
    """A copy of the notebook whose STUDENT_ID answer is ``student_id``."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if _grade_id(c) == "t0_tunniste")
    cell.source = cells.replace_solution(cell.source, f'STUDENT_ID = "{student_id}"')
    return nb


_DUMP = '''import json as _json
def _plain(x):
    if isinstance(x, pd.Series):
        return {str(k): float(v) for k, v in x.items()}
    if isinstance(x, dict):
        return {str(k): float(v) for k, v in x.items()}
    return float(x)
print("ANSWERS=" + _json.dumps({"variant": VARIANT, "answers": {n: _plain(globals()[n]) for n in %r}}))''' % COMPUTED


def _run(nb, tmp_path: Path):
    """Execute ``nb`` (hidden tests included) and return (executed notebook, dumped answers)."""
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    nb.cells.append(nbformat.v4.new_code_cell(_DUMP))
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    match = re.search(r"ANSWERS=(.*)", text)
    return nb, (json.loads(match.group(1)) if match else None)


def _failing_tests(run_nb) -> list[str]:
    return [_grade_id(c) for c in run_nb.cells if cells.is_test(c) and cells.failure_text(c) is not None]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The solution executed under each id in IDS: {id: (executed notebook, answers)}."""
    tmp = tmp_path_factory.mktemp("tentti")
    return {sid: _run(_with_id(_source(), sid), tmp) for sid in IDS}


def _differs(x, y) -> bool:
    if isinstance(x, dict):
        return x.keys() != y.keys() or any(abs(x[k] - y[k]) > 1e-6 for k in x)
    return abs(x - y) > 1e-6


def test_enough_questions_of_each_kind():
    nb = _source()
    tests = [c for c in nb.cells if cells.is_test(c)]
    mc = [c for c in tests if _grade_id(c).startswith("v")]
    comp = [c for c in tests if _grade_id(c).startswith("k")]
    manual = [c for c in nb.cells if c.cell_type == "markdown" and cells.grade_meta(c).get("grade")]
    assert len(mc) + len(comp) >= 20 and len(comp) >= 10 and len(mc) >= 5
    assert len(manual) == 3
    header = nb.cells[0].source
    assert "Aikaa 120 minuuttia" in header
    levels = {}
    for c in nb.cells:
        if cells.is_graded(c):
            for o in c.metadata["crmkit"]["outcomes"]:
                levels.setdefault(o, set()).add(c.metadata["crmkit"]["level"])
    assert set(levels) == {"A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4", "B5", "B6", "B7"}
    assert levels["A5"] == {"5"} and levels["B4"] == {"5"}
    assert "1-2" not in levels["A2"] and "1-2" not in levels["B5"]


def test_solution_gets_full_marks_under_every_id(runs):
    """Each id's own answers pass every test cell, hidden tests included (as autograding runs)."""
    for sid, (run_nb, answers) in runs.items():
        assert answers is not None, f"{sid}: the solution did not finish"
        assert _failing_tests(run_nb) == [], f"{sid}: failing test cells {_failing_tests(run_nb)}"


def test_variants_and_expected_answers_differ(runs):
    """Every pair of ids gets a different variant and different numbers in most computations."""
    variants = {sid: json.dumps(ans["variant"], sort_keys=True) for sid, (_, ans) in runs.items()}
    assert len(set(variants.values())) == len(IDS), "two ids got the same variant"
    for a, b in combinations(IDS, 2):
        x, y = runs[a][1]["answers"], runs[b][1]["answers"]
        differing = [n for n in COMPUTED if _differs(x[n], y[n])]
        assert len(differing) >= 10, f"{a} vs {b}: only {differing} differ"


def test_variant_is_stable_and_ignores_case_and_spaces(tmp_path):
    nb = _source()
    _, one = _run(_with_id(nb, "AB1234 "), tmp_path)
    _, two = _run(_with_id(nb, "ab1234"), tmp_path)
    assert one["variant"] == two["variant"] and one["answers"] == two["answers"]


def _literal(name, value) -> str:
    if isinstance(value, dict) and name == "sales_per_buyer":
        return f"{name} = pd.Series({value!r})"
    if name in ("n_region", "big_spenders", "n_activities"):
        return f"{name} = {int(value)}"
    return f"{name} = {value!r}"


def test_copied_neighbour_numbers_fail(runs, tmp_path):
    """A student who types their own id but copies the neighbour's numbers loses (almost) all of them."""
    own, neighbour = IDS[0], IDS[1]
    copied = runs[neighbour][1]["answers"]
    nb = _with_id(_source(), own)
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cells.is_answer(cell) and gid.startswith("k"):
            name = next(n for n in COMPUTED if re.search(rf"^\s*{n}\s*=", cell.source, re.M))
            cell.source = cells.replace_solution(cell.source, _literal(name, copied[name]))
    run_nb, _ = _run(nb, tmp_path)
    failing = [g for g in _failing_tests(run_nb) if g.startswith("k")]
    differing = [n for n in COMPUTED if _differs(copied[n], runs[own][1]["answers"][n])]
    assert len(failing) >= len(differing) >= 10, (failing, differing)


def test_overwriting_variant_does_not_help(runs, tmp_path):
    """Setting VARIANT to the neighbour's does not change what the hidden tests expect."""
    own, neighbour = IDS[0], IDS[1]
    nb = _with_id(_source(), own)
    i = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == "versio")
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(f"VARIANT = {runs[neighbour][1]['variant']!r}"))
    run_nb, _ = _run(nb, tmp_path)
    failing = [g for g in _failing_tests(run_nb) if g.startswith("k")]
    assert len(failing) >= 10, failing


def test_mc_keys_not_readable_in_release():
    release = RELEASE.read_text(encoding="utf-8")  # the whole file: cells and metadata
    source = "\n".join(c.source for c in _source().cells)
    digests = re.findall(r"[0-9a-f]{64}", source)
    assert len(digests) >= 10, "every multiple-choice question has a hashed key in its hidden test"
    assert not set(re.findall(r"[0-9a-f]{64}", release)), "a hash is visible in the student copy"
    salt = re.search(r'hashlib\.sha256\(\("([^"]+)" \+ str\(ans\)', source).group(1)
    assert salt not in release, "the course secret (salt) is in the student copy"
    for cell in cells.read(RELEASE).cells:
        if _grade_id(cell).startswith("v") and cells.is_answer(cell):
            assert not re.search(r'm\d\d\s*=\s*"[a-d]"', cell.source), cell.source


def test_nbgrader_full_marks_for_two_students_and_id_check(tmp_path):
    """Real nbgrader: two students, each with their own id, get full marks; a third who typed
    another student's id is graded on that id's variant and the teacher sees 'EI TÄSMÄÄ'."""
    import shutil

    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(SOURCE.parent, course / "solutions" / SLUG)
    nbg.generate(course_at(course), SLUG)
    students = {"ab1234": "ab1234", "xy9876": "xy9876", "cd5555": "ab1234"}  # folder -> typed id
    for folder, typed in students.items():
        path = tmp_path / f"{folder}.ipynb"
        nbformat.write(_with_id(_source(), typed), path)
        nbg.submit(course_at(course), SLUG, folder, path)
    nbg.autograde(course_at(course), SLUG, None)
    for folder, typed in students.items():
        score = nbg.scores(course_at(course), SLUG, folder)
        assert score.code_score == score.max_code_score, (folder, score)
        graded = cells.read(course_at(course).autograded_notebook(SLUG, folder))
        out = "".join(o.get("text", "") for c in graded.cells if _grade_id(c) == "versio" for o in c.outputs)
        assert f"palautuskansion tunnus {folder}" in out, out
        assert ("EI TÄSMÄÄ" in out) == (folder != typed), out


def test_every_variant_choice_is_answerable():
    """Every value the variant can take leaves a well-defined answer on the course data (no empty
    selection, no 0/0, and the visible tests' guards hold for the correct answer)."""
    from crmkit.runtime.data import read_table

    c, o, l = read_table("customers"), read_table("orders"), read_table("order_lines")
    w, p, sc = read_table("web_sessions"), read_table("opportunities"), read_table("service_costs")
    ok = o[o["status"] != "peruttu"]
    for region in c["region"].dropna().unique():
        current = ((c["region"] == region) & (c["status"] == "asiakas")).sum()
        assert 0 < current < (c["region"] == region).sum(), region
    for month, grp in o[o["order_date"].dt.year.isin([2024, 2025])].groupby(o["order_date"].dt.strftime("%Y-%m")):
        assert (grp["status"] == "peruttu").any(), f"{month}: no cancelled order, the cancelled-order guard fails"
    for ch in o["channel"].dropna().unique():
        for year in (2024, 2025):
            assert ((ok["channel"] == ch) & (ok["order_date"].dt.year == year)).any(), (ch, year)
    for ts, grp in w.groupby("traffic_source"):
        assert 0 < grp["purchased"].mean() < 1, ts
    for ls in p["lead_source"].dropna().unique():
        assert ((p["lead_source"] == ls) & (p["stage"] == "tilaus")).any(), ls
    o25 = ok[ok["order_date"].dt.year == 2025]
    per = o25["customer_id"].value_counts()
    pool = set(c.loc[(c["customer_type"] == "B2B") & (c["status"] == "asiakas"), "customer_id"]) & set(per[per >= 6].index)
    assert len(pool) >= 20
    serve = sc[sc["incurred_on"].dt.year == 2025].groupby("customer_id")["amount"].sum()
    assert all(serve.get(x, 0) > 0 for x in pool), "a variant customer without cost to serve"
    for pf in "ABC":
        assert ((c["portfolio"] == pf) & (c["status"] == "asiakas")).any(), pf
    for q in range(1, 5):
        erp = o25[(o25["source_system"] == "ERP") & (o25["order_date"].dt.quarter == q)]
        assert len(erp) and erp["delivered_late"].mean() < 1, q
    b2c = set(c.loc[c["customer_type"] == "B2C", "customer_id"])
    spend = l.merge(o25[o25["customer_id"].isin(b2c)], on="order_id").groupby("customer_id")["net_amount"].sum()
    for t in (100, 150, 200, 250, 300, 400):
        assert 0 < (spend >= t).sum() < len(b2c), t
