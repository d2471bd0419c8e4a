"""Benchmark: how long each solution notebook takes to run top to bottom (the 20 s budget per lesson).

Executes every solutions/<slug>/<slug>.ipynb with nbclient in a scratch copy (nothing in the repo
is written), prints the wall time of kernel start + execution and of the cells alone, and flags
notebooks over the budget. Run with `make bench` (or `python bench/bench_notebooks.py [SLUG …]`).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from crmkit.engine.autograde.kernelclient import ipc_kernel_manager
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.jupyter_env import isolate_jupyter_state

ROOT = Path(__file__).resolve().parents[1]  # this repository: the course the benchmarks measure

BUDGET_S = 20.0


def run_once(slug: str) -> tuple[float, float]:
    """(total seconds incl. kernel start, seconds spent in cells) for one solution notebook."""
    src = CourseDir.load(ROOT).source_notebook(slug)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / slug
        shutil.copytree(src.parent, work)
        nb = nbformat.read(work / src.name, as_version=4)
        t0 = time.perf_counter()
        with ipc_kernel_manager() as km:
            client = NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(work)}})
            cell_time = 0.0
            with client.setup_kernel():
                for i, cell in enumerate(nb.cells):
                    t = time.perf_counter()
                    client.execute_cell(cell, i)
                    cell_time += time.perf_counter() - t
        return time.perf_counter() - t0, cell_time


def main(slugs: list[str]) -> None:
    """Run the benchmark for the given slugs (default: every assignment) and print a table."""
    isolate_jupyter_state()
    slugs = slugs or CourseDir.load(ROOT).assignments()
    print(f"{'notebook':22} {'total s':>8} {'cells s':>8}  budget {BUDGET_S:g} s (cells)")
    for slug in slugs:
        total, cells = run_once(slug)
        flag = "  OVER" if cells > BUDGET_S else ""
        print(f"{slug:22} {total:8.1f} {cells:8.1f}{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])
