"""The kit's main job, end to end, on a course directory (``crmkit demo``).

Steps (each a function in :data:`STEPS`; later issues add the teacher's flow after them):

1. ``data``: generate the data world into data/ if ``data/customers.csv`` is missing;
2. ``release``: ``nbgrader generate_assignment`` for every assignment in solutions/ -> notebooks/;
3. ``student``: run each release as a student would (a scratch copy in ``grading/demo/<slug>/``;
   notebooks/ is never modified; assignments in parallel) and report the cells that stop at an
   unanswered stub;
4. ``autograde``: submit the solution notebook as student ``demo_solution`` into
   ``grading/submitted/`` (graded with the class in step 6: it must get every autograded point);
5. ``class``: a simulated class of ``--students N`` (default 20) derived deterministically from the
   solutions (:mod:`crmkit.course.demo_class`: strong, typical, weak, unanswered, wrong answers, one
   missing, one that never terminates, one corrupt file) submitted through Moodle: a generated
   *Download all submissions* zip and grading worksheet per assignment
   (:mod:`crmkit.course.demo_moodle`), placed into ``grading/submitted/`` by ``crmkit moodle collect``;
6. ``grade``: ``crmkit autograde`` of the solution and the class (nbgrader's Autograde converter,
   parallel, sandboxed, warm kernels), then simulated hand grades for the free-text cells
   (nbgrader's Gradebook, ``manual_score``);
7. ``results``: the grading module's weighted grades and Moodle CSV (``crmkit grades``), competence
   profiles (``crmkit profile --all``), the class report (``crmkit report``) and the feedback
   without hidden tests (``crmkit feedback``, assignments in parallel);
8. ``moodle``: back to Moodle – per assignment the feedback-files zip and the filled grading
   worksheet (``crmkit moodle feedback``; the grade-import CSV is written in ``results``);
9. a short summary: what was done, the scores, where each output is.

Re-running is safe: an existing demo submission is never overwritten silently; the new one gets a
timestamped student id unless ``--force`` is given.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crmkit.course import demo_class, demo_moodle, gates
from crmkit.course.world.generate import write_world
from crmkit.engine import cells, feedback, nbg, status
from crmkit.engine.autograde.batch import autograde_many, worker_pool
from crmkit.engine.autograde.kernelclient import ipc_kernel_manager
from crmkit.engine.autograde.sandbox import Limits, sandbox_available
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import final, moodle, report
from crmkit.engine.grades import profile as prof
from crmkit.engine.grades.policy import MoodleSettings
from crmkit.engine.moodle import collect as moodle_collect
from crmkit.engine.moodle import feedback as moodle_feedback
from crmkit.runtime.errors import KitError

DEFAULT_STUDENT = "demo_solution"


@dataclass
class Demo:
    """What the steps share: where the course is, what to demo, and what happened."""

    course: CourseDir
    slugs: list[str]
    student: str
    force: bool
    students: int = 0
    jobs: int = 2
    timeout: int = 20
    roster: list = field(default_factory=list)  # the simulated class: [(student, profile)]
    outcomes: dict = field(default_factory=dict)  # slug -> [autograde.Outcome]
    lines: list[str] = field(default_factory=list)  # the summary, in order
    scores: dict = field(default_factory=dict)
    solution_ids: dict = field(default_factory=dict)  # slug -> the student id the solution was submitted as
    started: datetime = field(default_factory=datetime.now)

    def rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.course.root))
        except ValueError:
            return str(path)

    def say(self, text: str) -> None:
        print(text, flush=True)

    def note(self, text: str) -> None:
        self.lines.append(text)


def _progress(iterable=None, **kw):
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: autograde's workers can be forked
    return tqdm(iterable, **kw, leave=False, dynamic_ncols=True)


# ---------------------------------------------------------------------------------------------


def step_data(demo: Demo) -> None:
    """Generate the data world into data/ if it is not there."""

    data = demo.course.data_dir
    if (data / "customers.csv").exists():
        demo.note(f"data world: already in {demo.rel(data)}/ (regenerate with `make data`)")
        return
    demo.say(f"[1] generating the data world into {demo.rel(data)}/ ...")
    t0 = time.perf_counter()
    write_world(data)
    demo.note(f"data world: generated into {demo.rel(data)}/ in {time.perf_counter() - t0:.0f} s")


def step_release(demo: Demo) -> None:
    """nbgrader generate_assignment for every assignment: solutions/ -> notebooks/."""
    demo.say(f"[2] releasing {len(demo.slugs)} assignment(s) with nbgrader generate_assignment ...")
    bar = _progress(total=len(demo.slugs), desc="release", unit="assignment")
    try:
        paths = nbg.generate_many(demo.course, demo.slugs, progress=lambda slug: bar.update())
    finally:
        bar.close()
    for slug, path in zip(demo.slugs, paths):
        demo.note(f"release {slug}: {demo.rel(path)}")


def run_release(root: str, slug: str) -> dict:
    """Run the release of ``slug`` as a student would, in a scratch copy under grading/demo/<slug>/
    (a fresh kernel; notebooks/ is never touched). Returns what stopped where."""
    import nbformat
    from nbclient import NotebookClient


    course = CourseDir.load(root)
    release = course.release_notebook(slug)
    scratch = course.workspace / "demo" / slug
    if scratch.exists():
        shutil.rmtree(scratch)  # a scratch run, not a submission: always a fresh copy
    shutil.copytree(release.parent, scratch)
    nb = cells.read(scratch / release.name)
    t0 = time.perf_counter()
    with ipc_kernel_manager() as km:
        NotebookClient(nb, km=km, timeout=120, allow_errors=True,
                       resources={"metadata": {"path": str(scratch)}}).execute()
    nbformat.write(nb, scratch / release.name)
    # an exercise stops at its stub either in the answer cell itself or, for a function
    # skeleton, in the test cell that calls it
    return {"slug": slug, "path": scratch / release.name, "seconds": time.perf_counter() - t0,
            "stubs": [cells.label(nb, i) for i, c in enumerate(nb.cells)
                      if (cells.is_answer(c) or cells.is_test(c))
                      and any(e.get("ename") == "NotImplementedError" for e in cells.errors(c))],
            "failing_tests": [cells.label(nb, i) for i, c in enumerate(nb.cells) if cells.is_test(c) and cells.errors(c)],
            "others": gates.blank_run_problems(nb, slug)}


def _in_parallel(demo: Demo, fn, items: list, desc: str, unit: str) -> list:
    """``fn(course root, item)`` for every item in ``demo.jobs`` processes (results in item order)."""
    bar = _progress(total=len(items), desc=desc, unit=unit)
    try:
        with worker_pool(min(demo.jobs, len(items))) as pool:
            futures = [pool.submit(fn, str(demo.course.root), item) for item in items]
            for fut in futures:
                fut.add_done_callback(lambda _: bar.update())
            return [f.result() for f in futures]
    finally:
        bar.close()


def step_student(demo: Demo) -> None:
    """Run each release as a student would, in a scratch copy under grading/demo/<slug>/."""
    demo.say("[3] running each release as a student would (unanswered exercises stop at their stub) ...")
    for r in _in_parallel(demo, run_release, demo.slugs, "student run", "assignment"):
        demo.note(f"student run {r['slug']}: {demo.rel(r['path'])} ({r['seconds']:.0f} s); "
                  f"{len(r['stubs'])} cell(s) stopped at a stub's NotImplementedError, "
                  f"{len(r['failing_tests'])} test cell(s) failed as they should")
        for label in r["stubs"]:
            demo.note(f"    stub: {label}")
        for problem in r["others"]:
            demo.note(f"    UNEXPECTED: {problem}")


def _free_student_id(demo: Demo, slug: str) -> str:
    if demo.force or not demo.course.submitted_notebook(slug, demo.student).exists():
        return demo.student
    stamped = f"{demo.student}_{demo.started.strftime('%Y%m%d_%H%M%S')}"  # one id for the whole run
    demo.note(f"submission of {demo.student} for {slug} exists (kept); this run submits as {stamped} "
              "(use --force to replace it)")
    return stamped


def step_autograde(demo: Demo) -> None:
    """Submit the solution as a student; it is graded with the class (step ``grade``)."""
    demo.say("[4] submitting the solutions as a student ...")
    for slug in demo.slugs:
        student = _free_student_id(demo, slug)
        nbg.submit(demo.course, slug, student, demo.course.source_notebook(slug), force=True)
        demo.solution_ids[slug] = student


def step_class(demo: Demo) -> None:
    """A simulated class, derived deterministically from the solutions, submitted through Moodle's
    files: a generated *Download all submissions* zip and grading worksheet per assignment, placed
    into grading/submitted/ by ``crmkit moodle collect``."""
    if not demo.students:
        return
    demo.roster = demo_class.roster(demo.students)
    demo.say(f"[5] a simulated class of {demo.students} students submits {len(demo.slugs)} assignment(s) in Moodle; "
             "collecting Moodle's zips ...")
    written = kept = 0
    odd = []
    for slug in _progress(demo.slugs, desc="class", unit="assignment"):
        notebooks = demo_class.class_notebooks(demo.course, slug, demo.roster)
        zip_path, ws_path = demo_moodle.download(demo.course, slug, demo.roster, notebooks)
        res = moodle_collect.collect(demo.course, slug, zip_path, ws_path, MoodleSettings())
        written += len(res.by_action(moodle_collect.PLACED, moodle_collect.UPDATED))
        kept += len(res.by_action(moodle_collect.UNCHANGED))
        odd += [f"    {slug}: {w.label} → {w.student_id or '?'}: {w.action}" + (f" – {w.detail}" if w.detail else "")
                for w in res.attention]
    kinds = {}
    for _, profile in demo.roster:
        kinds[profile] = kinds.get(profile, 0) + 1
    demo.note(f"simulated class: {demo.students} students ({', '.join(f'{v} {k}' for k, v in kinds.items())}); "
              f"{written} submission(s) written, {kept} unchanged")
    demo.note(f"    Moodle's files: {demo.rel(demo.course.workspace / 'demo' / 'moodle')}/<slug>/submissions.zip "
              "and worksheet.csv, collected by `crmkit moodle collect`")
    demo.lines += odd
    demo.note(f"    submissions: {demo.rel(demo.course.step_dir('submitted'))}/<student>/<slug>/; "
              f"report: {demo.rel(demo.course.workspace / 'moodle')}/<slug>/collect-report.txt")


def step_grade(demo: Demo) -> None:
    """Parallel sandboxed autograde of the solution and the class (all assignments in one batch),
    then simulated hand grades."""
    ok, how = sandbox_available()
    demo.say(f"[6] autograding the solutions{' and the class' if demo.students else ''}: {demo.jobs} worker(s), "
             f"{'sandbox: ' + how if ok else 'NO SANDBOX (' + how + ')'} ...")
    demo.note(f"sandbox: {how if ok else 'NONE – ' + how + ' (resource limits only)'}")
    limits = Limits(cell_timeout=demo.timeout, notebook_timeout=max(300, demo.timeout * 6))
    students = [s for s, _ in demo.roster]
    t0 = time.perf_counter()
    found = autograde_many(demo.course, demo.slugs, jobs=demo.jobs, limits=limits, say=lambda t: None,
                           students={slug: [demo.solution_ids[slug], *students] for slug in demo.slugs})
    fresh = sum(not o.skipped for found_ in found.values() for o in found_ if o.status != status.MISSING)
    demo.note(f"autograde: {fresh} submission(s) of {len(demo.slugs)} assignment(s) graded in "
              f"{time.perf_counter() - t0:.0f} s")
    for slug in demo.slugs:
        solution = demo.solution_ids[slug]
        score = nbg.scores(demo.course, slug, solution)
        demo.scores[slug] = score
        manual = sum(c.max_score for c in score.cells if c.kind == "manual")
        demo.note(f"autograde {slug} as {solution}: {score.code_score:g} / {score.max_code_score:g} autograded "
                  f"points; {manual:g} points wait for hand grading in formgrader")
        demo.note(f"    autograded: {demo.rel(demo.course.autograded_notebook(slug, solution))}")
        outcomes = [o for o in found[slug] if o.student != solution]
        demo.outcomes[slug] = outcomes
        if not students:
            continue
        graded = demo_class.simulate_manual_grades(demo.course, slug, dict(demo.roster))
        counts = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        demo.note(f"autograde {slug} class: {sum(not o.skipped for o in outcomes if o.status != status.MISSING)} graded "
                  f"now, {sum(o.skipped for o in outcomes)} unchanged – "
                  + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f"; {graded} hand grade(s) simulated")
        for o in outcomes:
            if o.status == status.FAILED:
                demo.note(f"    {o.student}: failed – {o.reason}")
        demo.note(f"    status: {demo.rel(demo.course.status_file(slug))}")
    demo.note(f"gradebook: {demo.rel(demo.course.db_path or demo.course.db_url)} (grade the written answers in Formgrader: `make lab`, "
              "menu Nbgrader → Formgrader)")


def _attempt(demo: Demo, name: str, make) -> None:
    """Run one results step; the demo notes what it wrote, or why it could not, and goes on."""
    try:
        demo.note(f"{name}: {make()}")
    except KitError as e:
        demo.note(f"{name}: NOT made: {str(e).strip().splitlines()[0]}")


def _feedback(root: str, slug: str) -> dict:
    """crmkit feedback for one assignment (in a worker process); what it said is returned."""
    said: list[str] = []
    return {**feedback.generate(CourseDir.load(root), slug, say=said.append), "said": said}


def step_results(demo: Demo) -> None:
    """Final grades + Moodle CSV, profiles, class report (crmkit.engine.grades), feedback (crmkit.engine.feedback)."""
    if not demo.students:
        return
    demo.say("[7] weighted grades, Moodle CSV, profiles, class report and feedback ...")
    course = demo.course

    def grades() -> str:
        res = final.write(course, allow_pending=True)
        _, left_out = moodle.write(course.workspace / "moodle.csv", res.policy, res.grades)
        return (f"{demo.rel(res.path)}, {demo.rel(course.workspace / 'moodle.csv')}"
                + (f" ({len(left_out)} student(s) left out of the Moodle file: {'; '.join(left_out)})" if left_out else ""))

    def profiles() -> str:
        prof.write_profiles(course)
        return demo.rel(course.workspace / "reports" / "profiles")

    def class_report() -> str:
        report.write(course)
        return demo.rel(course.workspace / "reports" / "class.html")

    _attempt(demo, "grades + Moodle CSV", grades)
    _attempt(demo, "competence profiles", profiles)
    _attempt(demo, "class report", class_report)
    for slug, res in zip(demo.slugs, _in_parallel(demo, _feedback, demo.slugs, "feedback", "assignment")):
        for line in res["said"]:
            demo.note(line)
        demo.note(f"feedback {slug}: {len(res['written'])} page(s) without hidden tests, "
                  f"{len(res['failed'])} explain a failed submission"
                  + (f"; {len(res['leaks'])} REMOVED for showing hidden tests" if res["leaks"] else ""))
    demo.note(f"    feedback: {demo.rel(course.step_dir('feedback'))}/<student>/<slug>/<slug>.html")


def step_moodle(demo: Demo) -> None:
    """Back to Moodle: per assignment the feedback-files zip and the filled grading worksheet
    (``crmkit moodle feedback``); the grade-import CSV was written in ``results``."""
    if not demo.students:
        return
    demo.say("[8] feedback zips and grading worksheets for Moodle ...")
    for slug in demo.slugs:
        try:
            res = moodle_feedback.pack(demo.course, slug, settings=MoodleSettings())
        except KitError as e:
            demo.note(f"moodle feedback {slug}: NOT made: {str(e).strip().splitlines()[0]}")
            continue
        demo.note(f"moodle feedback {slug}: {len(res.entries)} feedback file(s) in "
                  f"{demo.rel(res.zip_path) if res.zip_path else '(no zip)'}, {len(res.filled)} row(s) filled in "
                  f"{demo.rel(res.worksheet_path) if res.worksheet_path else '(no worksheet)'}")


#: the demo's steps in order; each takes the shared :class:`Demo`
STEPS = [("data", step_data), ("release", step_release), ("student", step_student), ("autograde", step_autograde),
         ("class", step_class), ("grade", step_grade), ("results", step_results), ("moodle", step_moodle)]


def run_demo(course: CourseDir, slugs: list[str] | None = None, *, student: str = DEFAULT_STUDENT,
             force: bool = False, students: int = 20, jobs: int | None = None, timeout: int = 20) -> int:
    """Every step in order on ``course``, then the summary; 1 if a solution lost points, else 0."""
    known = course.assignments()
    unknown = [s for s in slugs or [] if s not in known]
    if unknown:
        raise KitError(f"unknown assignment(s): {', '.join(unknown)}; solutions/ has: {', '.join(known) or 'none'}")
    demo = Demo(course=course, slugs=slugs or known, student=student, force=force, students=max(0, students),
                jobs=jobs or os.cpu_count() or 2, timeout=timeout)
    t0 = time.perf_counter()
    took = []
    for name, step in STEPS:
        if name != "data" and not demo.slugs:
            demo.note("no assignments in solutions/ yet (solutions/<slug>/<slug>.ipynb): nothing to release or grade")
            break
        t1 = time.perf_counter()
        step(demo)
        took.append(f"{name} {time.perf_counter() - t1:.0f} s")
    print(f"\ncrmkit demo done in {time.perf_counter() - t0:.0f} s ({', '.join(took)})")
    for line in demo.lines:
        print(("  " if not line.startswith("    ") else "") + line)
    short = [s for s in demo.scores.values() if s.code_score != s.max_code_score]
    if short:
        print("\nThe solutions did not autograde to full points: " + ", ".join(s.slug for s in short))
        return 1
    return 0
