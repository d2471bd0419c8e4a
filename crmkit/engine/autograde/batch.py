"""A batch of autograding that loses nothing (``crmkit autograde``).

For one or several assignments:

1. the gradebook is backed up (``grading/backups/gradebook-<time>.db``, SQLite's backup API);
2. every submission ``<submitted>/<student>/<assignment>/`` is fingerprinted; a student whose
   status entry (:mod:`crmkit.engine.status`) has the same fingerprint was graded already and is
   skipped, so re-running is idempotent and an interrupted batch resumes where it stopped
   (``force`` grades again);
3. workers (processes, ``jobs``) grade students in parallel (:mod:`.worker`: nbgrader's own
   Autograde converter, the kernel in the sandbox, forked from the worker's warm zygote). Workers
   are forked from this process when it runs no other thread (they start with nbgrader imported),
   else spawned. One pool serves every assignment of the batch, and each worker's zygote has every
   assignment's imports done, so that no worker waits at an assignment boundary;
4. each student's outcome goes into the status file as soon as it is known (one writer: this
   process), with a reason that names what happened.

Submissions are never changed, moved or deleted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

import crmkit
from crmkit.engine import cells, nbg, status
from crmkit.engine.autograde import submission
from crmkit.engine.autograde.kernelpool import notebook_imports
from crmkit.engine.autograde.sandbox import Limits, sandbox_available, warn_no_sandbox
from crmkit.engine.autograde.worker import Outcome, Worker, grade_one
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.jupyter_env import isolate_jupyter_state
from crmkit.runtime.errors import KitError


class AutogradeError(KitError):
    """The batch cannot start: an unknown assignment, or no sandbox where one is required."""


def backup_gradebook(course: CourseDir) -> Path | None:
    """Copy a SQLite gradebook (consistently, SQLite's backup API) to ``grading/backups/`` with a
    timestamp; None when there is nothing to copy (no file yet, or a database server)."""
    db = course.db_path
    if db is None or not db.exists():
        return None
    dest_dir = course.workspace / "backups"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"gradebook-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.db"
    src = sqlite3.connect(str(db))
    try:
        out = sqlite3.connect(str(dest))
        with out:
            src.backup(out)
        out.close()
    finally:
        src.close()
    return dest


def _mp_context():
    """How workers start: ``fork`` when this process runs no other thread (a worker then starts in
    milliseconds with nbgrader already imported, and :func:`_fresh_worker` gives it its own event
    loop); otherwise ``spawn`` (a clean interpreter; about 2 s to import nbgrader), or ``fork``
    anyway when ``__main__`` cannot be re-imported (code from stdin)."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if threading.active_count() == 1 or not (main and os.path.exists(main)):
        return get_context("fork")
    return get_context("spawn")


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """A process pool of ``jobs`` workers started as :func:`_mp_context` says, each with
    :func:`_fresh_worker` run first (used by the batch and by ``crmkit demo``)."""
    return ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=_mp_context(), initializer=_fresh_worker)


def _fresh_worker() -> None:
    """Worker initializer: forget the parent's asyncio event loop (a forked worker would share its
    epoll descriptor) so that nbclient makes its own, and start with no worker state."""
    try:
        from jupyter_core import utils

        utils._loop.set(None)
    except (ImportError, AttributeError):
        pass
    asyncio.set_event_loop(None)
    Worker.current = None


def _ensure_assignment(course: CourseDir, slug: str) -> None:
    """Record the assignment and its grade cells in the gradebook if it is not there yet."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            gb.find_assignment(slug)
            return
        except MissingEntry:
            pass
    nbg.generate(course, slug)  # records the assignment and its grade cells (as `crmkit release`)


def _known_students(course: CourseDir) -> set[str]:
    """The students the gradebook knows ({} without a gradebook)."""
    from nbgrader.api import Gradebook

    if course.db_path is not None and not course.db_path.exists():
        return set()
    with Gradebook(course.db_url, course.course_id) as gb:
        return {st.id for st in gb.students}


def _read_status(course: CourseDir, slug: str, say) -> dict:
    """The status file's entries; an unreadable file is kept beside (every entry is rewritten)."""
    path = course.status_file(slug)
    try:
        return status.read(path)
    except status.StatusFileError as e:
        kept = status.set_aside(path)
        say(f"{e}; kept as {kept.name}, grading everyone again")
        return {}


def _plan(course: CourseDir, slug: str, students: list[str] | None, force: bool, job_base: dict,
          say) -> tuple[list[Outcome], dict, list[dict]]:
    """What one assignment's batch has to do: (outcomes known without grading — missing, unchanged —,
    the status entries, the jobs for the workers)."""
    submitted = course.students_with_submission(slug)
    wanted = list(students) if students else submitted
    entries = _read_status(course, slug, say)
    outcomes: list[Outcome] = []
    todo = []
    for s in wanted:
        folder = course.submitted_notebook(slug, s).parent
        if not folder.is_dir():
            o = Outcome(student=s, status=status.MISSING, reason=f"ei palautusta ({folder} puuttuu)")
            entries[s] = status.entry(o.status, o.reason)
            outcomes.append(o)
            continue
        h = submission.fingerprint(folder)
        old = entries.get(s)
        done = (old and old.get("hash") == h and old.get("status") in (status.GRADED, status.PENDING, status.FAILED)
                and (old.get("status") == status.FAILED or course.autograded_notebook(slug, s).exists()))
        if done and not force:
            outcomes.append(Outcome(student=s, status=old["status"], reason=old.get("reason", ""), hash=h,
                                    score=old.get("score"), max_score=old.get("max_score"), skipped=True))
            continue
        todo.append({**job_base, "slug": slug, "student": s, "hash": h})
    if not students:  # students the gradebook knows who submitted nothing
        for s in sorted(_known_students(course) - set(submitted)):
            if s not in entries or entries[s].get("status") == status.MISSING:
                o = Outcome(student=s, status=status.MISSING, reason="ei palautusta")
                entries[s] = status.entry(o.status, o.reason)
                outcomes.append(o)
    status.write(course.status_file(slug), entries)
    skipped = [o for o in outcomes if o.skipped]
    if skipped:
        say(f"{slug}: {len(skipped)} submission(s) unchanged since they were graded: skipped "
            "(--force grades them again)")
    return outcomes, entries, todo


def _hidden_folders(course: CourseDir) -> list[str]:
    """What the sandbox hides: the course, and the kit's source checkout when the package runs
    from one (an editable install: its solutions/ and grading/ must stay unreadable too)."""
    hide = {str(course.root)}
    checkout = Path(crmkit.__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").exists():
        hide.add(str(checkout))
    return sorted(hide)


def _sandbox(mode: str, say) -> bool:
    """Whether kernels run in bubblewrap: ``auto``, ``require`` (refuse without it) or ``off``."""
    if mode == "off":
        return False
    ok, how = sandbox_available()
    if ok:
        say(f"sandbox: {how}")
        return True
    if mode == "require":
        raise AutogradeError(f"no sandbox: {how}")
    warn_no_sandbox(how)
    return False


def autograde(course: CourseDir, slug: str, **options) -> list[Outcome]:
    """Autograde one assignment; the options are :func:`autograde_many`'s."""
    return autograde_many(course, [slug], **options)[slug]


def autograde_many(course: CourseDir, slugs: list[str], *, jobs: int = 2,
                   students: list[str] | dict | None = None, limits: Limits = Limits(), force: bool = False,
                   progress: bool = True, sandbox: str = "auto", warm: bool = True,
                   say=print) -> dict[str, list[Outcome]]:
    """Autograde several assignments in one batch (see the module); returns the outcomes per assignment.

    ``students``: the same students for every assignment, or {assignment: [students]}.
    ``sandbox``: "auto" (bubblewrap if it starts here, else limits only with a loud warning),
    "require" (refuse without bubblewrap), "off" (limits only; for comparisons).
    ``warm``: fork kernels from a warm zygote per worker (only in the sandbox); False starts every
    kernel afresh.
    """
    isolate_jupyter_state(course.root / ".jupyter")
    known = course.assignments()
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise AutogradeError(f"unknown assignment {', '.join(map(repr, unknown))}; "
                             f"{course.step_dir('source').name}/ has: {', '.join(known)}")
    use_bwrap = _sandbox(sandbox, say)
    course.workspace.mkdir(exist_ok=True)
    for slug in slugs:
        _ensure_assignment(course, slug)
    backup = backup_gradebook(course)
    if backup:
        say(f"gradebook backed up to {backup}")

    modules: list[str] = []
    for slug in slugs:
        modules += [m for m in notebook_imports(cells.read(course.source_notebook(slug))) if m not in modules]
    batch_dir = tempfile.mkdtemp(prefix="crmkit-ag-")  # the zygotes' runtime folders (short: socket paths)
    sandboxes = course.workspace / ".sandbox"
    scratch_root = sandboxes / Path(batch_dir).name  # the kernels' working folders
    try:
        base = {"root": str(course.root), "limits": asdict(limits), "use_bwrap": use_bwrap, "warm": warm,
                "batch_dir": batch_dir, "scratch_root": str(scratch_root), "modules": modules,
                "hide": _hidden_folders(course)}
        outcomes, entries, todo = {}, {}, []
        for slug in slugs:
            wanted = students.get(slug) if isinstance(students, dict) else students
            outcomes[slug], entries[slug], jobs_of_slug = _plan(course, slug, wanted, force, base, say)
            todo += jobs_of_slug
        if todo:
            desc = "autograde " + (slugs[0] if len(slugs) == 1 else f"{len(slugs)} assignments")
            _run(course, todo, jobs, outcomes, entries, progress, desc)
    finally:
        shutil.rmtree(batch_dir, ignore_errors=True)
        shutil.rmtree(scratch_root, ignore_errors=True)
        try:
            sandboxes.rmdir()  # only if empty (another batch may be running)
        except OSError:
            pass
    return {slug: sorted(found, key=lambda o: o.student) for slug, found in outcomes.items()}


def _run(course: CourseDir, todo: list[dict], jobs: int, outcomes: dict, entries: dict, progress: bool,
         desc: str) -> None:
    """Grade the jobs in a pool of worker processes; every result goes into the status file at once."""
    from tqdm.auto import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: workers can be forked
    jobs = max(1, min(jobs, len(todo)))
    bar = tqdm(total=len(todo), desc=desc, unit="submission", disable=not progress, dynamic_ncols=True, leave=False)
    try:
        with worker_pool(jobs) as pool:
            futures = {pool.submit(grade_one, job): job for job in todo}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    o = Outcome(**fut.result())
                except Exception as e:  # noqa: BLE001 - a crashed worker fails only its student
                    o = Outcome(student=job["student"], status=status.FAILED, hash="",  # no hash: retried next run
                                reason=f"arvioinnin työprosessi kaatui ({type(e).__name__}: {e})")
                slug = job["slug"]
                entries[slug][o.student] = status.entry(o.status, o.reason, o.hash, o.score, o.max_score,
                                                        o.messages)
                status.write(course.status_file(slug), entries[slug])  # at once: an interrupted batch resumes
                outcomes[slug].append(o)
                bar.update()
    finally:
        bar.close()
