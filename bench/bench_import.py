"""Importing a company's flat sales export: lines per second and peak memory.

A made-up online wholesaler's export of N invoice lines (tests/fixtures/flat/make_flat_export.py:
cancellations, rows without a customer, delivery and service lines, huge invoices …) is imported
with ``crmkit import MAPPING --out DIR`` in a child process; printed: the wall time, lines per
second and the child's peak resident memory, against the targets (≥ 100 000 lines/s, < 2 GB), and the
child's CPU time (on a busy machine the wall time also counts the wait for a core).
Usage: python bench/bench_import.py [N] (default 1 000 000).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # this repository
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "flat"))

import make_flat_export  # noqa: E402 - the fixture's generator


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        t0 = time.perf_counter()
        mapping = make_flat_export.write(Path(tmp), rows=n, months=25)
        made = time.perf_counter() - t0
        lines = sum(1 for _ in open(Path(tmp) / "myynti.csv", encoding="utf-8")) - 1
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "crmkit", "import", str(mapping), "--out", str(Path(tmp) / "out"),
                               "--course-dir", str(ROOT)], capture_output=True, text=True)
        took = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    if proc.returncode:
        sys.exit(f"import failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    print(f"export: {lines:,} lines (made in {made:.1f} s)".replace(",", " "))
    print(f"crmkit import --out: {took:.1f} s, {lines / took:,.0f} lines/s (target ≥ 100 000), "
          f"peak memory {peak_mb:,.0f} MB (target < 2 000 MB)".replace(",", " "))
    # on a shared machine the wall time includes waiting for a core: the CPU time says what the import costs
    print(f"  CPU time {cpu:.1f} s ({lines / cpu:,.0f} lines per CPU second); load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores".replace(",", " "))


if __name__ == "__main__":
    main()
