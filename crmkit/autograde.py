"""Parallel, sandboxed autograding that loses nothing (``crmkit autograde``).

The batch, for one assignment:

1. the gradebook is backed up (``grading/backups/gradebook-<time>.db``, SQLite's backup API);
2. every submission ``grading/submitted/<student>/<assignment>/`` is hashed; a student whose
   status file entry (``grading/status/<assignment>.json``, the format read by
   :mod:`crmkit.grading.gradebook`) has the same hash was graded already and is skipped, so
   re-running is idempotent and an interrupted batch resumes where it stopped (``--force`` grades
   again);
3. each submission is checked before it runs: not JSON / not a notebook / test or answer cells
   deleted (grade ids compared with the source) / test cells tampered with (their source compared
   with the release; nbgrader puts the original back, and the status says so);
4. workers (processes, ``--jobs``) grade students in parallel with **nbgrader's own Autograde
   converter and preprocessors** (OverwriteCells, ClearOutput, Execute, SaveAutoGrades, …), so the
   scores are nbgrader's by construction. Only the kernel start differs: nbgrader's Execute is
   replaced by :class:`SandboxExecute`, whose kernel runs in the bubblewrap sandbox of
   :mod:`crmkit.sandbox` — forked from the worker's warm zygote (:mod:`crmkit.kernelpool`; the
   imports are done once per worker, not once per student) — and which kills a notebook that
   exceeds its total wall time. Workers are forked from this process when it runs no other
   thread (they start with nbgrader imported), else spawned. Gradebook access
   is serialised by a file lock that a worker holds for the whole conversion except while the
   notebook executes, so the gradebook stays consistent;
5. the outcome of each student goes into the status file as soon as it is known (one writer: the
   main process), with a reason that names what happened: ``aikaraja ylittyi solussa 14 (120 s)``,
   ``muistiraja 2 GB ylittyi solussa 7``, ``testisolu t2_1_testit poistettu``, ``tiedosto ei ole
   kelvollinen muistikirja (JSON-virhe rivillä 3)``, ``kerneli kaatui solussa 9``.

Submissions are never changed, moved or deleted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets import Integer

from crmkit.paths import ROOT
from crmkit.sandbox import Limits

GRADED = "graded"
PENDING = "awaiting manual grading"
FAILED = "failed"
MISSING = "missing"

LOCK_NAME = ".gradebook.lock"


@dataclass
class Outcome:
    """One student's result of a batch."""

    student: str
    status: str
    reason: str = ""
    hash: str = ""
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# status file (format: crmkit.grading.gradebook)


def status_path(root: Path, slug: str) -> Path:
    return Path(root) / "grading" / "status" / f"{slug}.json"


def read_status(root: Path, slug: str) -> dict:
    path = status_path(root, slug)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        # never lose it: keep the unreadable file beside, start a new one
        path.rename(path.with_suffix(f".unreadable-{int(time.time())}.json"))
        return {}


def write_status(root: Path, slug: str, entries: dict) -> None:
    path = status_path(root, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(entries, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def _entry(o: Outcome) -> dict:
    return {"status": o.status, "reason": o.reason, "hash": o.hash,
            "score": o.score, "max_score": o.max_score,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}


# ---------------------------------------------------------------------------------------------
# helpers


def submission_hash(folder: Path) -> str:
    """sha256 over the submission folder's files (names and contents)."""
    h = hashlib.sha256()
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            h.update(str(p.relative_to(folder)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def backup_gradebook(root: Path) -> Path | None:
    """Copy the gradebook (consistently, SQLite's backup API) to grading/backups/ with a timestamp."""
    from crmkit import nbg

    db = Path(nbg.load_config(root).CourseDirectory.db_url.replace("sqlite:///", ""))
    if not db.exists():
        return None
    dest_dir = Path(root) / "grading" / "backups"
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


def _where(nb, i: int) -> str:
    from crmkit import gates

    gid = gates.grade_meta(nb.cells[i]).get("grade_id")
    return f"solussa {i + 1}" + (f" ({gid})" if gid else "")


def validate(path: Path, source_nb, release_nb) -> tuple[str | None, list[str], list[str]]:
    """Check a submitted notebook before it runs.

    Returns (fatal reason or None, problems that fail the submission, notes for the teacher).
    """
    from crmkit import gates

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return f"palautuksessa ei ole muistikirjaa {path.name}", [], []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"tiedosto ei ole kelvollinen muistikirja (ei UTF-8-tekstiä, tavu {e.start})", [], []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return f"tiedosto ei ole kelvollinen muistikirja (JSON-virhe rivillä {e.lineno})", [], []
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "tiedosto ei ole kelvollinen muistikirja (ei soluluetteloa)", [], []
    if data.get("nbformat") != 4:
        return f"tiedosto ei ole kelvollinen muistikirja (nbformat {data.get('nbformat')!r}, odotettiin 4)", [], []
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:  # noqa: BLE001 - any reader error is the submission's problem
        return f"tiedosto ei ole kelvollinen muistikirja ({type(e).__name__}: {str(e)[:120]})", [], []
    have = {}
    for c in nb.cells:
        gid = gates.grade_meta(c).get("grade_id") if isinstance(c.get("metadata"), dict) else None
        if gid:
            have[gid] = c
    problems, notes = [], []
    released = {gates.grade_meta(c).get("grade_id"): c for c in release_nb.cells if gates.grade_meta(c)}
    for c in source_nb.cells:
        m = gates.grade_meta(c)
        gid = m.get("grade_id")
        if not gid or not (m.get("grade") or m.get("solution")):
            continue
        kind = "testisolu" if gates.is_test(c) else ("vastaussolu" if gates.is_answer(c) else "arvioitava solu")
        if gid not in have:
            problems.append(f"{kind} {gid} poistettu")
        elif gates.is_test(c):
            mine = have[gid]
            rel = released.get(gid)
            if mine.cell_type != "code" or not gates.grade_meta(mine).get("grade"):
                problems.append(f"testisolun {gid} tyyppi tai arviointitiedot muutettu")
            elif mine.source.strip() not in {c.source.strip(), rel.source.strip() if rel is not None else None}:
                notes.append(f"testisolun {gid} koodia oli muutettu; arvioitu alkuperäisellä testillä")
    return None, problems, notes


# ---------------------------------------------------------------------------------------------
# the worker side: nbgrader's Autograde with a sandboxed kernel


_LOCK: dict = {"file": None, "held": False}
_RUN: dict = {"cell": None, "killed": False, "km": None}


def _lock() -> None:
    f = _LOCK["file"]
    if f is not None and not _LOCK["held"]:
        fcntl.flock(f, fcntl.LOCK_EX)
        _LOCK["held"] = True


def _unlock() -> None:
    f = _LOCK["file"]
    if f is not None and _LOCK["held"]:
        fcntl.flock(f, fcntl.LOCK_UN)
        _LOCK["held"] = False


class SandboxExecute(Execute):
    """nbgrader's Execute, with the gradebook lock released while the notebook runs, the current
    cell recorded, and the kernel killed when the whole notebook exceeds ``notebook_timeout``."""

    notebook_timeout = Integer(600, help="seconds for the whole notebook; then the kernel is killed").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        _RUN.update(cell=None, killed=False)
        timer = threading.Timer(self.notebook_timeout, self._kill)
        timer.daemon = True
        _unlock()
        timer.start()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            timer.cancel()
            _lock()

    def preprocess_cell(self, cell, resources, index):
        _RUN["cell"] = index
        return super().preprocess_cell(cell, resources, index)

    def _kill(self):
        _RUN["killed"] = True
        km = getattr(self, "km", None)
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None:
            import signal

            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                proc.kill()
            except OSError:
                pass


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


_ZYGOTE: dict = {"zygote": None, "key": None}


def _worker_zygote(job: dict, hide: list[str], expose: list[str], limits: Limits):
    """This worker's warm zygote for the job's assignment (started on first use, restarted if a
    kernel killed it); None if it cannot start (the kernel is then started the usual way)."""
    from multiprocessing import util

    from crmkit.kernelpool import Zygote, ZygoteError

    key = (job["root"], json.dumps(job["limits"], sort_keys=True), job["batch_dir"], tuple(job["modules"]))
    zygote = _ZYGOTE["zygote"]
    if zygote is not None and _ZYGOTE["key"] == key and zygote.alive():
        return zygote
    if zygote is not None:
        zygote.close()
        _ZYGOTE["zygote"] = None
    tag = f"w{os.getpid()}"
    slot = Path(job["scratch_root"]) / tag
    if slot.exists():
        shutil.rmtree(slot)
    zygote = Zygote(str(slot), os.path.join(job["batch_dir"], tag), hide, expose, limits, job["modules"])
    try:
        zygote.start()
    except ZygoteError as e:
        logging.getLogger("crmkit.autograde").warning("warm kernels unavailable, starting each kernel: %s", e)
        return None
    _ZYGOTE.update(zygote=zygote, key=key)
    util.Finalize(zygote, zygote.close, exitpriority=10)  # at the worker's exit (the sandbox dies with it anyway)
    return zygote


def _reset_zygote(zygote) -> None:
    from crmkit.kernelpool import ZygoteError

    try:
        zygote.reset()
    except ZygoteError:  # a kernel killed it: its sandbox is gone with everything in it
        zygote.close()
        _ZYGOTE.update(zygote=None, key=None)


def grade_one(job: dict) -> dict:
    """Grade one student's submission (runs in a worker process). Returns an :class:`Outcome` dict."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    from crmkit import gates, nbg

    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    root, slug, student = Path(job["root"]), job["slug"], job["student"]
    limits = Limits(**job["limits"])
    t0 = time.perf_counter()
    out = Outcome(student=student, status=FAILED, hash=job["hash"])
    submitted = nbg.submitted_notebook(slug, student, root)
    source_nb = gates.read(nbg.source_notebook(slug, root))
    release_nb = gates.read(nbg.release_notebook(slug, root))
    fatal, problems, notes = validate(submitted, source_nb, release_nb)
    out.notes = notes
    if fatal:
        out.reason = fatal
        out.seconds = time.perf_counter() - t0
        return asdict(out)

    from crmkit.paths import ROOT as KIT_ROOT, data_dir

    hide, expose = sorted({str(root), str(KIT_ROOT)}), [str(data_dir())]
    zygote = _worker_zygote(job, hide, expose, limits) if job["use_bwrap"] and job.get("warm") else None
    if zygote is not None:
        scratch, runtime = Path(zygote.slot), zygote.runtime
    else:
        scratch = Path(job["scratch_root"]) / f"{slug}-{student}"
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        runtime = tempfile.mkdtemp(prefix="crmkit-rt-")  # short: Unix socket paths are limited to ~107 bytes
    # the kernel's working folder: the submission's and the assignment's other files (never the notebook)
    for base in (nbg.source_notebook(slug, root).parent, submitted.parent):
        for p in base.rglob("*"):
            rel = p.relative_to(base)
            if p.is_file() and p.suffix != ".ipynb" and p.name != "timestamp.txt" and ".ipynb_checkpoints" not in p.parts:
                (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, scratch / rel)


    cfg = nbg.load_config(root)
    cfg.CourseDirectory.root = str(root)
    cfg.CourseDirectory.assignment_id = slug
    cfg.CourseDirectory.student_id = student
    cfg.BaseConverter.force = True
    cfg.Execute.timeout = limits.cell_timeout
    cfg.SandboxExecute.timeout = limits.cell_timeout
    cfg.SandboxExecute.notebook_timeout = limits.notebook_timeout
    from crmkit.sandbox import SandboxKernelManager

    cfg.SandboxExecute.kernel_manager_class = SandboxKernelManager
    cfg.SandboxKernelManager.scratch_dir = str(scratch)
    cfg.SandboxKernelManager.runtime_dir = runtime
    cfg.SandboxKernelManager.hide = hide
    cfg.SandboxKernelManager.expose = expose
    cfg.SandboxKernelManager.zygote_address = zygote.address if zygote is not None else ""
    if zygote is not None:  # every output is in; the sweep ends whatever the kernel left running
        cfg.SandboxExecute.shutdown_kernel = "immediate"
    cfg.SandboxKernelManager.memory_mb = limits.memory_mb
    cfg.SandboxKernelManager.use_bwrap = bool(job["use_bwrap"])
    defaults = list(Autograde.class_traits()["autograde_preprocessors"].default())
    cfg.Autograde.autograde_preprocessors = [SandboxExecute if p is Execute else p for p in defaults]

    log = logging.getLogger(f"crmkit.autograde.{student}")
    log.propagate = False
    log.handlers[:] = []
    collect = _Collect()
    log.addHandler(collect)
    error = None
    _LOCK["file"] = open(root / "grading" / LOCK_NAME, "a+")
    try:
        _lock()
        try:
            coursedir = CourseDirectory(config=cfg, log=log)
            converter = Autograde(coursedir=coursedir, config=cfg, log=log)
            converter.start()
        except BaseException as e:  # noqa: BLE001 - nbgrader raises NbGraderException; anything else too
            error = e
        run_cell, killed = _RUN["cell"], _RUN["killed"]
        score = None
        try:
            score = nbg.scores(slug, student, root)
        except Exception:  # noqa: BLE001 - no submission in the gradebook
            pass
    finally:
        _unlock()
        _LOCK["file"].close()
        _LOCK["file"] = None
        if zygote is not None:
            _reset_zygote(zygote)  # nothing of this student's run is left for the next one
        else:
            shutil.rmtree(runtime, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)

    if score is not None:
        out.score, out.max_score = score.score, score.max_score
    reasons = list(problems)
    autograded = nbg.autograded_notebook(slug, student, root)
    if error is not None or not autograded.exists():
        where = f"solussa {run_cell + 1}" if run_cell is not None else "ennen ensimmäistä solua"
        if killed:
            reasons.append(f"aikaraja ylittyi: muistikirja ei valmistunut {limits.notebook_timeout} s:ssa "
                           f"(pysäytettiin {where})")
        else:
            detail = " | ".join(l.strip().splitlines()[-1] for l in collect.lines if l.strip())[-300:]
            kernel = "DeadKernelError" in detail or "Kernel died" in detail or "dead" in detail.lower()
            if kernel:
                reasons.append(f"kerneli kaatui {where} (muistiraja {limits.memory_text()}?)")
            else:
                reasons.append(f"nbgrader ei voinut arvioida muistikirjaa: {detail or type(error).__name__}")
    else:
        nb = gates.read(autograded)
        for i, c in enumerate(nb.cells):
            for e in gates.errors(c):
                if e.get("ename") in ("CellTimeoutError", "KeyboardInterrupt", "TimeoutError") and \
                        (e.get("ename") != "TimeoutError" or "timeout" in str(e.get("evalue", "")).lower()):
                    reasons.append(f"aikaraja ylittyi {_where(nb, i)} ({limits.cell_timeout} s)")
                    break
                if e.get("ename") == "MemoryError":
                    reasons.append(f"muistiraja {limits.memory_text()} ylittyi {_where(nb, i)}")
                    break
    if reasons:
        out.status, out.reason = FAILED, "; ".join(reasons + notes)
    elif score is not None:
        out.status = PENDING if any(c.needs_manual_grade for c in score.cells) else GRADED
        pending = [c.name for c in score.cells if c.needs_manual_grade]
        out.reason = "; ".join(notes + ([f"käsin arvioitavat: {', '.join(pending)}"] if pending else []))
    else:
        out.reason = "arviointi ei tuottanut pisteitä gradebookiin"
    out.seconds = time.perf_counter() - t0
    return asdict(out)


# ---------------------------------------------------------------------------------------------
# the batch


def _mp_context():
    """How workers start: ``fork`` when this process runs no other thread (a worker then starts in
    milliseconds with nbgrader already imported, and :func:`_fresh_worker` gives it its own event
    loop); otherwise ``spawn`` (a clean interpreter; about 2 s to import nbgrader), or ``fork``
    anyway when ``__main__`` cannot be re-imported (code from stdin)."""
    import sys
    import threading
    from multiprocessing import get_context

    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if threading.active_count() == 1 or not (main and os.path.exists(main)):
        return get_context("fork")
    return get_context("spawn")


def worker_pool(jobs: int):
    """A process pool of ``jobs`` workers started as :func:`_mp_context` says, each with
    :func:`_fresh_worker` run first (used by the batch and by ``crmkit demo``)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=_mp_context(), initializer=_fresh_worker)


def _fresh_worker() -> None:
    """Worker initializer: forget the parent's asyncio event loop (a forked worker would share its
    epoll descriptor) so that nbclient makes its own."""
    import asyncio

    try:
        from jupyter_core import utils

        utils._loop.set(None)
    except (ImportError, AttributeError):
        pass
    asyncio.set_event_loop(None)


def students_with_submission(root: Path, slug: str) -> list[str]:
    from crmkit import nbg

    sub = nbg._step_dir(root, "submitted")
    return sorted(p.parent.name for p in sub.glob(f"*/{slug}") if p.is_dir())


def _ensure_assignment(root: Path, slug: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    from crmkit import nbg

    cfg = nbg.load_config(root)
    with Gradebook(cfg.CourseDirectory.db_url, cfg.CourseDirectory.get("course_id") or "default_course") as gb:
        try:
            gb.find_assignment(slug)
            return
        except MissingEntry:
            pass
    nbg.generate(slug, root)  # records the assignment and its grade cells (as `crmkit release`)


def _plan(root: Path, slug: str, students: list[str] | None, force: bool, job_base: dict,
          say) -> tuple[list[Outcome], dict, list[dict]]:
    """What one assignment's batch has to do: (outcomes known without grading — missing, unchanged —,
    the status entries, the jobs for the workers)."""
    from crmkit import nbg

    submitted = students_with_submission(root, slug)
    wanted = submitted if not students else [s for s in students]
    status = read_status(root, slug)
    outcomes: list[Outcome] = []
    todo = []
    for s in wanted:
        folder = nbg.submitted_notebook(slug, s, root).parent
        if not folder.is_dir():
            o = Outcome(student=s, status=MISSING, reason=f"ei palautusta ({folder} puuttuu)")
            status[s] = _entry(o)
            outcomes.append(o)
            continue
        h = submission_hash(folder)
        old = status.get(s)
        done = (old and old.get("hash") == h and old.get("status") in (GRADED, PENDING, FAILED)
                and (old.get("status") == FAILED or nbg.autograded_notebook(slug, s, root).exists()))
        if done and not force:
            outcomes.append(Outcome(student=s, status=old["status"], reason=old.get("reason", ""), hash=h,
                                    score=old.get("score"), max_score=old.get("max_score"), skipped=True))
            continue
        todo.append({**job_base, "slug": slug, "student": s, "hash": h})
    # students the gradebook knows who submitted nothing
    if not students:
        try:
            from crmkit.grading.gradebook import open_gradebook

            with open_gradebook(root) as gb:
                known = {st.id for st in gb.students}
            for s in sorted(known - set(submitted)):
                if s not in status or status[s].get("status") == MISSING:
                    o = Outcome(student=s, status=MISSING, reason="ei palautusta")
                    status[s] = _entry(o)
                    outcomes.append(o)
        except Exception:  # noqa: BLE001 - informational only
            pass
    write_status(root, slug, status)
    skipped = [o for o in outcomes if o.skipped]
    if skipped:
        say(f"{slug}: {len(skipped)} submission(s) unchanged since they were graded: skipped "
            "(--force grades them again)")
    return outcomes, status, todo


def autograde(slug: str, root: Path = ROOT, jobs: int = 2, students: list[str] | None = None,
              limits: Limits = Limits(), force: bool = False, progress: bool = True,
              sandbox: str = "auto", warm: bool = True, say=print) -> list[Outcome]:
    """Autograde ``slug`` for every submitted student (or ``students``); see the module docstring
    and :func:`autograde_many` for the options."""
    return autograde_many([slug], root, jobs, students, limits, force, progress, sandbox, warm, say)[slug]


def autograde_many(slugs: list[str], root: Path = ROOT, jobs: int = 2, students: list[str] | dict | None = None,
                   limits: Limits = Limits(), force: bool = False, progress: bool = True,
                   sandbox: str = "auto", warm: bool = True, say=print) -> dict[str, list[Outcome]]:
    """Autograde several assignments in one batch: one pool of workers, each with one warm zygote
    that has every assignment's imports done, so that no worker waits at an assignment boundary.
    ``students``: the same students for every assignment, or {assignment: [students]}.
    Returns the outcomes per assignment.

    ``sandbox``: "auto" (bubblewrap if it starts here, else limits only with a loud warning),
    "require" (refuse without bubblewrap), "off" (limits only; for comparisons).
    ``warm``: fork kernels from a warm zygote per worker (:mod:`crmkit.kernelpool`; only in the
    sandbox); False starts every kernel afresh.
    """
    from crmkit import gates, nbg
    from crmkit.env import isolate_jupyter_state
    from crmkit.kernelpool import notebook_imports
    from crmkit.sandbox import sandbox_available, warn_no_sandbox

    isolate_jupyter_state()
    root = Path(root).resolve()
    unknown = [s for s in slugs if s not in nbg.assignments(root)]
    if unknown:
        raise ValueError(f"unknown assignment {', '.join(map(repr, unknown))}; "
                         f"solutions/ has: {', '.join(nbg.assignments(root))}")
    use_bwrap = False
    if sandbox != "off":
        ok, how = sandbox_available()
        if ok:
            use_bwrap = True
            say(f"sandbox: {how}")
        elif sandbox == "require":
            raise RuntimeError(f"no sandbox: {how}")
        else:
            warn_no_sandbox(how)
    (root / "grading").mkdir(exist_ok=True)
    for slug in slugs:
        _ensure_assignment(root, slug)
    backup = backup_gradebook(root)
    if backup:
        say(f"gradebook backed up to {backup}")

    modules: list[str] = []
    for slug in slugs:
        modules += [m for m in notebook_imports(gates.read(nbg.source_notebook(slug, root))) if m not in modules]
    batch_dir = tempfile.mkdtemp(prefix="crmkit-ag-")  # the zygotes' runtime folders (short: socket paths)
    scratch_root = root / "grading" / ".sandbox" / Path(batch_dir).name  # the kernels' working folders
    try:
        base = {"root": str(root), "limits": asdict(limits), "use_bwrap": use_bwrap, "warm": warm,
                "batch_dir": batch_dir, "scratch_root": str(scratch_root), "modules": modules}
        outcomes, status, todo = {}, {}, []
        for slug in slugs:
            wanted = students.get(slug) if isinstance(students, dict) else students
            outcomes[slug], status[slug], jobs_of_slug = _plan(root, slug, wanted, force, base, say)
            todo += jobs_of_slug
        if todo:
            _run(todo, jobs, root, outcomes, status, progress, "autograde " + (slugs[0] if len(slugs) == 1 else
                                                                              f"{len(slugs)} assignments"))
    finally:
        shutil.rmtree(batch_dir, ignore_errors=True)
        shutil.rmtree(scratch_root, ignore_errors=True)
        try:
            (root / "grading" / ".sandbox").rmdir()  # only if empty (another batch may be running)
        except OSError:
            pass
    return {slug: sorted(found, key=lambda o: o.student) for slug, found in outcomes.items()}


def _run(todo: list[dict], jobs: int, root: Path, outcomes: dict, status: dict, progress: bool, desc: str) -> None:
    """Grade the jobs in a pool of worker processes; every result goes into the status file at once."""
    from concurrent.futures import as_completed

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
                    o = Outcome(student=job["student"], status=FAILED, hash="",  # no hash: retried next run
                                reason=f"arvioinnin työprosessi kaatui ({type(e).__name__}: {e})")
                slug = job["slug"]
                status[slug][o.student] = _entry(o)
                write_status(root, slug, status[slug])  # at once: an interrupted batch resumes from here
                outcomes[slug].append(o)
                bar.update()
    finally:
        bar.close()
