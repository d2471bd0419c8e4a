"""Driving JupyterLab 4 in a Playwright page: open a notebook, run its cells, read its outputs.

What a person does: URLs, the menu bar, the keyboard, clicks on widgets; running a whole notebook
cell by cell uses the command that Shift+Enter runs (see run_cell_by_cell). The state is read from
the DOM (the kernel indicator, the cells' input prompts, the output areas).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

#: Debian's Chromium (no browser is ever downloaded)
CHROMIUM = os.environ.get("CRMKIT_CHROMIUM", "/usr/bin/chromium")
#: Chromium flags for a headless run as root on a machine with a closed network (no sandbox as
#: root, no GPU, no connections to Google's services at start-up). Playwright adds --headless and a
#: fresh temporary --user-data-dir itself.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: every notebook cell in document order (the tests' JupyterLab settings use the windowing mode
#: 'contentVisibility', which keeps every cell in the DOM; text is read with textContent, which
#: does not depend on layout)
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"
#: JupyterLab renders error outputs (tracebacks) and stderr streams with this MIME type
STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
#: the last line of a Python traceback: ``NameError: name 'x' is not defined``
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration))(?::|$)")

CELL_TIMEOUT_MS = 240_000


@contextmanager
def launched_chromium() -> Iterator:
    """Debian's Chromium, headless, launched by Playwright; closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


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


def wait_all_run(page, timeout_ms: int = 300_000) -> None:
    """Wait until Run All has finished: every code cell has an execution count and the kernel is
    idle -- or, after an error (JupyterLab then stops and clears the queued cells' prompts), until
    no cell is queued any more; the caller checks the errors and the prompts."""
    page.wait_for_function("""([sel, err]) => {
        // execution counts from the notebook model: a cell whose input is collapsed
        // (metadata jupyter.source_hidden, as the explorers' code is) shows no input prompt
        const panel = window.jupyterapp.shell.currentWidget;
        const models = panel.content.widgets.filter(w => w.model.type === 'code').map(w => w.model);
        if (models.length && models.every(m => m.executionCount !== null)) return true;
        const cells = Array.from(document.querySelectorAll(sel)).filter(c => c.classList.contains('jp-CodeCell'));
        const prompt = c => ((c.querySelector('.jp-InputPrompt') || {}).textContent || '').trim();
        return !!document.querySelector(sel + ' ' + err) && !cells.some(c => prompt(c) === '[*]:');
    }""", arg=[CELLS, STDERR], timeout=timeout_ms, polling=250)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def run_cell_by_cell(page, n_cells: int) -> list[int]:
    """Run every cell from the top as a student does with Shift+Enter, each cell after the previous
    one has finished; returns each cell's milliseconds.

    Not Run All: JupyterLab sends every cell with ``stop_on_error``, so Run All stops at the first
    stub's NotImplementedError and the cells after it never run. Shift+Enter is JupyterLab's
    command ``notebook:run-cell-and-select-next``; the loop runs that command in the page (the
    server exposes the app as ``window.jupyterapp``) and awaits each execution, which is three
    times faster than a key press and a DOM poll per cell from Python on a loaded machine. The last
    cell runs with ``notebook:run-cell`` (Ctrl+Enter), so that no new cell is added.
    """
    return page.evaluate("""async ([n, timeoutMs]) => {
        const app = window.jupyterapp;
        const notebook = app.shell.currentWidget.content;
        const times = [];
        for (let i = 0; i < n; i++) {
            const t0 = performance.now();
            notebook.activeCellIndex = i;
            const command = i === n - 1 ? 'notebook:run-cell' : 'notebook:run-cell-and-select-next';
            let timer;
            const timeout = new Promise((_, reject) => { timer = setTimeout(
                () => reject(new Error(`cell ${i} did not finish in ${timeoutMs / 1000} s`)), timeoutMs); });
            await Promise.race([app.commands.execute(command), timeout]);
            clearTimeout(timer);
            times.push(Math.round(performance.now() - t0));
        }
        return times;
    }""", [n_cells, CELL_TIMEOUT_MS])


def stderr_outputs(page) -> list[tuple[int, str]]:
    """(cell index, text) of every error/stderr output shown in the notebook."""
    return [(i, t) for i, t in page.evaluate("""([sel, err]) => {
        const found = [];
        document.querySelectorAll(sel).forEach((c, i) =>
            c.querySelectorAll(err).forEach(o => found.push([i, o.textContent])));
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
