"""crmkit.runtime.lesson: the setup every notebook's locked cell calls, and why it routes warnings to stdout.

nbgrader scores a test cell 0 if it wrote anything to stderr. A pandas 3 ChainedAssignmentError
warning raised inside a student's function (called from a test cell) is harmless, but without
crmkit.runtime.lesson.setup() it would cost the student the points (gate 10).
"""

from __future__ import annotations

import warnings

import nbfixtures as fx
import pandas as pd
import pytest
from repo import course_at

import crmkit
from crmkit.course import authoring as a
from crmkit.engine import cells, nbg
from crmkit.runtime import lesson

CHAINED = '''def paivita(df):
    """Yrittää muuttaa ensimmäisen rivin arvoa ketjutetulla sijoituksella."""
    ### BEGIN SOLUTION
    df["a"][0] = 1  # ketjutettu sijoitus: pandas 3 varoittaa, eikä mitään muutu
    return len(df)
    ### END SOLUTION'''

CHAINED_TEST = '''"""Funktio palauttaa rivien määrän."""
assert paivita(pd.DataFrame({"a": [0, 1]})) == 2, "Palauta rivien määrä."'''


def _cells(setup_source: str) -> list:
    return [
        a.markdown(f"# Varoitukset\n\n{a.TOTAL_PHRASE} 1"),
        a.code(setup_source, locked=True, cell_id="setup"),
        a.answer("t1", CHAINED, ["A1"], "1-2"),
        a.tests("t1_testit", CHAINED_TEST, 1, ["A1"], "1-2"),
    ]


def test_pandas_really_warns_on_chained_assignment():
    df = pd.DataFrame({"a": [0, 1]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df["a"][0] = 1
    assert any(w.category.__name__ == "ChainedAssignmentError" for w in caught)


@pytest.mark.slow
def test_setup_keeps_a_pandas_warning_from_costing_points(tmp_path):
    """Gate 10: without setup() nbgrader gives 0, with it full points (warning still shown)."""
    without = fx.make_course(tmp_path / "without", _cells("import pandas as pd"), slug="98_ilman")
    with_setup = fx.make_course(tmp_path / "with", _cells(fx.SETUP), slug="97_kanssa")
    results = {}
    for course, slug in ((without, "98_ilman"), (with_setup, "97_kanssa")):
        nbg.submit(course_at(course), slug, "opiskelija", course_at(course).source_notebook(slug))
        nbg.autograde(course_at(course), slug, "opiskelija")
        results[slug] = nbg.scores(course_at(course), slug, "opiskelija")
    assert results["98_ilman"].code_score == 0
    assert results["97_kanssa"].code_score == results["97_kanssa"].max_code_score == 1
    run = cells.read(course_at(with_setup).autograded_notebook("97_kanssa", "opiskelija"))
    test_cell = next(c for c in run.cells if cells.is_test(c))
    stdout = "".join(o.get("text", "") for o in test_cell.outputs if o.get("name") == "stdout")
    assert "ChainedAssignmentError" in stdout  # the student still sees the warning


def test_setup_is_quiet_and_routes_warnings(capsys):
    saved = warnings.showwarning
    try:
        assert lesson.setup(min_version="0.0.1") is None
        warnings.warn("kokeilu", UserWarning)
        out = capsys.readouterr()
        assert "kokeilu" in out.out and out.err == ""
    finally:
        warnings.showwarning = saved
    assert pd.get_option("display.max_columns") == 40


def test_stale_environment_gets_a_finnish_message():
    with pytest.raises(lesson.VanhaYmparisto, match="make setup"):
        lesson.setup(min_version="999.0")
    lesson.check_version(crmkit.__version__)


def test_numbers_in_tables_are_finnish_and_never_scientific():
    """lesson.setup() shows floats in Finnish format with the decimals a decision needs."""
    import pandas as pd

    assert lesson.fi_number(3_094_000.4) == "3 094 000" and lesson.fi_number(509.385) == "509,4"
    assert lesson.fi_number(0.5002) == "0,5002" and lesson.fi_number(0.0988) == "0,0988"
    assert lesson.fi_number(7.042e-04) == "0,000704" and lesson.fi_number(float("nan")) == ""
    assert lesson.fi_number(-0.001, 2) == "0,00" and lesson.fi_number(-0.5, 0) == "0" and lesson.fi_number(-2.5, 1) == "-2,5"
    assert lesson.fi_number(0.0) == "0" and lesson.fi_number(87.0) == "87" and lesson.fi_number(87.5) == "87,50"
    with pd.option_context("display.float_format", None):
        lesson.set_display()
        text = repr(pd.DataFrame({"sales": [3.131e6, 8.552e6], "share": [7.042e-4, 0.25]}))
        assert "e+06" not in text and "e-04" not in text and "3 131 000" in text and "0,000704" in text


def test_a_skipped_check_names_the_missing_data_and_the_teacher(capsys):
    lesson.skip_check("kuluttaja-asiakkaita (B2C)")
    out = capsys.readouterr().out
    assert out.startswith("Huom: aineistossa ei ole kuluttaja-asiakkaita (B2C):")
    assert "opettaja arvioi sen käsin" in out


def test_each_column_has_one_number_of_decimals():
    """A column's numbers line up: a share column keeps four decimals for its whole numbers too
    (``1,0000`` above ``0,8704``), euros the decimals of their typical value, integers get
    thousands spaces; text, booleans and missing values stay as pandas shows them."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"retention": [1.0, 0.8704, np.nan], "median": [499.0, 1090.7, 45.54],
                          "mixed": [12500.5, 30200.25, 0.03],
                          "orders": [10466, 4273, 12], "name": ["a", "b", "c"], "ok": [True, False, True]})
    shown = lesson.finnish_frame(frame)
    assert list(shown["retention"]) == ["1,0000", "0,8704", "NaN"]
    assert list(shown["median"]) == ["499,0", "1 090,7", "45,5"]
    assert list(shown["orders"]) == ["10 466", "4 273", "12"]
    assert list(shown["mixed"]) == ["12 500", "30 200", "0,0300"]  # not 0: a small value keeps its decimals
    rounded = lesson.finnish_frame(pd.DataFrame({"share": [0.655, 0.26, 1.0], "pp": [0.42, 0.3, 0.5]}))
    assert list(rounded["share"]) == ["0,655", "0,260", "1,000"]  # rounded by the student to 3 decimals
    assert list(rounded["pp"]) == ["0,42", "0,30", "0,50"]
    years = lesson.finnish_frame(pd.DataFrame({"birth_year": [1984, 2001], "vuosi": [2024.0, np.nan],
                                               "years_as_customer": [2, 12], "cust_id": [1516, 23570]}))
    assert list(years["birth_year"]) == ["1984", "2001"] and list(years["vuosi"]) == ["2024", "NaN"]
    assert list(years["years_as_customer"]) == ["2", "12"] and list(years["cust_id"]) == ["1516", "23570"]
    assert list(shown["name"]) == ["a", "b", "c"] and list(shown["ok"]) == [True, False, True]
    assert frame["retention"].dtype == float  # the student's own table is not changed


def test_a_long_table_formats_only_the_rows_it_shows():
    import pandas as pd

    frame = pd.DataFrame({"sales": [float(i) + 0.5 for i in range(10_000)]})
    text = repr(lesson.finnish_frame(frame))
    assert "10000 rows x 1 columns" in text and "9 999,5" in text and "0,5" in text


def test_notebooks_display_tables_with_finnish_numbers():
    """In a kernel (an IPython shell), set_display() makes DataFrames and Series display through
    finnish_frame, in HTML and in plain text."""
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history database to write at exit
    shell = InteractiveShell.instance(config=config)
    try:
        with pd.option_context("display.float_format", None):
            lesson.set_display()
            data, _ = shell.display_formatter.format(pd.DataFrame({"share": [1.0, 0.8704]}))
            assert "1,0000" in data["text/html"] and "0,8704" in data["text/plain"]
            data, _ = shell.display_formatter.format(pd.Series([1.0, 0.8704], name="share"))
            assert "1,0000" in data["text/plain"] and "Name: share, dtype: float64" in data["text/plain"]
    finally:
        InteractiveShell.clear_instance()
