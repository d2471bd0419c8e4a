"""The kit in a real browser: JupyterLab runs every released notebook, the lessons' widgets react,
and nbgrader's Formgrader and Assignments pages list the kit's assignments.

See conftest.py for the server (a temporary copy of the course, always stopped by pid) and the
browser (Debian's Chromium through Playwright). Screenshots: screenshots/browser/<test>*.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import labpage as lab
import nbformat
import pytest
from repo import ROOT

from crmkit.engine import cells

pytestmark = pytest.mark.browser

RELEASES = sorted(p.parent.name for p in (ROOT / "notebooks").glob("*/*.ipynb") if p.stem == p.parent.name)
SLUGS = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)

#: How an unanswered (blank) release may fail in the browser, and nothing else:
#: - an answer cell (nbgrader ``solution: true, grade: false``) only with the stub's
#:   NotImplementedError;
#: - a test cell (``grade: true, solution: false``) with what a test does on an unanswered
#:   exercise: AssertionError (an ``assert`` on a ``None`` placeholder), NotImplementedError (the
#:   test calls a stubbed function), NameError (the stub never defined the answer's name).
#: Every other error, and any stderr text that is no traceback (a warning), fails the test.
ANSWER_FAILURES = {"NotImplementedError"}
TEST_FAILURES = {"AssertionError", "NotImplementedError", "NameError"}


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("slug", RELEASES)
def test_released_notebook_runs_with_only_stub_errors(lab_server, page, shot, slug):
    """Open notebooks/<slug>/<slug>.ipynb in JupyterLab, run every cell (Shift+Enter from the top,
    each after the previous one finished), save (Ctrl+S); the only errors shown are the stubs' and
    the tests' of unanswered exercises, and the saved notebook holds the same errors."""
    rel = f"notebooks/{slug}/{slug}.ipynb"
    nb = _read(lab_server.course / rel)
    lab.open_notebook(page, lab_server, rel, len(nb.cells))
    shot("opened")
    started = time.monotonic()
    lab.run_cell_by_cell(page, len(nb.cells))
    ran = time.monotonic() - started
    page.wait_for_selector(lab.IDLE)
    found = lab.stderr_outputs(page)
    shot("run")
    first_error = page.locator(f"{lab.CELLS} {lab.STDERR}").first
    if found:
        first_error.scroll_into_view_if_needed()
        shot("first-error")
    lab.save(page)

    problems = []
    for i, text in found:
        cell, name = nb.cells[i], lab.exception_name(text)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "-")
        allowed = (ANSWER_FAILURES if cells.is_answer(cell) else TEST_FAILURES if cells.is_test(cell) else set())
        if name not in allowed:
            tail = "\n    ".join(text.strip().splitlines()[-4:])
            problems.append(f"cell {i} ({grade_id}): {name or 'stderr output'}:\n    {tail}")
    assert not problems, f"{rel}: errors other than unanswered stubs and tests:\n" + "\n".join(problems)

    stubs = [i for i, text in found if lab.exception_name(text) == "NotImplementedError"
             and cells.is_answer(nb.cells[i])]
    answers = [i for i, c in enumerate(nb.cells) if cells.is_answer(c)]
    assert stubs, f"{rel}: no stub raised NotImplementedError in the browser (answer cells {answers})"

    # what the page showed is what the kernel produced: the saved notebook holds the same errors
    saved = _read(lab_server.course / rel)
    assert len(saved.cells) == len(nb.cells)
    in_file = [(i, o.get("ename")) for i, c in enumerate(saved.cells) if c.cell_type == "code"
               for o in c.get("outputs", []) if o.get("output_type") == "error"]
    shown = [(i, lab.exception_name(t)) for i, t in found if lab.exception_name(t)]
    assert shown == in_file, f"{rel}: errors shown in the page {shown} differ from the saved notebook's {in_file}"
    unrun = [i for i, c in enumerate(saved.cells) if c.cell_type == "code" and not c.get("execution_count")]
    assert not unrun, f"{rel}: cells {unrun} did not run"
    print(f"{slug}: {len(nb.cells)} cells ran in {ran:.0f} s; {len(found)} expected failures")


# ------------------------------------------------------------------------------------------------
# widgets: in the SOLUTION notebooks (the blank release's explorers wait for the exercises)


def _change_dropdown(cell):
    select = cell.locator(".widget-dropdown select").first
    options = select.locator("option").all_text_contents()
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    other = next(o for o in options if o != current)
    select.select_option(label=other)
    return f"dropdown {current!r} -> {other!r}"


def _slider_right(index: int = 0, presses: int = 1):
    def change(cell):
        slider = cell.locator(".widget-slider").nth(index)
        before = slider.locator(".widget-readout").inner_text()
        slider.locator(".noUi-handle").first.click()
        for _ in range(presses):
            slider.locator(".noUi-handle").first.press("ArrowRight")
        after = slider.locator(".widget-readout").inner_text()
        assert after != before, f"the slider did not move (readout {before!r})"
        return f"slider {index}: {before} -> {after}"
    return change


#: lesson -> (a text that only its explorer cell's code holds, how to change the widget)
WIDGETS = {
    "00_aloitus": ("widgets.Dropdown(options=sorted(sold_orders", _change_dropdown),  # channel explorer
    "03_segmentointi": ("k_pick = widgets.IntSlider", _slider_right(0)),  # k of k-means
    "06_kannattavuus": ("rate_slider = widgets.FloatSlider", _slider_right(0, presses=2)),  # CLV discount rate
}


def _output_signature(page, index: int) -> tuple[list[str], str]:
    """(the plots' image data, the text of tables and prints) of the explorer's output widget."""
    return tuple(page.evaluate("""([sel, i]) => {
        const area = document.querySelectorAll(sel)[i].querySelector('.widget-output');
        if (!area) return [[], ''];
        return [Array.from(area.querySelectorAll('img')).map(img => img.src), area.innerText];
    }""", [lab.CELLS, index]))


@pytest.mark.parametrize("slug", [s for s in WIDGETS if s in SLUGS])
def test_widget_changes_its_output(lab_server, page, shot, slug):
    """Open solutions/<slug>/<slug>.ipynb, Run → Run All Cells; change the explorer's widget; its
    plot or table changes."""
    marker, change = WIDGETS[slug]
    rel = f"solutions/{slug}/{slug}.ipynb"
    nb = _read(lab_server.course / rel)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)
    lab.open_notebook(page, lab_server, rel, len(nb.cells))
    lab.menu(page, "Run", "Run All Cells")
    lab.wait_all_run(page)
    errors = [(i, lab.exception_name(t) or t.strip()[-300:]) for i, t in lab.stderr_outputs(page)]
    assert not errors, f"{rel}: Run All Cells shows errors in the solution: {errors[:3]}"

    cell = page.locator(lab.CELLS).nth(index)
    cell.locator(".widget-output").first.wait_for()
    page.wait_for_function("""([sel, i]) => {
        const a = document.querySelectorAll(sel)[i].querySelector('.widget-output');
        return a && (a.querySelector('img') || a.querySelector('table'));
    }""", arg=[lab.CELLS, index], timeout=120_000)
    output = cell.locator(".jp-Cell-outputWrapper")
    output.scroll_into_view_if_needed()
    before = _output_signature(page, index)
    shot("before-output", output)
    shot("before")

    what = change(cell)
    page.wait_for_function("""([sel, i, imgs, text]) => {
        const a = document.querySelectorAll(sel)[i].querySelector('.widget-output');
        if (!a || !(a.querySelector('img') || a.querySelector('table'))) return false;
        const now = Array.from(a.querySelectorAll('img')).map(img => img.src);
        return JSON.stringify(now) !== JSON.stringify(imgs) || a.innerText !== text;
    }""", arg=[lab.CELLS, index, before[0], before[1]], timeout=120_000)
    page.wait_for_selector(lab.IDLE)
    after = _output_signature(page, index)
    output.scroll_into_view_if_needed()
    shot("after-output", output)
    shot("after")
    assert after != before, f"{slug}: {what} did not change the explorer's output"
    assert after[0] != before[0] or after[1] != before[1]
    print(f"{slug}: {what}; plots {len(before[0])} -> {len(after[0])}, changed: "
          f"image={after[0] != before[0]}, text={after[1] != before[1]}")


# ------------------------------------------------------------------------------------------------
# nbgrader's pages: the teacher's Formgrader, the student's Assignments


RELEASED = "00_aloitus" if "00_aloitus" in RELEASES else RELEASES[0]


@pytest.fixture(scope="session")
def released(lab_server) -> str:
    """One assignment released to the course copy's exchange, as a teacher does with
    ``nbgrader release_assignment`` (from the committed release in notebooks/)."""
    lab_server.nbgrader("release_assignment", RELEASED, "--force")
    return RELEASED


def _open_lab(page, server):
    page.goto(server.url("lab?reset"))
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=120_000)


def test_formgrader_lists_the_assignments(lab_server, released, page, shot):
    """JupyterLab's menu Nbgrader → Formgrader: 'Manage Assignments' lists every solutions/<slug>;
    the released one has the status 'released'."""
    _open_lab(page, lab_server)
    lab.menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("iframe[src*='formgrader']")
    frame.get_by_role("heading", name="Manage Assignments").wait_for(timeout=120_000)
    for slug in SLUGS:
        frame.get_by_role("link", name=slug, exact=True).first.wait_for(timeout=120_000)
    rows = frame.locator("table tbody tr").all_inner_texts()
    shot()
    names = {row.split()[0]: row for row in rows if row.split()}
    assert set(SLUGS) <= set(names), f"formgrader lists {sorted(names)}; the kit has {SLUGS}"
    assert "released" in names[released].split(), f"{released} is not shown as released: {names[released]!r}"


def test_student_assignment_list_shows_a_released_assignment(lab_server, released, page, shot):
    """The student's menu Nbgrader → Assignment List lists the released assignment under the
    course; its Fetch button downloads it into the student's folder (the server's root)."""
    _open_lab(page, lab_server)
    lab.menu(page, "Nbgrader", "Assignment List")
    panel = page.locator("#released_assignments_list")
    panel.get_by_text(released).first.wait_for(timeout=120_000)
    shot("released")
    panel.get_by_role("button", name="Fetch").first.click()
    page.locator("#fetched_assignments_list").get_by_text(released).first.wait_for(timeout=120_000)
    shot("fetched")
    assert (lab_server.course / released / f"{released}.ipynb").is_file()
