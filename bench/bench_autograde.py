"""Autograding a class over the course: serial `nbgrader autograde`, `crmkit autograde`, and the
physical limit, measured in one run.

The class: ``--per N`` submissions of each assignment (strong, typical and weak copies of the
solution with named wrong answers, from crmkit.course.demo_class), in two temporary copies of the
course. Then

* **serial nbgrader**: ``nbgrader autograde SLUG`` for each assignment, one after the other (the
  baseline);
* **crmkit**: ``crmkit autograde`` of every assignment in one batch with ``--jobs J`` (sandboxed,
  warm kernels);
* **the physical limit**: the cells' own execution time summed over every submission (read from
  the serial run's autograded notebooks: nbclient's ``shell.execute_reply - iopub.execute_input``
  per cell) divided by the jobs: what J perfectly busy kernels would need for the code alone.

Printed: both wall times, the throughput ratio crmkit / nbgrader, and crmkit's time as a multiple
of the limit; and whether every cell's score is equal in the two runs.

Usage: python bench/bench_autograde.py [--slugs A B … | --all] [--per N] [--jobs J] [--cold]
(default: 00_aloitus, 20 submissions, 2 jobs; ``--cold`` also times fresh kernels per student).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

from crmkit.course import demo_class
from crmkit.engine import cells, nbg
from crmkit.engine.autograde.batch import autograde_many
from crmkit.engine.autograde.sandbox import Limits, sandbox_available
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.jupyter_env import isolate_jupyter_state

ROOT = Path(__file__).resolve().parents[1]  # this repository: the course the benchmarks measure
PROFILES = ["strong", "typical", "weak"]


def course_copy(base: Path, slugs: list[str]) -> CourseDir:
    """A course with ``slugs`` released (its data folder linked to this repository's)."""
    root = base / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copyfile(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    for slug in slugs:
        shutil.copytree(ROOT / "solutions" / slug, root / "solutions" / slug)
    course = CourseDir.load(root)
    nbg.generate_many(course, slugs)
    return course


def submit_class(course: CourseDir, slugs: list[str], per: int) -> list[str]:
    """``per`` students' submissions of every assignment; returns the students."""
    students = [f"s{i:02d}" for i in range(per)]
    for slug in slugs:
        src, rel = cells.read(course.source_notebook(slug)), cells.read(course.release_notebook(slug))
        for i, student in enumerate(students):
            nb = demo_class.student_notebook(src, rel, PROFILES[i % len(PROFILES)], f"{student}:{slug}")
            demo_class._write_submission(course, slug, student, nbformat.writes(nb).encode())
    return students


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return max(0.0, (parse(end) - parse(start)).total_seconds())


def cell_seconds(course: CourseDir, slugs: list[str], students: list[str]) -> float:
    """The code's own run time: every executed cell of every autograded notebook, summed."""
    total = 0.0
    for slug in slugs:
        for s in students:
            path = course.autograded_notebook(slug, s)
            if path.exists():
                total += sum(_seconds(c) for c in cells.read(path).cells if c.cell_type == "code")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slugs", nargs="+", default=None)
    parser.add_argument("--all", action="store_true", help="every assignment of the course")
    parser.add_argument("--per", type=int, default=20, help="submissions per assignment")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="also a run with a fresh kernel per student")
    args = parser.parse_args()
    slugs = CourseDir.load(ROOT).assignments() if args.all else (args.slugs or ["00_aloitus"])
    with tempfile.TemporaryDirectory(prefix="bench-ag-") as tmp:
        isolate_jupyter_state(Path(tmp) / "jupyter")
        a, b = course_copy(Path(tmp) / "serial", slugs), course_copy(Path(tmp) / "crmkit", slugs)
        c = course_copy(Path(tmp) / "cold", slugs) if args.cold else None
        students = [submit_class(x, slugs, args.per) for x in (a, b, c) if x is not None][0]
        t0 = time.perf_counter()
        for slug in slugs:
            nbg.autograde(a, slug)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = autograde_many(b, slugs, jobs=args.jobs, limits=Limits(), progress=False, say=lambda s: None)
        ours = time.perf_counter() - t0
        if c is not None:
            t0 = time.perf_counter()
            autograde_many(c, slugs, jobs=args.jobs, limits=Limits(), progress=False, warm=False, say=lambda s: None)
            cold = time.perf_counter() - t0
        work = cell_seconds(a, slugs, students)
        limit = work / args.jobs
        equal = all([(x.name, x.score) for x in nbg.scores(a, slug, s).cells]
                    == [(x.name, x.score) for x in nbg.scores(b, slug, s).cells] for slug in slugs for s in students)
        n = len(slugs) * len(students)
        print(f"class: {args.per} submissions x {len(slugs)} assignment(s) = {n}; {args.jobs} jobs; "
              f"sandbox: {sandbox_available()[1]}")
        print(f"serial nbgrader autograde:       {serial:7.1f} s  ({n / serial:.2f} submissions/s)")
        print(f"crmkit autograde --jobs {args.jobs}:      {ours:7.1f} s  ({n / ours:.2f} submissions/s)")
        if c is not None:
            print(f"  same, a fresh kernel per student: {cold:7.1f} s  (ratio {serial / cold:.2f}x)")
        print(f"physical limit (cells' own time {work:.1f} s / {args.jobs} jobs): {limit:7.1f} s")
        print(f"throughput ratio (crmkit / nbgrader): {serial / ours:.2f}x")
        print(f"crmkit's time as a multiple of the limit: {ours / limit:.2f}x")
        print(f"scores equal for every cell of every student: {equal}; statuses: "
              + ", ".join(sorted({o.status for outs in found.values() for o in outs})))


if __name__ == "__main__":
    main()
