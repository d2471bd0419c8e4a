"""Warm kernels for autograding: a fork server ("zygote") inside the sandbox.

A fresh kernel costs about 0.6 s to start and another second to import pandas, matplotlib,
seaborn …; for a notebook that runs in 2–3 s that is a third of the work. Each autograde worker
therefore starts **one zygote** in its bubblewrap sandbox (:mod:`crmkit.engine.autograde.sandbox`), which imports
the modules the assignment's source notebook imports and then waits. A student's kernel is a
``fork()`` of it: ipykernel starts in milliseconds with the imports already done (copy-on-write).
The zygote itself never runs student code.

Students stay apart, as with one sandbox per kernel:

* a worker grades one student at a time; before the next one the zygote kills **every other
  process in its PID namespace** (the kernel, anything it started or left behind) and empties
  ``/dev/shm``, and the worker empties the scratch folder (``slot``) and the runtime folder, so
  nothing of one student is visible to the next, and nothing left behind can change the next
  student's run;
* each kernel gets its own session (``setsid``), working folder, ``HOME``, ``IPYTHONDIR``,
  ``MPLCONFIGDIR`` and ``TMPDIR`` (the environment is replaced, not merged), a fresh seed for
  ``random`` and numpy's global generator, and the zygote's address-space limit (each process
  has its own);
* the zygote is not dumpable (``PR_SET_DUMPABLE`` 0), so a kernel running as the same user
  cannot ptrace it or write its memory to plant code in the next student's kernel;
* a kernel that kills the zygote only ends its own sandbox; the worker starts a new zygote.

What differs from a fresh kernel: the preimported modules are already in ``sys.modules`` (a
student's own ``pandas.py`` beside the notebook would not shadow the real one) and the
interpreter's hash seed is the zygote's. Scores are the same: ``bench/bench_autograde.py`` and
``tests/engine/test_autograde.py`` compare every cell with serial ``nbgrader autograde``.

Protocol: one JSON object per connection to the zygote's Unix socket (made by the worker outside
the sandbox and inherited as a file descriptor; kernels close it), one JSON reply:
``spawn`` (env, cwd, argv) → pid; ``poll`` pid → returncode or null; ``signal`` pid sig;
``sweep`` → killed; ``ping``.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import time

from jupyter_client.provisioning import LocalProvisioner

from crmkit.engine.autograde.sandbox import kernel_environment, sandboxed_command
from crmkit.runtime.errors import KitError

#: modules every kernel needs whatever the notebook imports
BASE_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython",
                "IPython.core.pylabtools", "IPython.core.debugger", "IPython.core.completerlib",
                "tornado.platform.asyncio", "psutil", "sqlite3", "matplotlib.backends.backend_agg",
                "PIL.PngImagePlugin")
# not matplotlib_inline: imported before IPython runs, it would never hook the inline backend into
# the kernel (plots would not be shown)


# ---------------------------------------------------------------------------------------------
# the zygote (runs inside the sandbox: python -m crmkit.engine.autograde.kernelpool LISTENING_FD MODULE…)


def _prctl(option: int, value: int) -> None:
    import ctypes

    try:
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def _preimport(modules: list[str]) -> list[str]:
    """Import what the kernels will need; returns the modules that failed (they are left to the kernel)."""
    failed = []
    for name in [*BASE_MODULES, *modules]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module the kernel will report itself
            failed.append(name)
    return failed


def _ancestors() -> set[int]:
    """This process, its ancestors (the sandbox's shell and init): never swept."""
    keep, pid = {os.getpid(), 1}, os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        keep.add(pid)
    return keep


def _sweep(children: dict) -> int:
    """Kill every process of the namespace but us and our ancestors; reap; empty /dev/shm."""
    keep, killed = _ancestors(), 0
    for _ in range(20):
        alive = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in keep]
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.01)
        _reap(children)
    children.clear()
    for name in os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []:
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except OSError:
            pass
    return killed


def _reap(children: dict) -> None:
    """Collect exited children: ``children[pid] = (exit code, peak resident memory in kB)``."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in children:
            children[pid] = (os.waitstatus_to_exitcode(status), usage.ru_maxrss)


def _become_kernel(sockets: list[socket.socket], request: dict) -> None:
    """In the forked child: set up the student's environment and run ipykernel; never returns."""
    code = 1
    try:
        for s in sockets:
            s.close()
        _prctl(PR_SET_DUMPABLE, 1)  # an ordinary process again, as a fresh kernel would be
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]
        sys.argv = list(request["argv"])
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        app.start()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - report on the kernel's stderr, exit non-zero
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(listen_fd: int, modules: list[str]) -> None:
    """The zygote's loop: preimport, then answer requests on the inherited listening socket until
    killed. The socket was made by the worker outside the sandbox: no path to it exists inside, and
    kernels close their copy, so only the worker can ask the zygote for anything."""
    _prctl(PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/<pid>/mem for the kernels (same user)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # what a kernel leaves behind is reparented to us, reaped
    os.environ["JPY_PARENT_PID"] = str(os.getpid())  # kernels exit if the zygote dies
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    failed = _preimport(modules)
    import threading

    if threading.active_count() != 1:  # fork with threads running would copy locks held by them
        print(f"zygote: {threading.active_count()} threads after imports", file=sys.stderr, flush=True)
    listener = socket.socket(fileno=listen_fd)
    listener.settimeout(0.2)
    children: dict[int, tuple[int, int] | None] = {}
    while True:
        _reap(children)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        with conn:
            conn.settimeout(10)
            try:
                request = json.loads(_read_line(conn))
                reply = _answer(request, [listener, conn], children, failed)
            except Exception as e:  # noqa: BLE001 - a bad request gets an error reply
                reply = {"error": f"{type(e).__name__}: {e}"}
            try:
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                pass


def _answer(request: dict, sockets: list[socket.socket], children: dict, failed: list[str]) -> dict:
    op = request.get("op")
    if op == "ping":
        return {"ok": True, "pid": os.getpid(), "failed_imports": failed}
    if op == "spawn":
        pid = os.fork()
        if pid == 0:
            _become_kernel(sockets, request)
        children[pid] = None
        return {"pid": pid}
    if op == "poll":
        _reap(children)
        pid = int(request["pid"])
        if pid not in children:
            return {"returncode": -9, "maxrss_kb": None}
        done = children[pid]
        return {"returncode": None if done is None else done[0], "maxrss_kb": None if done is None else done[1]}
    if op == "signal":
        try:
            os.killpg(int(request["pid"]), int(request["sig"]))
        except OSError:
            try:
                os.kill(int(request["pid"]), int(request["sig"]))
            except OSError:
                pass
        return {"ok": True}
    if op == "sweep":
        return {"killed": _sweep(children)}
    return {"error": f"unknown op {op!r}"}


def _read_line(conn: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf



# ---------------------------------------------------------------------------------------------
# the worker's side


class ZygoteError(KitError, RuntimeError):
    """The zygote could not be started, or it does not answer."""


def ask(address: str, timeout: float = 30, **request) -> dict:
    """Send one request to the zygote at ``address`` and return its reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(address)
            s.sendall(json.dumps(request).encode() + b"\n")
            reply = _read_line(s)
        except OSError as e:
            raise ZygoteError(f"the zygote does not answer ({type(e).__name__}: {e})") from e
    if not reply:
        raise ZygoteError("the zygote closed the connection without an answer")
    answer = json.loads(reply)
    if "error" in answer:
        raise ZygoteError(answer["error"])
    return answer


def notebook_imports(nb) -> list[str]:
    """The modules a notebook's code cells import (``import a.b``, ``from a.b import c`` → ``a.b``)."""
    import ast

    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            found += [n for n in names if n not in found]
    return found


class Zygote:
    """One worker's zygote: started in its own sandbox, asked for kernels, reset between students.

    ``slot`` is the kernels' working (scratch) folder and ``runtime`` their connection files and
    sockets; both are bound into the sandbox read-write and emptied by :meth:`reset`.
    """

    def __init__(self, slot: str, runtime: str, hide: list[str], expose: list[str], limits, modules: list[str]):
        import tempfile

        self.slot, self.runtime = slot, runtime
        self.hide, self.expose, self.limits, self.modules = list(hide), list(expose), limits, list(modules)
        self._private = tempfile.mkdtemp(prefix="crmkit-zy-")  # outside the sandbox: socket and log
        self.address = os.path.join(self._private, "s")
        self.log_path = os.path.join(self._private, "log")
        self.proc = None

    def start(self, timeout: float = 180) -> None:
        """Start the zygote in the sandbox and wait until its imports are done."""
        import subprocess


        for d in (self.slot, self.runtime):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o777)
        home = os.path.join(self.runtime, ".zygote")
        env = kernel_environment(home, self.runtime)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.address)
        listener.listen(16)
        cmd = sandboxed_command([sys.executable, "-m", "crmkit.engine.autograde.kernelpool", str(listener.fileno()), *self.modules],
                                self.slot, self.runtime, self.hide, self.expose, self.limits)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=self.slot, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, pass_fds=[listener.fileno()],
                                         start_new_session=True)
        listener.close()  # the zygote has its own copy
        deadline = time.monotonic() + timeout
        while True:
            try:
                ask(self.address, timeout=max(1.0, deadline - time.monotonic()), op="ping")
                return
            except ZygoteError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise ZygoteError(f"the zygote did not start: {self.log_tail()}") from None
                time.sleep(0.05)

    def log_tail(self, chars: int = 400) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-chars:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            ask(self.address, timeout=5, op="ping")
            return True
        except ZygoteError:
            return False

    def reset(self) -> None:
        """Between students: every process but the zygote killed, slot and runtime emptied."""
        import shutil

        ask(self.address, op="sweep")
        for base, keep in ((self.slot, ()), (self.runtime, (".zygote",))):
            for name in os.listdir(base):
                if name in keep:
                    continue
                path = os.path.join(base, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass

    def close(self) -> None:
        """Stop the zygote and its sandbox (everything in it dies with it)."""
        import shutil

        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        shutil.rmtree(self._private, ignore_errors=True)


class _ForkedKernel:
    """The part of :class:`subprocess.Popen` that jupyter_client's provisioner uses, for a kernel
    that is the zygote's child (its pid is the zygote's view, in the sandbox's PID namespace)."""

    stdin = stdout = stderr = None

    def __init__(self, address: str, pid: int):
        self.address, self.pid, self.returncode = address, pid, None
        self.maxrss_kb: int | None = None  # the kernel's peak resident memory, once it has exited

    def poll(self):
        """The kernel's exit code (negative: killed by that signal), or None while it runs."""
        if self.returncode is None:
            try:
                reply = ask(self.address, timeout=10, op="poll", pid=self.pid)
                self.returncode, self.maxrss_kb = reply["returncode"], reply.get("maxrss_kb")
            except ZygoteError:
                self.returncode = -9  # the zygote and its whole sandbox are gone
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired("forked kernel", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                ask(self.address, timeout=10, op="signal", pid=self.pid, sig=int(sig))
            except ZygoteError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteProvisioner(LocalProvisioner):
    """jupyter_client's LocalProvisioner, launching by asking the zygote to fork a kernel."""

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        env = dict(kwargs.get("env") or {})
        cwd = str(kwargs.get("cwd") or km.scratch_dir)
        argv = ["ipykernel_launcher", "-f", km.connection_file]
        pid = ask(km.zygote_address, op="spawn", env=env, cwd=cwd, argv=argv)["pid"]
        self.process = km.forked = _ForkedKernel(km.zygote_address, pid)
        self.pid, self.pgid, self.cwd = pid, None, cwd  # pgid None: signals go through the zygote
        return self.connection_info


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
