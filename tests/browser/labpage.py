"""Driving JupyterLab 4 in a Playwright page: open a notebook, run its cells, read its outputs.

Only what a person does: URLs, the menu bar, keyboard (Shift+Enter) and clicks on widgets. The
state is read from the DOM (the kernel indicator, the cells' input prompts, the output areas).
"""

from __future__ import annotations

import re

#: every notebook cell in document order (the tests' JupyterLab settings turn windowing off, so
#: every cell is in the DOM)
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"
#: JupyterLab renders error outputs (tracebacks) and stderr streams with this MIME type
STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
#: the last line of a Python traceback: ``NameError: name 'x' is not defined``
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration))(?::|$)")

CELL_TIMEOUT_MS = 240_000


def open_notebook(page, server, relpath: str, n_cells: int) -> None:
    """Open ``relpath`` (relative to the course copy) in a fresh workspace and wait until all its
    cells are rendered and its kernel is idle."""
    page.goto(server.url(f"lab/tree/{relpath}?reset"))
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n", arg=[CELLS, n_cells],
                           timeout=120_000)
    page.wait_for_selector(IDLE, timeout=120_000)
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=120_000)


def menu(page, *labels: str) -> None:
    """Click through the menu bar: ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).click()
    for label in labels[1:]:
        page.locator(".lm-Menu:visible .lm-Menu-itemLabel",
                     has_text=re.compile(f"^{re.escape(label)}$")).first.click()


def prompts(page) -> list[str]:
    """The input prompts of all cells ('' for markdown cells), e.g. ``['', '[1]:', '[*]:', '[ ]:']``."""
    return page.evaluate("""(sel) => Array.from(document.querySelectorAll(sel)).map(c => {
        const p = c.querySelector('.jp-InputPrompt');
        return c.classList.contains('jp-CodeCell') && p ? p.textContent.trim() : '';
    })""", CELLS)


def wait_all_run(page, timeout_ms: int = 600_000) -> None:
    """Wait until every code cell has an execution count and the kernel is idle (after Run All)."""
    page.wait_for_function("""(sel) => {
        const cells = Array.from(document.querySelectorAll(sel)).filter(c => c.classList.contains('jp-CodeCell'));
        return cells.length > 0 && cells.every(c => /^\\[\\d+\\]:$/.test(
            (c.querySelector('.jp-InputPrompt') || {}).textContent?.trim() || ''));
    }""", arg=CELLS, timeout=timeout_ms, polling=250)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def run_cell_by_cell(page, n_cells: int) -> None:
    """Run every cell as a student does, Shift+Enter from the top, waiting for each code cell to
    finish before the next (Ctrl+Enter on the last, so that no new cell is added).

    Not Run All: JupyterLab sends every cell with ``stop_on_error``, so Run All stops at the first
    stub's NotImplementedError and the cells after it never run.
    """
    cells = page.locator(CELLS)
    cells.first.locator(".jp-Cell-inputWrapper").click()
    page.keyboard.press("Escape")  # command mode
    for i in range(n_cells):
        page.wait_for_function("([sel, i]) => document.querySelectorAll(sel)[i].classList.contains('jp-mod-active')",
                               arg=[CELLS, i], timeout=30_000)
        code = "jp-CodeCell" in (cells.nth(i).get_attribute("class") or "")
        page.keyboard.press("Control+Enter" if i == n_cells - 1 else "Shift+Enter")
        if code:
            page.wait_for_function("""([sel, i]) => /^\\[\\d+\\]:$/.test(
                document.querySelectorAll(sel)[i].querySelector('.jp-InputPrompt').textContent.trim())""",
                                   arg=[CELLS, i], timeout=CELL_TIMEOUT_MS, polling=100)
    page.wait_for_selector(IDLE, timeout=CELL_TIMEOUT_MS)


def stderr_outputs(page) -> list[tuple[int, str]]:
    """(cell index, text) of every error/stderr output shown in the notebook."""
    return [(i, t) for i, t in page.evaluate("""([sel, err]) => {
        const found = [];
        document.querySelectorAll(sel).forEach((c, i) =>
            c.querySelectorAll(err).forEach(o => found.push([i, o.innerText])));
        return found;
    }""", [CELLS, STDERR])]


def exception_name(text: str) -> str | None:
    """The exception class named by a traceback's text (its last ``Name: message`` line), or None
    for stderr text that is no traceback (a warning)."""
    for line in reversed(text.strip().splitlines()):
        m = _EXC_LINE.match(line.strip())
        if m:
            return m.group(1).rsplit(".", 1)[-1]
    return None


def save(page) -> None:
    """Save the notebook (Ctrl+S in command mode) and wait until the tab is no longer dirty."""
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_function("""() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')""",
                           timeout=60_000)


def output_html(page, cell_index: int, inner: str = ".widget-output") -> str:
    """The HTML of the widget output area in cell ``cell_index`` ('' if none)."""
    return page.evaluate("""([sel, i, inner]) => {
        const el = document.querySelectorAll(sel)[i].querySelector(inner);
        return el ? el.innerHTML : '';
    }""", [CELLS, cell_index, inner])
