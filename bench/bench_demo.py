"""Time `crmkit demo` (the main job) on a temporary copy of the course; prints the wall time.

Usage: python bench/bench_demo.py [STUDENTS] [SLUG …]   (default 20 students, every assignment)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from crmkit import cli
from crmkit.engine.jupyter_env import isolate_jupyter_state

ROOT = Path(__file__).resolve().parents[1]  # this repository: the course the benchmarks measure


def main() -> None:
    students = sys.argv[1] if len(sys.argv) > 1 else "20"
    slugs = sys.argv[2:]
    isolate_jupyter_state()
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        course = Path(tmp) / "course"
        course.mkdir()
        shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(ROOT / "solutions", course / "solutions")
        (course / "grading").mkdir()
        shutil.copyfile(ROOT / "grading" / "policy.toml", course / "grading" / "policy.toml")
        t0 = time.perf_counter()
        code = cli.main(["demo", "--course-dir", str(course), "--students", students, *slugs])
        took = time.perf_counter() - t0
    print(f"crmkit demo --students {students} {' '.join(slugs) or '(all assignments)'}: {took:.0f} s "
          f"({took / 60:.1f} min; target ≤ 8 min on 2 cores), exit {code}")


if __name__ == "__main__":
    main()
