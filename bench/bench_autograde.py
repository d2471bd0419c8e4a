"""Serial `nbgrader autograde` vs `crmkit autograde --jobs 2` on the same class, in one run.

The class: N submissions of 00_aloitus (default 20, the demo's class: strong, typical and weak
copies of the solution with named wrong answers, from crmkit.course.demo_class), in two temporary copies
of the course. Prints both wall times, the ratio of throughputs and whether every cell's score is
equal. With ``--cold`` a third run grades with a fresh kernel per student (no warm zygote), to
show what the warm kernels add. Usage: python bench/bench_autograde.py [N] [JOBS] [--cold]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from crmkit.course import demo_class
from crmkit.engine import cells, nbg
from crmkit.engine.autograde import batch as ag
from crmkit.engine.autograde.sandbox import Limits, sandbox_available
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.jupyter_env import isolate_jupyter_state

ROOT = Path(__file__).resolve().parents[1]  # this repository: the course the benchmarks measure

SLUG = "00_aloitus"


def course_copy(base: Path) -> Path:
    course = base / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / SLUG, course / "solutions" / SLUG)
    nbg.generate(CourseDir.load(course), SLUG)
    return course


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 20
    jobs = int(args[1]) if len(args) > 1 else 2
    cold = "--cold" in sys.argv
    isolate_jupyter_state()
    with tempfile.TemporaryDirectory(prefix="bench-ag-") as tmp:
        a, b = course_copy(Path(tmp) / "serial"), course_copy(Path(tmp) / "parallel")
        c = course_copy(Path(tmp) / "cold") if cold else None
        src, rel = cells.read(CourseDir.load(a).source_notebook(SLUG)), cells.read(CourseDir.load(a).release_notebook(SLUG))
        roster = [(f"s{i:02d}", ["strong", "typical", "weak"][i % 3]) for i in range(n)]
        for course in (a, b, c) if cold else (a, b):
            for student, profile in roster:
                nb = demo_class.student_notebook(src, rel, profile, f"{student}:{SLUG}")
                demo_class._write_submission(course, SLUG, student, nbformat.writes(nb).encode())
        t0 = time.perf_counter()
        nbg.autograde(CourseDir.load(a), SLUG, None)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = ag.autograde(SLUG, b, jobs=jobs, limits=Limits(), progress=False, say=lambda s: None)
        parallel = time.perf_counter() - t0
        if cold:
            t0 = time.perf_counter()
            ag.autograde(SLUG, c, jobs=jobs, limits=Limits(), progress=False, warm=False, say=lambda s: None)
            unwarmed = time.perf_counter() - t0
        equal = all([(c.name, c.score) for c in nbg.scores(CourseDir.load(a), SLUG, s).cells]
                    == [(c.name, c.score) for c in nbg.scores(CourseDir.load(b), SLUG, s).cells] for s, _ in roster)
        print(f"class: {n} submissions of {SLUG}; sandbox: {sandbox_available()[1]}")
        print(f"serial nbgrader autograde:      {serial:7.1f} s  ({n / serial:.2f} submissions/s)")
        print(f"crmkit autograde --jobs {jobs}:     {parallel:7.1f} s  ({n / parallel:.2f} submissions/s)")
        if cold:
            print(f"  same, a fresh kernel per student: {unwarmed:7.1f} s  (ratio {serial / unwarmed:.2f}x)")
        print(f"throughput ratio (crmkit / nbgrader): {serial / parallel:.2f}x")
        print(f"scores equal for every cell of every student: {equal}; statuses: "
              + ", ".join(sorted({o.status for o in out})))


if __name__ == "__main__":
    main()
