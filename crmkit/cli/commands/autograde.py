"""`crmkit autograde ASSIGNMENT… [--jobs N] [--student ID …]`: parallel, sandboxed autograding.

Grades ``grading/submitted/*/ASSIGNMENT`` into nbgrader's gradebook with nbgrader's own
preprocessors, each student's kernel in a bubblewrap sandbox with time and memory limits; writes a
status per student (graded / awaiting manual grading / failed with the reason / missing) to
``grading/status/ASSIGNMENT.json``. Re-running skips unchanged submissions (``--force`` regrades).
Exit status: 0 all graded, 1 some submissions failed (listed), 2 bad input.
"""

from __future__ import annotations

import argparse
import os

from crmkit.cli.commands import find_course
from crmkit.engine.autograde.sandbox import Limits


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `crmkit autograde`."""
    d = Limits()
    parser.add_argument("assignment", nargs="+",
                        help="the assignment(s) (folder names in solutions/); several are graded in one batch")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2,
                        help="students graded at the same time (default: number of cores)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID", help="only these students")
    parser.add_argument("--force", action="store_true", help="grade again even if the submission is unchanged")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per cell (default: Execute.timeout of nbgrader_config.py)")
    parser.add_argument("--notebook-timeout", type=int, default=d.notebook_timeout,
                        help=f"seconds for a whole notebook before its kernel is killed (default {d.notebook_timeout})")
    parser.add_argument("--memory", type=int, default=d.memory_mb, metavar="MB",
                        help=f"memory (address space) per notebook in MB (default {d.memory_mb})")
    parser.add_argument("--sandbox", choices=["auto", "require", "off"], default="auto",
                        help="auto: bubblewrap if it works here, else limits only with a warning (default)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def print_outcomes(outcomes, say=print) -> int:
    """One line per student; returns 1 if any submission failed, else 0."""
    from crmkit.engine import status

    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    say(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to grade")
    for o in outcomes:
        score = f"{o.score:g} / {o.max_score:g}" if o.score is not None and o.max_score else "-"
        extra = f" – {o.reason}" if o.reason else ""
        done = " (unchanged, skipped)" if o.skipped else (f" ({o.seconds:.1f} s)" if o.seconds else "")
        say(f"  {o.student:<20} {o.status:<24} {score:>12}{done}{extra}")
    return 1 if any(o.status == status.FAILED for o in outcomes) else 0


def run(args: argparse.Namespace) -> int:
    """Grade the batch and list every student's outcome."""
    from crmkit.engine.autograde.batch import autograde_many

    course = find_course(args)
    limits = Limits(cell_timeout=args.timeout or course.cell_timeout, notebook_timeout=args.notebook_timeout,
                    memory_mb=args.memory)
    found = autograde_many(course, args.assignment, jobs=args.jobs, students=args.student, limits=limits,
                           force=args.force, progress=not args.no_progress, sandbox=args.sandbox)
    code = 0
    for slug, outcomes in found.items():
        if len(found) > 1:
            print(f"\n{slug}:")
        code = max(code, print_outcomes(outcomes))
        print(f"status file: {course.status_file(slug)}")
    return code
