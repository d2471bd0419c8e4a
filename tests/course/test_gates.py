"""Quality gates (DESIGN.md §7) on every notebook in solutions/, and proof that each gate can fail.

The course notebooks are found at collection time (``solutions/*/*.ipynb``), so a new notebook is
checked without touching this file. Gates that run notebooks use real nbgrader in a temporary copy
of the course (never the real grading/); all notebooks are graded in parallel once per session.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbfixtures as fx
import nbformat
import pytest
from repo import ROOT, course_at

from crmkit.course import authoring as a
from crmkit.course import gates
from crmkit.engine import cells

SLUGS = course_at(ROOT).assignments()
RELEASES = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
#: the student pilots' own solutions (PILOT.md): tests/pilots/<slug>.ipynb, graded as student "pilot"
PILOTS = {p.stem: p for p in sorted((ROOT / "tests" / "pilots").glob("*.ipynb"))}


def _assert_none(problems):
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------
# the course's own notebooks: static gates (no kernel)


@pytest.mark.parametrize("path", [course_at(ROOT).source_notebook(s) for s in SLUGS] + RELEASES,
                         ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_committed_without_outputs(path):
    """Gate 5."""
    _assert_none(gates.output_problems(path))


@pytest.mark.parametrize("slug", SLUGS)
def test_metadata_ids_points(slug):
    """Gate 6."""
    _assert_none(gates.metadata_problems(cells.read(course_at(ROOT).source_notebook(slug)), slug))


@pytest.mark.parametrize("slug", SLUGS)
def test_no_solution_or_hidden_test_in_release(slug):
    """Gate 4."""
    _assert_none(gates.leak_problems(cells.read(course_at(ROOT).source_notebook(slug)), ROOT / "notebooks", slug))


@pytest.mark.parametrize("slug", SLUGS)
def test_tables_and_columns_exist(slug):
    """Gate 9."""
    _assert_none(gates.data_reference_problems(cells.read(course_at(ROOT).source_notebook(slug)), slug))


@pytest.mark.parametrize("slug", SLUGS)
def test_enough_wrong_answers(slug):
    """Gate 8 (count)."""
    _assert_none(gates.wrong_count_problems(cells.read(course_at(ROOT).source_notebook(slug)), slug))


@pytest.mark.parametrize("slug", SLUGS)
def test_visible_tests_do_not_hand_out_the_answer(slug):
    """Gate 12."""
    _assert_none(gates.answer_in_visible_test_problems(cells.read(course_at(ROOT).source_notebook(slug)), slug))


# ------------------------------------------------------------------------------------------
# the course's own notebooks: gates that run them (one nbgrader run and one wrong-answer kernel
# per notebook, all notebooks in parallel, once per session)


class _Runs:
    """Lazily started, parallel gate runs for every course notebook."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
        self.graded, self.wrong = {}, {}

    def start(self, slugs):
        if self.graded:
            return
        for slug in slugs:
            others = {"pilot": PILOTS[slug]} if slug in PILOTS else None
            self.graded[slug] = self.pool.submit(gates.grade_copy, course_at(ROOT), slug, self.workdir / "nbgrader",
                                                 others)
        for slug in slugs:
            nb = cells.read(course_at(ROOT).source_notebook(slug))
            self.wrong[slug] = self.pool.submit(gates.wrong_answer_problems, nb,
                                                course_at(ROOT).source_notebook(slug).parent, 120, slug)


@pytest.fixture(scope="session")
def course_runs(tmp_path_factory, request):
    # run only the notebooks whose gate tests this session selected (e.g. `-k 03_segmentointi`)
    wanted = {item.callspec.params["slug"] for item in request.session.items
              if "course_runs" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")
              and "slug" in item.callspec.params}
    runs = _Runs(tmp_path_factory.mktemp("gates"))
    runs.start([s for s in SLUGS if s in wanted])
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_solution_autogrades_to_full_points(slug, course_runs):
    """Gate 1."""
    _assert_none(gates.solution_grade_problems(course_runs.graded[slug].result()))


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_release_autogrades_to_zero(slug, course_runs):
    """Gate 2."""
    _assert_none(gates.release_grade_problems(course_runs.graded[slug].result()))


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_release_is_current(slug, course_runs):
    """Gate 3."""
    graded = course_runs.graded[slug].result()
    assert graded.committed, f"notebooks/{slug}/{slug}.ipynb is missing; run `make release`"
    _assert_none(gates.release_current_problems(cells.read(graded.generated), cells.read(graded.committed), slug))


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_blank_release_runs_with_only_stub_errors(slug, course_runs):
    """Gate 7."""
    _assert_none(gates.blank_run_problems(cells.read(course_runs.graded[slug].result().blank_run), slug))


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_named_wrong_answers_fail_their_tests(slug, course_runs):
    """Gate 8."""
    _assert_none(course_runs.wrong[slug].result())


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_solution_outputs_are_readable(slug, course_runs):
    """Gate 11."""
    _assert_none(gates.readability_problems(cells.read(course_runs.graded[slug].result().solution_run), slug))


@pytest.mark.slow
@pytest.mark.parametrize("slug", sorted(PILOTS))
def test_pilots_own_solutions_keep_every_point(slug, course_runs):
    """Gate 13."""
    _assert_none(gates.pilot_problems(course_runs.graded[slug].result(), "pilot"))


# ------------------------------------------------------------------------------------------
# proof that every gate can fail: small fixture notebooks built with crmkit.course.authoring


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A tiny lesson that passes every gate, graded once with real nbgrader."""
    course = fx.make_course(tmp_path_factory.mktemp("good"))
    graded = gates.grade_copy(course_at(course), fx.SLUG, course / "work")
    return course, graded


def _source(course):
    return cells.read(course_at(course).source_notebook(fx.SLUG))


@pytest.mark.slow
def test_good_fixture_passes_every_gate(good):
    course, graded = good
    nb = _source(course)
    assert graded.solution.code_score == graded.solution.max_code_score == 3
    assert graded.blank.code_score == 0
    _assert_none(gates.solution_grade_problems(graded))
    _assert_none(gates.release_grade_problems(graded))
    _assert_none(gates.release_current_problems(cells.read(graded.generated), cells.read(graded.committed)))
    _assert_none(gates.leak_problems(nb, course / "notebooks"))
    _assert_none(gates.output_problems(course_at(course).source_notebook(fx.SLUG)))
    _assert_none(gates.output_problems(graded.committed))
    _assert_none(gates.metadata_problems(nb))
    _assert_none(gates.blank_run_problems(cells.read(graded.blank_run)))
    _assert_none(gates.wrong_answer_problems(nb, course))
    _assert_none(gates.data_reference_problems(nb))
    _assert_none(gates.wrong_count_problems(nb, "00_aloitus"))
    _assert_none(gates.readability_problems(cells.read(graded.solution_run)))
    _assert_none(gates.answer_in_visible_test_problems(nb))


def test_gate11_catches_scientific_notation_and_raw_reprs():
    run = a.notebook([a.code("x = 1")] * 3)
    run.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="myynti 3.131e+06 €\n")]
    run.cells[1].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "(np.float64(0.25), 1)"})]
    run.cells[2].outputs = [nbformat.v4.new_output("execute_result",
                                                   data={"text/plain": "<threadpoolctl.threadpool_limits at 0x7f3>"})]
    problems = gates.readability_problems(run, "x")
    assert len(problems) == 3 and "3.131e+06" in problems[0] and "np.float64(" in problems[1], problems
    run.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="myynti 3 131 000 €, 1e3 on luku\n")]
    assert len(gates.readability_problems(run, "x")) == 2


def test_gate12_catches_a_visible_test_that_repeats_the_filter():
    nb = a.notebook([
        a.answer("t1", "### BEGIN SOLUTION\nb2b = customers[customers['customer_type'] == 'B2B']\n"
                 "live = orders[orders['status'] != 'peruttu']\n### END SOLUTION", ["A1"], "1-2"),
        a.tests("t1_testit", "expected = customers[customers['customer_type'] == 'B2B']\n"
                "assert len(b2b) == len(expected), 'rivit'\nassert (live['status'] != 'peruttu').all(), 'peruttu'\n"
                "### BEGIN HIDDEN TESTS\nassert b2b.equals(customers[customers.customer_type.isin(['B2B'])])\n"
                "### END HIDDEN TESTS", 1, ["A1"], "1-2")])
    problems = gates.answer_in_visible_test_problems(nb, "x")
    assert problems == ["x: cell 2 (t1_testit) shows the solution's filter \"customers['customer_type'] == 'B2B'\" "
                        "in its visible part"], problems


BAD_STUB_TEST = '''"""Tarkistaa mitä sattuu."""
assert 1 + 1 == 2, "matematiikka"'''

BAD_HIDDEN = '''"""Tarkistaa osuuden."""
assert 0 <= osuus <= 1, "Osuus on luku väliltä 0–1."
### BEGIN HIDDEN TESTS
assert abs(osuus - 0.3) < 1e-9
### END HIDDEN TESTS'''


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """A lesson that breaks gates 1, 2 and 7 at once (one nbgrader run)."""
    cells = [
        a.markdown(f"# Huono\n\n{a.TOTAL_PHRASE} 2"),
        a.code(fx.SETUP, locked=True, cell_id="setup"),
        a.answer("t1", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", ["A1"], "1-2"),
        a.tests("t1_testit", BAD_STUB_TEST, 1, ["A1"], "1-2"),          # gate 2: passes on the stub
        a.answer("t2", "### BEGIN SOLUTION\nosuus = 0.25\n### END SOLUTION", ["A1"], "1-2"),
        a.tests("t2_testit", BAD_HIDDEN, 1, ["A1"], "1-2"),            # gate 1: solution fails hidden test
        a.code('print(f"Osuus on {osuus:.1%}")'),                       # gate 7: NameError when unanswered
    ]
    course = fx.make_course(tmp_path_factory.mktemp("bad"), cells)
    return gates.grade_copy(course_at(course), fx.SLUG, course / "work")


@pytest.mark.slow
def test_gate1_catches_a_solution_that_fails_its_tests(bad):
    problems = gates.solution_grade_problems(bad)
    assert any("t2_testit scored 0.0 of 1.0" in p for p in problems), problems
    assert any("cell 6 (t2_testit) fails" in p for p in problems), problems


@pytest.mark.slow
def test_gate2_catches_a_test_that_passes_on_the_stub(bad):
    problems = gates.release_grade_problems(bad)
    assert len(problems) == 1 and "t1_testit" in problems[0], problems


@pytest.mark.slow
def test_gate7_catches_an_error_outside_stubs_and_tests(bad):
    problems = gates.blank_run_problems(cells.read(bad.blank_run))
    assert len(problems) == 1 and "cell 7" in problems[0] and "NameError" in problems[0], problems


@pytest.mark.slow
def test_gate3_catches_a_stale_release(good):
    course, graded = good
    stale = cells.read(graded.committed)
    stale.cells[3].source += " (muokattu käsin)"
    problems = gates.release_current_problems(cells.read(graded.generated), stale)
    assert len(problems) == 1 and "cell 4" in problems[0], problems
    shorter = cells.read(graded.committed)
    shorter.cells.pop()
    assert gates.release_current_problems(cells.read(graded.generated), shorter)


def test_gate4_catches_leaks(tmp_path):
    nb = a.notebook(fx.good_cells())
    release = tmp_path / "notebooks" / fx.SLUG
    release.mkdir(parents=True)
    teacher_meta = a.code("x = 1")
    teacher_meta.metadata["crmkit"] = {"wrong": [a.wrong("w", "x = 2", "x")]}
    leaky = a.notebook([
        a.markdown("Vihje: osuus = 3 / 12"),             # not a whole line: no leak
        a.code("    osuus = 3 / 12"),                     # a solution line (indentation does not hide it)
        a.code("assert mediaani([5]) == 5.0"),            # a hidden test line
        a.markdown("### END HIDDEN TESTS"),               # a delimiter
        teacher_meta,                                     # teacher-only wrong answers
    ])
    nbformat.write(leaky, release / f"{fx.SLUG}.ipynb")
    (release / "vihje.txt").write_text("Mediaani ei reagoi yksittäisiin suuriin ostoihin.\n", encoding="utf-8")
    problems = gates.leak_problems(nb, tmp_path / "notebooks", fx.SLUG)
    text = "\n".join(problems)
    assert len(problems) == 5, text
    assert "cell 2 ('osuus = 3 / 12'): line 'osuus = 3 / 12' leaks the solution in cell 8" in text
    assert "line 'assert mediaani([5]) == 5.0' leaks the hidden test in cell 6" in text
    assert "delimiter 'END HIDDEN TESTS'" in text
    assert "vihje.txt" in text and "leaks the solution in cell 10" in text
    assert "carries crmkit.wrong" in text


def test_gate4_across_notebooks_catches_handed_out_answers_not_idioms(tmp_path):
    """Another notebook's release may share an idiom, but not a run of solution lines or a long one."""
    solution = a.answer("t9", "### BEGIN SOLUTION\nlive = orders[orders['status'] != 'peruttu']\n"
                        "margin = live['net'] - live['cost']\nby_customer = margin.groupby(live['customer_id']).sum()\n"
                        "share_of_top_fifth = by_customer.nlargest(len(by_customer) // 5).sum() / by_customer.sum()\n"
                        "return None\n### END SOLUTION", outcomes=["B3"], level="3-4")
    nb = a.notebook([solution])
    other = tmp_path / "notebooks" / "98_muu"
    other.mkdir(parents=True)
    idioms = a.code("live = orders[orders['status'] != 'peruttu']\nreturn None")
    handed_out = a.code("live = orders[orders['status'] != 'peruttu']\nmargin = live['net'] - live['cost']\n"
                        "by_customer = margin.groupby(live['customer_id']).sum()")
    long_line = a.code("x = by_customer.nlargest(len(by_customer) // 5).sum() / by_customer.sum()\n"
                       "share_of_top_fifth = by_customer.nlargest(len(by_customer) // 5).sum() / by_customer.sum()")
    nbformat.write(a.notebook([idioms]), other / "98_muu.ipynb")
    assert gates.leak_problems(nb, tmp_path / "notebooks", "97_tama") == []
    nbformat.write(a.notebook([idioms, handed_out, long_line]), other / "98_muu.ipynb")
    text = "\n".join(gates.leak_problems(nb, tmp_path / "notebooks", "97_tama"))
    assert "lines [\"live = orders" in text and "line 'share_of_top_fifth" in text, text
    assert "'return None' leaks" not in text


def test_gate5_catches_outputs(tmp_path):
    nb = a.notebook([a.code("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    problems = gates.output_problems(path)
    assert len(problems) == 2 and "outputs" in problems[0] and "execution count" in problems[1]


@pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId")
def test_gate6_catches_metadata_mistakes():
    cells = fx.good_cells(total=6)                                           # stated 6, points sum to 5
    cells[5].metadata["nbgrader"]["grade_id"] = "t1_mediaani"               # duplicate id
    cells[8].metadata["crmkit"]["outcomes"] = ["C9"]                        # unknown outcome
    cells[9].metadata["crmkit"]["level"] = "4"                              # unknown level
    cells[8].source += "\nosuus"                                            # ends in an expression
    del cells[4].metadata["crmkit"]                                          # no outcomes at all
    problems = "\n".join(gates.metadata_problems(a.notebook(cells)))
    for expected in ("grade_id 't1_mediaani' is also used", "unknown outcome id(s) ['C9']",
                     "crmkit.level '4'", "ends in an expression", "no crmkit.outcomes",
                     "states Pisteet yhteensä: 6, but the graded cells' points sum to 5"):
        assert expected in problems
    no_total = fx.good_cells()
    no_total[0].source = "# Ei pisteitä"
    assert "does not state the total" in "\n".join(gates.metadata_problems(a.notebook(no_total)))


@pytest.mark.slow
def test_gate8_catches_wrong_answers_that_do_not_fail(tmp_path):
    cells = fx.good_cells()
    cells[4].metadata["crmkit"]["wrong"] = [
        a.wrong("the right answer in disguise", "return float(pd.Series(arvot).quantile(0.5))", "keskiarvo"),
        a.wrong("message does not name it", "return 26.5", "mediaani puuttuu"),
    ]
    cells[7].metadata["crmkit"]["wrong"] = [
        a.wrong("only hidden tests catch it", "osuus = 0.26", "osuus"),
        a.wrong("badly indented", "osuus = 0.26\n  osuus = 0.3", "osuus"),
    ]
    problems = gates.wrong_answer_problems(a.notebook(cells), tmp_path)
    text = "\n".join(problems)
    assert len(problems) == 4, text
    assert "'badly indented': its code does not compile (unexpected indent" in text
    assert "'the right answer in disguise': no test cell after it fails" in text
    assert "'message does not name it': the tests fail, but no message contains 'mediaani puuttuu'" in text
    assert "'only hidden tests catch it': only hidden tests catch it" in text


def test_gate8_hidden_wrong_answers_must_fail_a_hidden_test_that_names_them(tmp_path):
    """A wrong answer marked hidden (naytto's form-only visible tests) passes the gate only when a test,
    hidden part included, fails with a message containing its ``expect``."""
    cells = fx.good_cells()
    cells[7].metadata["crmkit"]["wrong"] = [
        {**a.wrong("caught by the hidden test", "osuus = 0.26", "AssertionError"), "hidden": True},
        {**a.wrong("hidden message does not name it", "osuus = 0.26", "nimittäjä"), "hidden": True},
        {**a.wrong("the right answer, hidden", "osuus = 0.25", "osuus"), "hidden": True},
    ]
    problems = gates.wrong_answer_problems(a.notebook(cells), tmp_path)
    text = "\n".join(problems)
    assert len(problems) == 2, text
    assert "'hidden message does not name it': the tests (hidden ones included) fail, but no message contains 'nimittäjä'" in text
    assert "'the right answer, hidden': no test cell after it fails, hidden tests included" in text


def test_gate8_counts_wrong_answers():
    cells = fx.good_cells()                                                  # 3 wrong answers
    assert not gates.wrong_count_problems(a.notebook(cells), "03_segmentointi")
    cells[7].metadata["crmkit"]["wrong"].pop()                               # 2 left
    assert gates.wrong_count_problems(a.notebook(cells), "03_segmentointi")
    assert gates.wrong_count_problems(a.notebook(cells), "00_aloitus")       # 00 needs 3 as well
    del cells[4].metadata["crmkit"]["wrong"], cells[7].metadata["crmkit"]["wrong"]
    assert not gates.wrong_count_problems(a.notebook(cells), "projekti")     # the assessments need none


def test_gate9_catches_unknown_tables_and_columns():
    cells = [a.markdown("Sarakkeet `customers.customer_id`, `customers.asiakasnumero`, `asiakkaat.customer_id` "
                        "ja `df.head`."),
             a.code('from crmkit.runtime.data import read_table, load_world\nx = read_table("orders")\n'
                    'y = read_table("tilaukset")\nw = load_world(tables=["customers", "kampanjat"])')]
    problems = "\n".join(gates.data_reference_problems(a.notebook(cells)))
    assert "table customers has no column asiakasnumero" in problems
    assert "no table 'asiakkaat'" in problems
    assert "reads table 'tilaukset'" in problems and "reads table 'kampanjat'" in problems
    assert "'orders'" not in problems and "df.head" not in problems and len(problems.splitlines()) == 4


def test_replace_solution_keeps_the_skeleton():
    src = fx.ANSWER_1
    out = cells.replace_solution(src, "return 0.0")
    assert out.splitlines() == ["def mediaani(arvot):", '    """Palauta arvojen mediaani."""', "    return 0.0"]
