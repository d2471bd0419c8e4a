"""`crmkit demo`: the kit's main job, end to end, on the real course directory.

Steps (each a function in :data:`STEPS`; later issues add the teacher's flow after them):

1. ``data``: generate the data world into data/ if ``data/customers.csv`` is missing;
2. ``release``: ``nbgrader generate_assignment`` for every assignment in solutions/ -> notebooks/;
3. ``student``: run each release as a student would (a scratch copy in ``grading/demo/<slug>/``;
   notebooks/ is never modified) and report the cells that stop at an unanswered stub;
4. ``autograde``: submit the solution notebook as student ``demo_solution`` into
   ``grading/submitted/`` and autograde it with real nbgrader;
5. ``class``: a simulated class of ``--students N`` (default 20) derived deterministically from the
   solutions (:mod:`crmkit.demo_class`: strong, typical, weak, unanswered, wrong answers, one
   missing, one that never terminates, one corrupt file) submitted into ``grading/submitted/``;
6. ``grade``: ``crmkit autograde`` of the class (parallel, sandboxed), then simulated hand grades
   for the free-text cells (nbgrader's Gradebook, ``manual_score``);
7. ``results``: the grading module's weighted grades and Moodle CSV (``crmkit grades``), competence
   profiles (``crmkit profile --all``), the class report (``crmkit report``) and the feedback
   without hidden tests (``crmkit feedback``);
8. a short summary: what was done, the scores, where each output is.

Re-running is safe: an existing demo submission is never overwritten silently; the new one gets a
timestamped student id unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

HELP = "the main job: data world, release, student run, autograde"
DEFAULT_STUDENT = "demo_solution"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Generate the data world if missing, release every assignment, run each release as a "
                          "student would, submit and autograde the solution, and print a summary.")
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="assignments to demo (default: all in solutions/)")
    parser.add_argument("--student", default=DEFAULT_STUDENT,
                        help=f"student id of the solved demo submission (default {DEFAULT_STUDENT})")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing demo submission instead of using a timestamped student id")
    parser.add_argument("--students", type=int, default=20,
                        help="size of the simulated class (default 20; 0 skips the class)")
    parser.add_argument("--jobs", type=int, default=None, help="autograde workers (default: number of cores)")
    parser.add_argument("--timeout", type=int, default=30,
                        help="seconds per cell when grading the class (default 30; the endless loop stops there)")
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)  # a course copy (tests)


@dataclass
class Demo:
    """What the steps share: where the course is, what to demo, and what happened."""

    root: Path
    slugs: list[str]
    student: str
    force: bool
    students: int = 0
    jobs: int = 2
    timeout: int = 30
    roster: list = field(default_factory=list)  # the simulated class: [(student, profile)]
    outcomes: dict = field(default_factory=dict)  # slug -> [autograde.Outcome]
    lines: list[str] = field(default_factory=list)  # the summary, in order
    scores: dict = field(default_factory=dict)

    def rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def say(self, text: str) -> None:
        print(text, flush=True)

    def note(self, text: str) -> None:
        self.lines.append(text)


def _progress(iterable=None, **kw):
    from tqdm.auto import tqdm

    return tqdm(iterable, **kw, leave=False, dynamic_ncols=True)


# ---------------------------------------------------------------------------------------------


def step_data(demo: Demo) -> None:
    """Generate the data world into data/ if it is not there."""
    import os

    data = Path(os.environ.get("CRMKIT_DATA_DIR") or demo.root / "data")
    if (data / "customers.csv").exists():
        demo.note(f"data world: already in {demo.rel(data)}/ (regenerate with `make data`)")
        return
    demo.say(f"[1] generating the data world into {demo.rel(data)}/ ...")
    from crmkit.cli import main

    t0 = time.perf_counter()
    code = main(["data", "--out", str(data)])
    if code:
        raise SystemExit(f"`crmkit data` failed (exit {code})")
    demo.note(f"data world: generated into {demo.rel(data)}/ in {time.perf_counter() - t0:.0f} s")


def step_release(demo: Demo) -> None:
    """nbgrader generate_assignment for every assignment: solutions/ -> notebooks/."""
    from crmkit import nbg

    demo.say(f"[2] releasing {len(demo.slugs)} assignment(s) with nbgrader generate_assignment ...")
    for slug in _progress(demo.slugs, desc="release", unit="assignment"):
        path = nbg.generate(slug, demo.root)
        demo.note(f"release {slug}: {demo.rel(path)}")


def step_student(demo: Demo) -> None:
    """Run each release as a student would, in a scratch copy under grading/demo/<slug>/."""
    from nbclient import NotebookClient

    from crmkit import gates, nbg

    demo.say("[3] running each release as a student would (unanswered exercises stop at their stub) ...")
    for slug in demo.slugs:
        release = nbg.release_notebook(slug, demo.root)
        scratch = demo.root / "grading" / "demo" / slug
        if scratch.exists():
            shutil.rmtree(scratch)  # a scratch run, not a submission: always a fresh copy
        shutil.copytree(release.parent, scratch)
        nb = gates.read(scratch / release.name)
        code_cells = sum(c.cell_type == "code" for c in nb.cells)
        bar = _progress(total=code_cells, desc=f"run {slug}", unit="cell")
        client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(scratch)}},
                                on_cell_executed=lambda **kw: bar.update())
        t0 = time.perf_counter()
        client.execute()
        bar.close()
        import nbformat

        nbformat.write(nb, scratch / release.name)
        # an exercise stops at its stub either in the answer cell itself or, for a function
        # skeleton, in the test cell that calls it
        stubs = [gates.label(nb, i) for i, c in enumerate(nb.cells)
                 if (gates.is_answer(c) or gates.is_test(c))
                 and any(e.get("ename") == "NotImplementedError" for e in gates.errors(c))]
        failing_tests = [gates.label(nb, i) for i, c in enumerate(nb.cells) if gates.is_test(c) and gates.errors(c)]
        others = gates.blank_run_problems(nb, slug)
        demo.note(f"student run {slug}: {demo.rel(scratch / release.name)} ({time.perf_counter() - t0:.0f} s); "
                  f"{len(stubs)} cell(s) stopped at a stub's NotImplementedError, "
                  f"{len(failing_tests)} test cell(s) failed as they should")
        for label in stubs:
            demo.note(f"    stub: {label}")
        for problem in others:
            demo.note(f"    UNEXPECTED: {problem}")


def _free_student_id(demo: Demo, slug: str) -> str:
    from crmkit import nbg

    if demo.force or not nbg.submitted_notebook(slug, demo.student, demo.root).exists():
        return demo.student
    stamped = f"{demo.student}_{datetime.now().strftime('%Y%m%d_%H%M%S')}"
    demo.note(f"submission of {demo.student} for {slug} exists (kept); this run submits as {stamped} "
              "(use --force to replace it)")
    return stamped


def step_autograde(demo: Demo) -> None:
    """Submit the solution as a student and autograde it with real nbgrader."""
    from crmkit import nbg

    demo.say("[4] submitting the solutions as a student and autograding them with nbgrader ...")
    for slug in _progress(demo.slugs, desc="autograde", unit="assignment"):
        student = _free_student_id(demo, slug)
        submitted = nbg.submit(slug, student, nbg.source_notebook(slug, demo.root), demo.root, force=True)
        nbg.autograde(slug, student, demo.root)
        score = nbg.scores(slug, student, demo.root)
        demo.scores[slug] = score
        manual = sum(c.max_score for c in score.cells if c.kind == "manual")
        demo.note(f"autograde {slug} as {student}: {score.code_score:g} / {score.max_code_score:g} autograded "
                  f"points; {manual:g} points wait for hand grading in formgrader")
        demo.note(f"    submitted:  {demo.rel(submitted)}")
        demo.note(f"    autograded: {demo.rel(nbg.autograded_notebook(slug, student, demo.root))}")
    db = nbg.load_config(demo.root).CourseDirectory.db_url.replace("sqlite:///", "")
    demo.note(f"gradebook: {demo.rel(Path(db))} (grade the written answers in Formgrader: `make lab`, menu Nbgrader → Formgrader)")


def step_class(demo: Demo) -> None:
    """A simulated class, derived deterministically from the solutions, into grading/submitted/."""
    from crmkit import demo_class

    if not demo.students:
        return
    demo.roster = demo_class.roster(demo.students)
    demo.say(f"[5] submitting a simulated class of {demo.students} students for {len(demo.slugs)} assignment(s) ...")
    written = kept = 0
    for slug in _progress(demo.slugs, desc="class", unit="assignment"):
        w, k = demo_class.submit_class(demo.root, slug, demo.roster)
        written, kept = written + w, kept + k
    kinds = {}
    for _, profile in demo.roster:
        kinds[profile] = kinds.get(profile, 0) + 1
    demo.note(f"simulated class: {demo.students} students ({', '.join(f'{v} {k}' for k, v in kinds.items())}); "
              f"{written} submission(s) written, {kept} unchanged")
    demo.note(f"    submissions: {demo.rel(demo.root / 'grading' / 'submitted')}/<student>/<slug>/")


def step_grade(demo: Demo) -> None:
    """Parallel sandboxed autograde of the class, then simulated hand grades."""
    from crmkit import autograde as ag
    from crmkit import demo_class
    from crmkit.sandbox import Limits, sandbox_available

    if not demo.students:
        return
    ok, how = sandbox_available()
    demo.say(f"[6] autograding the class: {demo.jobs} worker(s), "
             f"{'sandbox: ' + how if ok else 'NO SANDBOX (' + how + ')'} ...")
    demo.note(f"sandbox: {how if ok else 'NONE – ' + how + ' (resource limits only)'}")
    limits = Limits(cell_timeout=demo.timeout, notebook_timeout=max(300, demo.timeout * 6))
    students = [s for s, _ in demo.roster]
    for slug in demo.slugs:
        t0 = time.perf_counter()
        outcomes = ag.autograde(slug, demo.root, jobs=demo.jobs, students=students, limits=limits, say=lambda t: None)
        demo.outcomes[slug] = outcomes
        graded = demo_class.simulate_manual_grades(demo.root, slug, dict(demo.roster))
        counts = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        fresh = sum(not o.skipped for o in outcomes if o.status != ag.MISSING)
        demo.note(f"autograde {slug}: {fresh} graded now, {sum(o.skipped for o in outcomes)} unchanged, in "
                  f"{time.perf_counter() - t0:.0f} s – " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                  + f"; {graded} hand grade(s) simulated")
        for o in outcomes:
            if o.status == ag.FAILED:
                demo.note(f"    {o.student}: failed – {o.reason}")
        demo.note(f"    status: {demo.rel(ag.status_path(demo.root, slug))}")


def _call(demo: Demo, argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    from crmkit.cli import main

    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            code = main(argv + ["--root", str(demo.root)])
    except SystemExit as e:  # argparse or a command refusing
        code = int(e.code or 0) if not isinstance(e.code, str) else 2
    except Exception as e:  # noqa: BLE001 - the demo reports and goes on
        code, buf = 1, io.StringIO(f"{type(e).__name__}: {e}")
    return code, buf.getvalue()


def step_results(demo: Demo) -> None:
    """Final grades + Moodle CSV, profiles, class report (crmkit.grading), feedback (crmkit.feedback)."""
    from crmkit import feedback

    if not demo.students:
        return
    demo.say("[7] weighted grades, Moodle CSV, profiles, class report and feedback ...")
    grading = demo.root / "grading"
    for name, argv, where in (
            ("grades + Moodle CSV", ["grades", "--allow-pending", "--moodle", str(grading / "moodle.csv")],
             [grading / "final_grades.csv", grading / "moodle.csv"]),
            ("competence profiles", ["profile", "--all"], [grading / "reports" / "profiles"]),
            ("class report", ["report"], [grading / "reports" / "class.html"])):
        code, out = _call(demo, argv)
        if code in (0, 1) and any(Path(w).exists() for w in where):
            demo.note(f"{name}: " + ", ".join(demo.rel(w) for w in where if Path(w).exists()))
        else:
            last = " | ".join(l for l in out.strip().splitlines()[-3:])
            demo.note(f"{name}: NOT made (exit {code}): {last}")
    for slug in _progress(demo.slugs, desc="feedback", unit="assignment"):
        res = feedback.generate(slug, demo.root, say=demo.note)
        demo.note(f"feedback {slug}: {len(res['written'])} page(s) without hidden tests, "
                  f"{len(res['failed'])} explain a failed submission"
                  + (f"; {len(res['leaks'])} REMOVED for showing hidden tests" if res["leaks"] else ""))
    demo.note(f"    feedback: {demo.rel(grading / 'feedback')}/<student>/<slug>/<slug>.html")


#: the demo's steps in order; each takes the shared :class:`Demo`
STEPS = [("data", step_data), ("release", step_release), ("student", step_student), ("autograde", step_autograde),
         ("class", step_class), ("grade", step_grade), ("results", step_results)]


def run(args: argparse.Namespace) -> int:
    from crmkit import nbg
    from crmkit.paths import ROOT

    root = Path(args.root).resolve() if args.root else ROOT
    known = nbg.assignments(root)
    unknown = [s for s in args.slugs if s not in known]
    if unknown:
        print(f"Unknown assignment(s): {', '.join(unknown)}; solutions/ has: {', '.join(known) or 'none'}")
        return 2
    import os

    demo = Demo(root=root, slugs=args.slugs or known, student=args.student, force=args.force,
                students=max(0, args.students), jobs=args.jobs or os.cpu_count() or 2, timeout=args.timeout)
    t0 = time.perf_counter()
    for name, step in STEPS:
        if name != "data" and not demo.slugs:
            demo.note("no assignments in solutions/ yet (solutions/<slug>/<slug>.ipynb): nothing to release or grade")
            break
        step(demo)
    print(f"\ncrmkit demo done in {time.perf_counter() - t0:.0f} s")
    for line in demo.lines:
        print(("  " if not line.startswith("    ") else "") + line)
    short = [s for s in demo.scores.values() if s.code_score != s.max_code_score]
    if short:
        print("\nThe solutions did not autograde to full points: " + ", ".join(s.slug for s in short))
        return 1
    return 0
