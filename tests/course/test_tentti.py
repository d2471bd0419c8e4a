"""The exam (tentti): per-student variants are different, each is graded correctly, and the
multiple-choice keys cannot be read from the student copy.

How the variants work: the student writes their id into ``STUDENT_ID`` (answer cell
``t0_tunniste``); the locked cell ``versio`` derives ``VARIANT`` (region, year, channel, B2B
customer, …) from sha256(id), with the years taken from the data's own "today" (``YEAR`` is its
last full calendar year, ``PREV_YEAR`` the one before). The hidden tests re-derive the variant and
the years with their own code and compute the expected answers from the data, so every student is
graded on their own variant, and a neighbour's numbers copied under one's own id fail.

The multiple-choice options are shown by locked cells in an order derived from the id (cell
``monivalinnat``: ``mc_order``), so the key letters differ between students; the hidden tests hold a
salted hash of the right option's place in the alphabetical order and map the student's letter
back through the id's order with their own code.

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
COMPUTED = ["avg_order_value", "cycle_days", "sales_per_buyer", "nps_score", "retention", "profit",
            "compliance", "late_share", "n_activities", "win_rate"]
MC_VARS = [f"m{n:02d}" for n in range(1, 11)]
#: the share of computations that must differ between two students (and fail when copied)
MOST = 0.7

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
    # the stated working time fits the exam's 120 minutes, and submission is named as the student guide names it
    planned = re.search(r"mitoitettu noin (\d+) minuuttiin", header)
    assert planned and int(planned.group(1)) < 120, "the header states the time the tasks are sized for (< 120 min)"
    guide = (ROOT / "course" / "opiskelijan-opas.md").read_text(encoding="utf-8")
    assert "Nbgrader → Assignment List" in guide and "Nbgrader → Assignment List" in header.replace("\n", " ")
    assert "Assignments →" not in header
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
        assert len(differing) >= MOST * len(COMPUTED), f"{a} vs {b}: only {differing} differ"


def test_variant_is_stable_and_ignores_case_and_spaces(tmp_path):
    nb = _source()
    _, one = _run(_with_id(nb, "AB1234 "), tmp_path)
    _, two = _run(_with_id(nb, "ab1234"), tmp_path)
    assert one["variant"] == two["variant"] and one["answers"] == two["answers"]


def _literal(name, value) -> str:
    if isinstance(value, dict) and name == "sales_per_buyer":
        return f"{name} = pd.Series({value!r})"
    if name == "n_activities":
        return f"{name} = {int(value)}"
    return f"{name} = {value!r}"


def _mc_order():
    """The notebook's own ``mc_order`` (the locked cell ``monivalinnat``), run outside a kernel."""
    import hashlib

    import numpy as np

    cell = next(c for c in _source().cells if _grade_id(c) == "monivalinnat")
    space = {"hashlib": hashlib, "np": np}
    exec(cell.source, space)
    return space["mc_order"]


def _mc_keys() -> dict[str, int]:
    """Each question's right option as its place in the alphabetical order of its options."""
    nb = _source()
    shown = {}
    for c in nb.cells:
        m = re.match(r'show_options\("(m\d\d)", \[(.*?)\]\)', c.source, re.S)
        if m:
            shown[m.group(1)] = sorted(re.findall(r'"([^"]+)"', m.group(2)))
    keys = {}
    for c in nb.cells:
        if cells.is_answer(c) and _grade_id(c).startswith("v"):
            var, text = re.search(r'(m\d\d) = next\(.*text == "([^"]+)"\)', c.source).groups()
            keys[var] = shown[var].index(text)
    assert sorted(keys) == MC_VARS, keys
    return keys


def _key_letters(student_id) -> dict[str, str]:
    order, keys = _mc_order(), _mc_keys()
    return {q: "abcd"[order(student_id, q).index(k)] for q, k in keys.items()}


def test_copied_neighbour_answers_fail(runs, tmp_path):
    """A student who types their own id but copies the neighbour's numbers and letters loses (almost) all
    of them: every differing number fails, and every letter that means another option in their order."""
    own, neighbour = IDS[0], IDS[1]
    copied = runs[neighbour][1]["answers"]
    letters = _key_letters(neighbour)
    nb = _with_id(_source(), own)
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cells.is_answer(cell) and gid.startswith("k"):
            name = next(n for n in COMPUTED if re.search(rf"^\s*{n}\s*=", cell.source, re.M))
            cell.source = cells.replace_solution(cell.source, _literal(name, copied[name]))
        elif cells.is_answer(cell) and gid.startswith("v"):
            var = next(v for v in MC_VARS if re.search(rf"^{v} = ", cell.source, re.M))
            cell.source = cells.replace_solution(cell.source, f'{var} = "{letters[var]}"')
    run_nb, _ = _run(nb, tmp_path)
    failing = [g for g in _failing_tests(run_nb) if g.startswith("k")]
    differing = [n for n in COMPUTED if _differs(copied[n], runs[own][1]["answers"][n])]
    assert len(failing) >= len(differing) >= MOST * len(COMPUTED), (failing, differing)
    mine = _key_letters(own)
    wrong_letters = [q for q in MC_VARS if mine[q] != letters[q]]
    failing_mc = sorted(g.split("_")[0].replace("v", "m") for g in _failing_tests(run_nb) if g.startswith("v"))
    assert failing_mc == wrong_letters and len(wrong_letters) >= len(MC_VARS) // 2, (failing_mc, wrong_letters)


def test_mc_keys_differ_between_students_and_no_letter_is_favoured():
    """The options are shuffled per id: the key letters are not one pattern for everyone, each student
    sees every option once, and over many ids each letter is the key about a quarter of the time."""
    order = _mc_order()
    patterns = {sid: tuple(_key_letters(sid).values()) for sid in IDS}
    assert len(set(patterns.values())) == len(IDS), patterns
    many = [f"s{i:05d}" for i in range(400)]
    keys = _mc_keys()
    for q, k in keys.items():
        counts = {letter: 0 for letter in "abcd"}
        for sid in many:
            perm = order(sid, q)
            assert sorted(perm) == [0, 1, 2, 3]
            counts["abcd"[perm.index(k)]] += 1
        assert all(60 <= n <= 140 for n in counts.values()), (q, counts)


def test_correct_answers_written_another_way_get_every_point(tmp_path):
    """Correct answers in other forms than the model solution (the first pilot's whole-day ``.days``
    integer for the sales cycle, merges instead of filters, rounding to the cent, letters in capitals)
    pass every test: a hidden test never rejects a right answer written another way."""
    nb = _with_id(_source(), IDS[2])
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cells.is_answer(cell) and gid in OTHER_WAY:
            cell.source = cells.replace_solution(cell.source, OTHER_WAY[gid])
        elif cells.is_answer(cell) and gid.startswith("v"):
            var = next(v for v in MC_VARS if re.search(rf"^{v} = ", cell.source, re.M))
            solution = cells.solution_regions(cell.source)[0]
            cell.source = cells.replace_solution(cell.source, "\n".join(solution) + f"\n{var} = {var}.upper() + ' '")
    run_nb, answers = _run(nb, tmp_path)
    assert answers is not None and _failing_tests(run_nb) == [], _failing_tests(run_nb)


#: correct answers written another way (independent of the model solution)
OTHER_WAY = {
    "k03_tilauksen_arvo": """sel = orders.query("channel == @VARIANT['channel'] and status != 'peruttu'")
sel = sel[sel["order_date"].dt.year == VARIANT["year"]]
per_order = lines.merge(sel[["order_id"]], on="order_id").groupby("order_id")["net_amount"].sum()
avg_order_value = per_order.sum() / len(per_order)""",
    "k05_myyntisykli": """won = opps[(opps.stage == "tilaus") & (opps.lead_source == VARIANT["lead_source"])]
cycle_days = (won.close_date - won.created_date).median().days""",
    "k07_myynti_per_ostaja": """o = orders[(orders["status"] != "peruttu") & (orders["order_date"].dt.year == YEAR)]
x = lines.merge(o, on="order_id").merge(customers, on="customer_id")
x = x[x["region"] == VARIANT["region"]]
sales_per_buyer = x.groupby("customer_type")["net_amount"].sum() / x.groupby("customer_type")["customer_id"].nunique()""",
    "k08_nps": """s = surveys[(surveys["touchpoint"] == VARIANT["touchpoint"]) & surveys["nps"].notna()]["nps"]
nps_score = 100.0 * ((s >= 9).sum() - (s <= 6).sum()) / len(s)""",
    "k09_pysyvyys": """o = orders[orders["status"] != "peruttu"].merge(customers[["customer_id", "customer_type"]], on="customer_id")
o = o[o["customer_type"] == VARIANT["customer_type"]]
years = o.groupby("customer_id")["order_date"].agg(lambda d: set(d.dt.year))
before = years[years.apply(lambda y: PREV_YEAR in y)]
retention = float(before.apply(lambda y: YEAR in y).mean())""",
    "k10_asiakaskannattavuus": """x = lines.merge(orders, on="order_id")
x = x[(x["customer_id"] == VARIANT["customer"]) & (x["status"] != "peruttu") & (x["order_date"].dt.year == YEAR)]
kept_sales = (x["net_amount"] / x["quantity"] * (x["quantity"] - x["returned_quantity"])).sum()
gm = kept_sales - x["cost_amount"].sum() + x.drop_duplicates("order_id")["delivery_fee"].sum()
in_year = (costs["incurred_on"] >= pd.Timestamp(year=YEAR, month=1, day=1)) & (costs["incurred_on"] < pd.Timestamp(year=YEAR + 1, month=1, day=1))
sc = costs.loc[in_year & (costs["customer_id"] == VARIANT["customer"]), "amount"].sum()
profit = {"myyntikate": round(gm, 2), "palvelukustannukset": round(sc, 2), "tulos": round(gm - sc, 2)}""",
    "k11_hoitomalli": """days = care.loc[care["portfolio"] == VARIANT["portfolio"], "contact_interval_days"].iloc[0]
ids = customers.query("portfolio == @VARIANT['portfolio'] and status == 'asiakas'")["customer_id"]
last = activities.groupby("customer_id")["activity_date"].max().reindex(ids)
compliance = float((last >= TODAY - pd.Timedelta(days=int(days))).mean())""",
    "k12_myohastymiset": """q = orders[(orders["source_system"] == "ERP") & (orders["status"] != "peruttu")]
q = q[q["order_date"].dt.to_period("Q") == pd.Period(year=YEAR, quarter=VARIANT["quarter"], freq="Q")]
late_share = q["delivered_late"].sum() / len(q)""",
    "k13_aktiviteetit": """mine = activities.query("customer_id == @VARIANT['customer']")
n_activities = len(mine[mine["activity_date"].dt.year == YEAR])""",
    "k14_voittoaste": """vc = opps.loc[opps["owner_id"] == VARIANT["owner"], "stage"].value_counts()
win_rate = vc.get("tilaus", 0) / (vc.get("tilaus", 0) + vc.get("menetetty", 0))""",
}


def test_overwriting_variant_does_not_help(runs, tmp_path):
    """Setting VARIANT to the neighbour's does not change what the hidden tests expect."""
    own, neighbour = IDS[0], IDS[1]
    nb = _with_id(_source(), own)
    i = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == "versio")
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(f"VARIANT = {runs[neighbour][1]['variant']!r}"))
    run_nb, _ = _run(nb, tmp_path)
    failing = [g for g in _failing_tests(run_nb) if g.startswith("k")]
    assert len(failing) >= MOST * len(COMPUTED), failing


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
    from crmkit.runtime.data import data_today, read_table

    today = data_today()
    year = today.year if (today.month, today.day) == (12, 31) else today.year - 1
    c, o, l = read_table("customers"), read_table("orders"), read_table("order_lines")
    p, sc, s = read_table("opportunities"), read_table("service_costs"), read_table("surveys")
    ok = o[o["status"] != "peruttu"]
    for region in c["region"].dropna().unique():
        assert ((c["region"] == region) & (c["status"] == "asiakas")).any(), region
    for ch in o["channel"].dropna().unique():
        for y in (year - 1, year):
            assert ((ok["channel"] == ch) & (ok["order_date"].dt.year == y)).any(), (ch, y)
    for ls in p["lead_source"].dropna().unique():
        assert ((p["lead_source"] == ls) & (p["stage"] == "tilaus")).any(), ls
    for tp, n in s.groupby("touchpoint")["nps"].count().items():
        assert n > 0, tp
    for t in ("B2B", "B2C"):
        typed = ok[ok["customer_id"].isin(c.loc[c["customer_type"] == t, "customer_id"])]
        before = set(typed.loc[typed["order_date"].dt.year == year - 1, "customer_id"])
        after = set(typed.loc[typed["order_date"].dt.year == year, "customer_id"])
        assert 0 < len(before & after) < len(before), t
    o_year = ok[ok["order_date"].dt.year == year]
    per = o_year["customer_id"].value_counts()
    rows = l.merge(o_year[["order_id", "customer_id"]], on="order_id")
    rows["returned_value"] = rows["net_amount"] * rows["returned_quantity"] / rows["quantity"]
    returned = rows.groupby("customer_id")["returned_value"].sum()
    fees = o_year.groupby("customer_id")["delivery_fee"].sum()
    pool = (set(c.loc[(c["customer_type"] == "B2B") & (c["status"] == "asiakas"), "customer_id"])
            & set(per[per >= 6].index) & (set(returned[returned > 0].index) | set(fees[fees > 0].index)))
    assert len(pool) >= 20
    serve = sc[sc["incurred_on"].dt.year == year].groupby("customer_id")["amount"].sum()
    assert all(serve.get(x, 0) > 0 for x in pool), "a variant customer without cost to serve"
    # the check that names "net − cost" never rejects the course's margin: returns and fees never cancel out
    assert all(abs(returned.get(x, 0) - fees.get(x, 0)) > 0.01 for x in pool)
    for pf in "ABC":
        assert ((c["portfolio"] == pf) & (c["status"] == "asiakas")).any(), pf
    for q in range(1, 5):
        erp = o_year[(o_year["source_system"] == "ERP") & (o_year["order_date"].dt.quarter == q)]
        assert len(erp) and erp["delivered_late"].mean() < 1, q


def test_no_year_or_date_written_into_the_exam():
    """Years come from the data's today (issue 13): no cell names a year or a date, in code or text
    (the multiple-choice salt, a secret label of this exam edition, is the only exception)."""
    for i, cell in enumerate(_source().cells):
        text = "\n".join(line for line in cell.source.splitlines() if "_mc_digest" not in line and "Aurora/" not in line)
        found = re.findall(r"(?<![\w.])(?:19|20)\d\d(?![\w.])", text)
        assert not found, f"cell {i} ({_grade_id(cell) or cell.cell_type}) names {found}"


def test_solution_passes_on_the_data_moved_by_whole_years(tmp_path):
    """The same world two calendar years later: the variant's years and every hidden test follow the
    data's today, so the solution still gets every point (the exam before issue 13 failed there)."""
    from crmkit.course.world.generate import write_world
    from crmkit.runtime.data import data_today

    world = tmp_path / "moved"
    write_world(world, scale=0.5, shift_years=2)
    nb = _with_id(_source(), IDS[3])
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = f"DATA_DIR = {str(world)!r}"
    run_nb, answers = _run(nb, tmp_path)
    assert answers is not None and _failing_tests(run_nb) == [], _failing_tests(run_nb)
    last = data_today(world).year
    assert answers["variant"]["year"] in (last - 1, last) and last == data_today().year + 2
