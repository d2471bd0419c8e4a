"""Grade one submission in a worker process, with nbgrader's own Autograde converter.

The converter and its preprocessors (OverwriteCells, ClearOutput, Execute, SaveAutoGrades, …) are
nbgrader's, so the scores are nbgrader's by construction. Only the kernel differs: Execute is
replaced by :class:`SandboxExecute`, whose kernel runs in the sandbox (:mod:`.kernelmanager`),
forked from this worker's warm zygote, and which kills a notebook that exceeds its total wall time.

Gradebook access is serialised across workers by a file lock (:class:`GradebookLock`) held for the
whole conversion except while the notebook executes. A worker process keeps its state in one
:class:`Worker` (the course, its zygote); each grading's state in one :class:`Run`.

The outcome is a dict (:class:`Outcome`) with a status and a reason in Finnish that names what
happened: ``aikaraja ylittyi solussa 14 (120 s)``, ``testisolu t2_1_testit poistettu``, ``kerneli
pysähtyi solussa 9 …`` (what is known: exit code, signal, peak memory against the limit).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets import Any, Integer

from crmkit.engine import cells, nbg, status
from crmkit.engine.autograde import submission
from crmkit.engine.autograde.kernelmanager import SandboxKernelManager
from crmkit.engine.autograde.kernelpool import Zygote, ZygoteError
from crmkit.engine.autograde.sandbox import Limits
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.feedback import failure_messages, skipped_checks

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
    messages: list[dict] = field(default_factory=list)


class GradebookLock:
    """An exclusive lock on the course's gradebook, shared by every worker through a file."""

    def __init__(self, path: Path):
        self._file = open(path, "a+")
        self.held = False

    def acquire(self) -> None:
        """Wait for the lock (no-op if held)."""
        if not self.held:
            fcntl.flock(self._file, fcntl.LOCK_EX)
            self.held = True

    def release(self) -> None:
        """Let another worker write (no-op if not held)."""
        if self.held:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        """Release and close the lock file."""
        self.release()
        self._file.close()


@dataclass
class Run:
    """One grading's state, shared with :class:`SandboxExecute`: the lock, where it is, what happened."""

    lock: GradebookLock
    cell: int | None = None  # the index of the cell running (or last run)
    killed: bool = False  # the notebook exceeded its total time and its kernel was killed
    km: object = None  # the last kernel manager (its forked kernel's exit code and memory)

    def __deepcopy__(self, memo):
        # traitlets deep-copies configured values; a Run is live state shared with SandboxExecute
        return self


class SandboxExecute(Execute):
    """nbgrader's Execute, with the gradebook lock released while the notebook runs, the current
    cell recorded, and the kernel killed when the whole notebook exceeds ``notebook_timeout``."""

    notebook_timeout = Integer(600, help="seconds for the whole notebook; then the kernel is killed").tag(config=True)
    run = Any(None, help="this grading's Run").tag(config=True)

    def create_kernel_manager(self):
        """nbclient's kernel manager, remembered for the reason of a failure."""
        km = super().create_kernel_manager()
        self.run.km = km
        return km

    def preprocess(self, nb, resources=None, km=None):
        """Run the notebook with the lock released and the whole-notebook timer running."""
        self.run.cell, self.run.killed = None, False
        timer = threading.Timer(self.notebook_timeout, self._kill)
        timer.daemon = True
        self.run.lock.release()
        timer.start()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            timer.cancel()
            self.run.lock.acquire()

    def preprocess_cell(self, cell, resources, index):
        """Record which cell runs, then run it as nbgrader does."""
        self.run.cell = index
        return super().preprocess_cell(cell, resources, index)

    def _kill(self):
        self.run.killed = True
        proc = getattr(getattr(getattr(self, "km", None), "provisioner", None), "process", None)
        if proc is None:
            return
        if isinstance(proc, subprocess.Popen):  # the sandbox's process group; a forked kernel's pid is
            try:  # the sandbox's own view and only the zygote may signal it (proc.kill below)
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


class Worker:
    """This worker process's state: the course and its warm zygote (started on first use)."""

    current: "Worker | None" = None

    def __init__(self):
        self.course: CourseDir | None = None
        self.zygote: Zygote | None = None
        self.zygote_key = None

    @classmethod
    def get(cls) -> "Worker":
        """The one Worker of this process."""
        if cls.current is None:
            cls.current = cls()
        return cls.current

    def course_at(self, root: str) -> CourseDir:
        """The course, loaded once per worker."""
        if self.course is None or str(self.course.root) != root:
            self.course = CourseDir.load(root)
        return self.course

    def zygote_for(self, job: dict, hide: list[str], expose: list[str], limits: Limits) -> Zygote | None:
        """This worker's warm zygote for the job (restarted if a kernel killed it); None if it cannot
        start (the kernel is then started the usual way)."""
        from multiprocessing import util

        key = (job["root"], repr(sorted(job["limits"].items())), job["batch_dir"], tuple(job["modules"]))
        if self.zygote is not None and self.zygote_key == key and self.zygote.alive():
            return self.zygote
        self.drop_zygote()
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
        self.zygote, self.zygote_key = zygote, key
        util.Finalize(zygote, zygote.close, exitpriority=10)  # at the worker's exit (the sandbox dies with it anyway)
        return zygote

    def drop_zygote(self) -> None:
        """Close this worker's zygote, if any."""
        if self.zygote is not None:
            self.zygote.close()
        self.zygote, self.zygote_key = None, None

    def reset_zygote(self) -> None:
        """Nothing of one student's run is left for the next one."""
        try:
            self.zygote.reset()
        except ZygoteError:  # a kernel killed it: its sandbox is gone with everything in it
            self.drop_zygote()


def _quiet_nbgrader() -> None:
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")


def _copy_assignment_files(course: CourseDir, slug: str, submitted: Path, scratch: Path) -> None:
    """The kernel's working folder: the assignment's and the submission's other files, never a notebook."""
    for base in (course.source_notebook(slug).parent, submitted.parent):
        for p in base.rglob("*"):
            rel = p.relative_to(base)
            if p.is_file() and p.suffix != ".ipynb" and p.name != "timestamp.txt" and ".ipynb_checkpoints" not in p.parts:
                (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, scratch / rel)


def _where(nb, i: int | None) -> str:
    if i is None:
        return "ennen ensimmäistä solua"
    gid = cells.grade_id(nb.cells[i]) if nb is not None and i < len(nb.cells) else None
    return f"solussa {i + 1}" + (f" ({gid})" if gid else "")


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signaali {-code}"


def stopped_kernel_reason(where: str, km, limits: Limits) -> str:
    """Why a kernel stopped, saying only what is known: its exit code or signal, its peak memory."""
    forked = getattr(km, "forked", None)
    code = forked.poll() if forked is not None else None
    rss = getattr(forked, "maxrss_kb", None)
    memory = ""
    if rss:
        used = rss / 1024
        reached = used >= 0.9 * limits.memory_mb
        memory = (f"; muistia käytössä enintään {used:.0f} MB, raja {limits.memory_text()} "
                  + ("täyttyi" if reached else "ei täyttynyt"))
    if code is None:
        return f"kerneli pysähtyi {where} (syy ei tiedossa; muistiraja {limits.memory_text()})"
    if code >= 0:
        return f"kerneli pysähtyi {where}: koodi lopetti kernelin itse (paluuarvo {code}, esim. os._exit tai sys.exit){memory}"
    return f"kerneli pysähtyi {where}: käyttöjärjestelmä lopetti sen ({_signal_name(code)}){memory}"


def _timeout_reasons(nb, limits: Limits) -> list[str]:
    """Cells whose run hit the cell time limit or the memory limit (from the executed notebook)."""
    reasons = []
    for i, c in enumerate(nb.cells):
        for e in cells.errors(c):
            name, value = e.get("ename"), str(e.get("evalue", ""))
            if name in ("CellTimeoutError", "KeyboardInterrupt") or (name == "TimeoutError" and "timeout" in value.lower()):
                reasons.append(f"aikaraja ylittyi {_where(nb, i)} ({limits.cell_timeout} s)")
                break
            if name == "MemoryError":
                reasons.append(f"muistiraja {limits.memory_text()} ylittyi {_where(nb, i)}")
                break
    return reasons


def _failure_reason(error: BaseException, run: Run, source_nb, limits: Limits, log_lines: list[str]) -> str:
    """Why nbgrader produced no autograded notebook, in the words of the other reasons."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    where = _where(source_nb, run.cell)
    chain = [error, getattr(error, "__cause__", None), getattr(error, "__context__", None)]
    text = " | ".join(log_lines)
    if run.killed:
        return f"aikaraja ylittyi: muistikirja ei valmistunut {limits.notebook_timeout} s:ssa (pysäytettiin {where})"
    if "Timeout waiting for IOPub output" in text:
        return (f"kernelin tulosteet eivät tulleet perille ajoissa {where} (IOPub-aikaraja; kone kuormittunut?): "
                "arvioi uudelleen (--force)")
    if any(isinstance(e, CellTimeoutError) for e in chain) or "Timeout waiting for execute reply" in text:
        return (f"aikaraja ylittyi {where} ({limits.cell_timeout} s); koodi ei pysähtynyt keskeytykseen "
                "(esim. silmukka, joka sieppaa KeyboardInterruptin)")
    if any(isinstance(e, DeadKernelError) for e in chain) or "Kernel died" in text or "DeadKernelError" in text:
        return stopped_kernel_reason(where, run.km, limits)
    detail = " | ".join(l.strip().splitlines()[-1] for l in log_lines if l.strip())[-300:]
    return f"nbgrader ei voinut arvioida muistikirjaa: {detail or type(error).__name__}"


def grade_one(job: dict) -> dict:
    """Grade one student's submission (runs in a worker process). Returns an :class:`Outcome` dict."""
    _quiet_nbgrader()
    worker = Worker.get()
    course = worker.course_at(job["root"])
    slug, student = job["slug"], job["student"]
    limits = Limits(**job["limits"])
    t0 = time.perf_counter()
    out = Outcome(student=student, status=status.FAILED, hash=job["hash"])
    submitted = course.submitted_notebook(slug, student)
    source_nb = cells.read(course.source_notebook(slug))
    found = submission.check(submitted, source_nb, cells.read(course.release_notebook(slug)))
    out.notes = found.notes
    if found.fatal:
        out.reason, out.seconds = found.fatal, time.perf_counter() - t0
        return asdict(out)

    hide, expose = job["hide"], [str(course.data_dir)]
    zygote = worker.zygote_for(job, hide, expose, limits) if job["use_bwrap"] and job.get("warm") else None
    if zygote is not None:
        scratch, runtime = Path(zygote.slot), zygote.runtime
    else:
        scratch = Path(job["scratch_root"]) / f"{slug}-{student}"
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        runtime = tempfile.mkdtemp(prefix="crmkit-rt-")  # short: Unix socket paths are limited to ~107 bytes
    _copy_assignment_files(course, slug, submitted, scratch)

    run = Run(lock=GradebookLock(course.workspace / LOCK_NAME))
    defaults = list(Autograde.class_traits()["autograde_preprocessors"].default())
    cfg = course.nbgrader_config(
        CourseDirectory={"assignment_id": slug, "student_id": student},
        BaseConverter={"force": True},
        Execute={"timeout": limits.cell_timeout},
        SandboxExecute={"timeout": limits.cell_timeout, "notebook_timeout": limits.notebook_timeout, "run": run,
                        "kernel_manager_class": SandboxKernelManager,
                        **({"shutdown_kernel": "immediate"} if zygote is not None else {})},
        SandboxKernelManager={"scratch_dir": str(scratch), "runtime_dir": runtime, "hide": hide, "expose": expose,
                              "zygote_address": zygote.address if zygote is not None else "",
                              "memory_mb": limits.memory_mb, "use_bwrap": bool(job["use_bwrap"]),
                              "extra_env": {"CRMKIT_DATA_DIR": str(course.data_dir)}},
        Autograde={"autograde_preprocessors": [SandboxExecute if p is Execute else p for p in defaults]},
    )
    log = logging.getLogger(f"crmkit.autograde.{student}")
    log.propagate = False
    log.handlers[:] = []
    collect = _Collect()
    log.addHandler(collect)
    error, score = None, None
    try:
        run.lock.acquire()
        try:
            from nbgrader.coursedir import CourseDirectory

            Autograde(coursedir=CourseDirectory(config=cfg, log=log), config=cfg, log=log).start()
        except BaseException as e:  # noqa: BLE001 - nbgrader raises NbGraderException; anything else too
            error = e
        try:
            score = nbg.scores(course, slug, student)
        except Exception:  # noqa: BLE001 - no submission in the gradebook
            pass
    finally:
        run.lock.close()
        if zygote is not None:
            worker.reset_zygote()
        else:
            shutil.rmtree(runtime, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)

    if score is not None:
        out.score, out.max_score = score.score, score.max_score
    reasons = list(found.problems)
    autograded = course.autograded_notebook(slug, student)
    if error is not None or not autograded.exists():
        reasons.append(_failure_reason(error or RuntimeError("no autograded notebook"), run, source_nb, limits,
                                       collect.lines))
    else:
        graded_nb = cells.read(autograded)
        reasons += _timeout_reasons(graded_nb, limits)
        out.messages = [{"cell": gid, "message": text} for gid, text in
                        failure_messages(graded_nb, cells.hidden_lines(source_nb)).items()]
        skipped = skipped_checks(graded_nb)
        if skipped and score is not None:
            nbg.leave_to_teacher(course, slug, student, skipped)
            score = nbg.scores(course, slug, student)
            out.score, out.max_score = score.score, score.max_score
            found.notes.append(f"aineisto ei riitä tarkistukseen, arvioi käsin: {', '.join(skipped)}")
    if reasons:
        out.status, out.reason = status.FAILED, "; ".join(reasons + found.notes)
    elif score is not None:
        pending = [c.name for c in score.cells if c.needs_manual_grade]
        out.status = status.PENDING if pending else status.GRADED
        out.reason = "; ".join(found.notes + ([f"käsin arvioitavat: {', '.join(pending)}"] if pending else []))
    else:
        out.reason = "arviointi ei tuottanut pisteitä gradebookiin"
    out.seconds = time.perf_counter() - t0
    return asdict(out)
