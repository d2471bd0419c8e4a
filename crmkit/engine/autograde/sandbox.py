"""A sandbox for student code during autograding, built on bubblewrap (``bwrap``, Debian package
``bubblewrap``), with resource limits from ``prlimit`` (util-linux).

What a sandboxed kernel sees and may do:

* the whole file system **read-only** (``--ro-bind / /``), with these folders replaced by empty
  ones (``--tmpfs``): ``/tmp``, ``/var/tmp``, ``/root``, ``/home``, ``/srv``, ``/run`` and the
  course folders (the course root and the kit's repository: ``solutions/``, ``grading/`` with the
  gradebook and every student's work, ``.git``, ``.jupyter``, the teacher's files …). Only what a
  notebook needs is put back, read-only: the Python installation and its ``site-packages``, the
  ``crmkit`` package and the data world;
* its own **scratch folder** (read-write): the kernel's working folder with the submission's
  non-notebook files, ``HOME``, ``IPYTHONDIR``, ``MPLCONFIGDIR`` and ``TMPDIR``; nothing outside
  it can be written;
* the kernel's **runtime folder** (connection file and ``ipc`` sockets: jupyter_client talks to
  the kernel over Unix sockets, because there is **no network**: ``--unshare-net``);
* its own PID, IPC and UTS namespaces (``--unshare-pid`` …): it cannot see or signal the
  grader's or another student's processes; it dies with the grader (``--die-with-parent``);
* when the grader runs as root, the kernel drops to the unprivileged user ``nobody`` (65534)
  inside the sandbox (``setpriv``), so root-only files stay unreadable too;
* **limits**: address space (``RLIMIT_AS``, the per-notebook memory limit), processes and file
  size (``prlimit``); the per-cell time limit is nbgrader's ``Execute.timeout`` (the kernel is
  interrupted), and :mod:`crmkit.engine.autograde.batch` kills a notebook that exceeds its total wall time.

The kernel is started through ``/bin/sh -c "…; true"``: under ``--unshare-pid`` an ``exec``'d
kernel would be the child of the sandbox's PID 1, and ipykernel's parent poller would take parent
pid 1 for "my parent died" and shut the kernel down. Interrupts go as an ``interrupt_request``
message on the control channel, since signals to the sandbox's process group would also hit the
shell.

During autograding the process started this way is usually not the kernel itself but a warm
zygote (:mod:`crmkit.engine.autograde.kernelpool`) that forks the students' kernels one at a time: they inherit
exactly this sandbox and these limits.

Where bubblewrap cannot be used (not installed, no user namespaces in a container…)
:func:`sandbox_available` says why, :func:`warn_no_sandbox` says so loudly, and kernels run with
the resource limits only.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

import crmkit

#: folders always hidden (replaced by an empty tmpfs) inside the sandbox
HIDDEN_SYSTEM = ("/tmp", "/var/tmp", "/root", "/home", "/srv", "/run", "/mnt", "/media")
NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """Resource limits for one notebook."""

    cell_timeout: int = 120  # s; nbgrader's Execute.timeout (the kernel is interrupted)
    notebook_timeout: int = 600  # s; the whole notebook (the kernel is killed)
    memory_mb: int = 2048  # RLIMIT_AS of the kernel
    nproc: int = 512  # RLIMIT_NPROC (threads count; per user, shared by concurrent kernels)
    fsize_mb: int = 1024  # RLIMIT_FSIZE: the largest file the kernel may write

    def memory_text(self) -> str:
        mb = self.memory_mb
        return f"{mb / 1024:g} GB" if mb >= 1024 and mb % 512 == 0 else f"{mb} MB"


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def sandbox_available() -> tuple[bool, str]:
    """(True, how) if a bubblewrap sandbox really starts here, else (False, why not).

    The probe starts ``bwrap`` with the same namespaces the kernels use and runs ``/bin/true``.
    """
    if sys.platform != "linux":
        return False, f"bubblewrap needs Linux (this is {sys.platform})"
    bwrap = bwrap_path()
    if not bwrap:
        return False, ("bubblewrap is not installed (`bwrap` not on PATH); as root: "
                       "`apt-get install -y bubblewrap` (make setup does it)")
    cmd = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *namespace_args()]
    if _drop_to_nobody():
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", "/bin/sh", "-c",
                f"{shutil.which('setpriv')} --reuid={NOBODY} --regid={NOBODY} --clear-groups "
                "--inh-caps=-all --bounding-set=-all /bin/true"]
    else:
        cmd += ["--", "/bin/true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"bubblewrap does not start: {e}"
    if proc.returncode != 0:
        return False, f"bubblewrap does not start here (exit {proc.returncode}): {proc.stderr.strip()[:300]}"
    who = "as user nobody" if _drop_to_nobody() else "with all capabilities dropped"
    return True, f"bubblewrap {bwrap} (no network, read-only system, hidden course folders, {who})"


def _drop_to_nobody() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def warn_no_sandbox(reason: str, stream=None) -> None:
    """The loud notice when student code must run without the sandbox."""
    stream = stream or sys.stderr
    bar = "!" * 78
    print(f"\n{bar}\n!! NO SANDBOX: {reason}\n!! Student code runs with resource limits only: it CAN read "
          "solutions/, the gradebook\n!! and other students' work, and use the network. Install bubblewrap "
          f"to fix this.\n{bar}\n", file=stream, flush=True)


def python_paths() -> list[str]:
    """Folders the kernel's Python needs (installation, venv, site-packages, editable packages)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            paths.add(p)
    for p in sys.path:
        if p and os.path.isdir(p):
            paths.add(os.path.abspath(p))

    paths.add(str(Path(crmkit.__file__).resolve().parent))
    return sorted(paths)


def _covered(path: str, parents) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in parents)


def _parents(path: str, hidden: list[str]) -> list[str]:
    """``--perms 0755 --dir`` for the folders between a hidden root and ``path`` (bubblewrap would
    create them 0700, which the kernel, running as nobody, could not traverse)."""
    out = []
    for h in hidden:
        if path.startswith(h.rstrip("/") + "/"):
            rel = Path(path).relative_to(h).parts[:-1]
            cur = Path(h)
            for part in rel:
                cur = cur / part
                out += ["--perms", "0755", "--dir", str(cur)]
            break
    return out


def bwrap_args(scratch: str, runtime: str, hide: list[str], expose: list[str]) -> list[str]:
    """bubblewrap's options: read-only system, ``hide`` (and the system's private folders) replaced
    by empty tmpfs, ``expose`` bound back read-only, ``scratch`` and ``runtime`` read-write."""
    hidden = sorted({os.path.realpath(h) for h in [*HIDDEN_SYSTEM, *hide] if os.path.exists(h)}, key=len)
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for h in hidden:
        if not any(h != o and h.startswith(o.rstrip("/") + "/") for o in hidden):  # skip nested ones
            args += ["--tmpfs", h]
    # put back what the kernel needs, read-only, when it lies in a hidden folder (parents first);
    # a symbolic link (a course whose data/ links to a shared folder) gets its target bound at the
    # link's own path, where the notebook looks for it
    back = sorted({(os.path.realpath(e), os.path.abspath(e)) for e in expose if os.path.exists(e)},
                  key=lambda pair: len(pair[1]))
    done: list[str] = []
    for real, path in back:
        if any(h == p or h.startswith(p.rstrip("/") + "/") for h in hidden for p in (real, path)):
            continue  # e.g. the repository root on sys.path (an editable install): never put back whole
        if _covered(path, hidden) and not _covered(path, done):
            args += _parents(path, hidden) + ["--ro-bind", real, path]
            done.append(path)
    for rw in (scratch, runtime):
        args += _parents(rw, hidden) + ["--bind", rw, rw]
    return args + namespace_args() + ["--chdir", scratch]


def namespace_args() -> list[str]:
    """New PID, network, IPC, UTS (and cgroup) namespaces. As root no user namespace, so that
    ``setpriv`` can switch to ``nobody``; otherwise bubblewrap needs one (``--unshare-all``)."""
    if os.geteuid() == 0:
        return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent"]
    return ["--unshare-all", "--die-with-parent"]


def limits_prefix(limits: Limits) -> list[str]:
    """``prlimit`` with the notebook's limits (bytes), or [] if prlimit is missing."""
    prlimit = shutil.which("prlimit")
    if not prlimit:
        return []
    return [prlimit, f"--as={limits.memory_mb * 1024 * 1024}", f"--nproc={limits.nproc}",
            f"--fsize={limits.fsize_mb * 1024 * 1024}", "--core=0", "--"]


@functools.lru_cache(maxsize=None)
def font_cache_dir() -> str:
    """A folder with matplotlib's font cache, built once per process (copied into each scratch)."""
    base = Path(os.environ.get("MPLCONFIGDIR") or tempfile.gettempdir()) / "crmkit-sandbox-fontcache"
    base.mkdir(parents=True, exist_ok=True)
    if not list(base.glob("fontlist-*.json")):
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env={**os.environ,
                       "MPLCONFIGDIR": str(base)}, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    return str(base)


def _sh_quote(args: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in args)


def sandboxed_command(cmd: list[str], scratch: str, runtime: str, hide: list[str], expose: list[str],
                      limits: Limits, use_bwrap: bool = True) -> list[str]:
    """``cmd`` wrapped in the sandbox: bubblewrap (unless ``use_bwrap`` is False), the resource
    limits, and (as root) the switch to ``nobody``, through ``/bin/sh -c "…; true"``."""
    prefix = limits_prefix(limits)
    if not use_bwrap:
        return prefix + cmd
    drop, caps = [], []
    if _drop_to_nobody():
        drop = [shutil.which("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"]
        caps = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    inner = _sh_quote(prefix + drop + cmd) + "; true"
    return [bwrap_path(), *bwrap_args(scratch, runtime, list(hide), [*python_paths(), *expose]),
            *caps, "--", "/bin/sh", "-c", inner]


def kernel_environment(home_base: str, runtime: str) -> dict[str, str]:
    """The environment of a sandboxed process: the grader's without secrets or Jupyter/nbgrader
    settings, with ``HOME``, ``IPYTHONDIR``, ``MPLCONFIGDIR``, ``TMPDIR`` … under ``home_base``
    (made writable for ``nobody``, with matplotlib's font cache copied in) and one BLAS thread."""
    s = Path(home_base)
    home = s / ".home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "JPY_", "NBGRADER_", "SSH_", "GIT_", "AWS_", "GITHUB_"))
           and "TOKEN" not in k and "SECRET" not in k and "PASSWORD" not in k}
    env.update({
        "HOME": str(home), "IPYTHONDIR": str(home / ".ipython"), "MPLCONFIGDIR": str(home / ".matplotlib"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "JUPYTER_DATA_DIR": str(home / ".jupyter-data"),
        "JUPYTER_RUNTIME_DIR": runtime, "JUPYTER_PLATFORM_DIRS": "1",
        "TMPDIR": str(s / ".tmp"), "XDG_CACHE_HOME": str(home / ".cache"),
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    if os.environ.get("NBGRADER_EXECUTION"):
        env["NBGRADER_EXECUTION"] = os.environ["NBGRADER_EXECUTION"]
    for d in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "TMPDIR", "XDG_CACHE_HOME"):
        Path(env[d]).mkdir(parents=True, exist_ok=True)
        os.chmod(env[d], 0o777)
    # matplotlib would rebuild its font cache in every fresh MPLCONFIGDIR (seconds per notebook)
    for f in Path(font_cache_dir()).glob("fontlist-*.json"):
        shutil.copyfile(f, Path(env["MPLCONFIGDIR"]) / f.name)
        os.chmod(Path(env["MPLCONFIGDIR"]) / f.name, 0o666)
    return env


def run_sandboxed(code: str, scratch: str, hide: list[str] = (), expose: list[str] = (),
                  limits: Limits = Limits(), timeout: int = 60) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in the same sandbox a kernel gets (for tests and ``--check``)."""
    runtime = tempfile.mkdtemp(prefix="crmkit-rt-")
    os.chmod(scratch, 0o777)
    os.chmod(runtime, 0o777)
    cmd = sandboxed_command([sys.executable, "-c", code], scratch, runtime, list(hide), list(expose), limits)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": scratch})
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
