"""Browser tests: a real JupyterLab server on the kit, driven by Playwright in Debian's Chromium.

One JupyterLab server per test session, started the way the set-up leaves the kit (``python -m
jupyterlab`` from the course root with nbgrader's extensions), but in a temporary COPY of the course
(config, solutions/, notebooks/, data/, grading policy), so the gradebook, the exchange, the
fetched assignments and the notebooks JupyterLab saves never touch the repository. Jupyter, IPython
and matplotlib state, kernels' runtime files and temporary files also go into that folder.

The server listens on a free loopback port with a random token. It is ALWAYS stopped at the end,
by its process id: the session fixture's ``finally`` shuts its kernels down through the REST API,
sends SIGTERM to the server's process group (the server was started in a new session, so its pid
is the group id), SIGKILL if it has not stopped after 20 s, and last kills any kernel still running
on this server's runtime folder (kernels are started in sessions of their own), each by its pid.

Chromium is Debian's ``/usr/bin/chromium`` (``make setup`` installs it); Playwright never
downloads a browser. Without chromium or the ``playwright`` package the tests are SKIPPED with a
loud reason (CI on a machine where chromium cannot be installed stays green but says so).

Screenshots of every page go to ``screenshots/browser/`` (git-ignored), named by test.

Time (measured 2026-11-23 on a shared 2-core machine with a load of about 5): 4 min 40 s for
12 lessons -- server start 7 s, each released notebook 11-18 s (open, run cell by cell 5-11 s,
save, screenshots), each widget lesson 11-18 s, Formgrader 5 s, Assignment List 2 s.
`make test-browser` runs only these; `make test` runs them with everything else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from repo import ROOT

from labpage import CHROMIUM, launched_chromium

from crmkit.engine.jupyter_env import jupyter_state_env

sys.path.insert(0, str(ROOT / "deploy" / "hub"))
import prepare  # noqa: E402  (deploy/hub/prepare.py: the course copy the hub serves)

SHOTS = ROOT / "screenshots" / "browser"
SERVER_START_TIMEOUT = 180
VIEWPORT = {"width": 1440, "height": 1200}


def _skip_reason() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"no Chromium at {CHROMIUM}: `make setup` installs Debian's chromium package as root or "
                "with sudo -n; install it by hand (apt-get install chromium) to run the browser tests")
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    browser_items = [item for item in items if Path(str(item.fspath)).is_relative_to(here)]
    if browser_items:
        # loud: once in the terminal at collection, and as the skip reason of every browser test
        msg = f"!!! BROWSER TESTS SKIPPED: {reason}"
        print("\n" + msg, file=sys.stderr)
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=msg))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_course(dest: Path) -> Path:
    """A copy of the course in ``dest`` as the hub's set-up makes it (deploy/hub/prepare.py:
    everything JupyterLab, the notebooks and nbgrader read; no checkpoints or caches)."""
    prepare.copy_course(dest, ROOT)
    return dest


def _write_lab_settings(state: Path) -> None:
    """JupyterLab settings for a test run: every cell in the DOM (windowing mode 'contentVisibility':
    the browser skips the layout of cells out of view, but they are there, so the tests see all
    outputs), no news or update checks (closed network, no pop-ups); the app is exposed as
    ``window.jupyterapp`` so that a test can run its commands (see labpage.run_cell_by_cell)."""
    env = jupyter_state_env(state)
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    for name, value in {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "contentVisibility"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    config = Path(env["JUPYTER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.py").write_text(
        "c.LabApp.news_url = None\n"
        "c.LabApp.expose_app_in_browser = True\n"
        "c.LabApp.check_for_updates_class = 'jupyterlab.handlers.announcements.NeverCheckForUpdate'\n",
        encoding="utf-8")


@dataclass
class LabServer:
    """A running JupyterLab server on a copy of the course."""

    course: Path
    port: int
    token: str
    proc: subprocess.Popen
    log: Path
    runtime_dir: Path
    env: dict

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.base}/api/{path.lstrip('/')}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        """Run ``nbgrader <args>`` in the course copy with the server's environment."""
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.course, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def shutdown_kernels(self) -> None:
        """Shut down every kernel of this server (REST API); errors are ignored."""
        try:
            for kernel in self.api("kernels"):
                try:
                    self.api(f"kernels/{kernel['id']}", method="DELETE")
                except (OSError, urllib.error.URLError):
                    pass
        except (OSError, urllib.error.URLError, ValueError):
            pass


def _kernel_pids(runtime_dir: Path) -> list[int]:
    """Pids of processes whose command line names a file in this server's runtime folder (its
    kernels: ``ipykernel_launcher -f <runtime>/kernel-*.json``). Scoped to this run's unique
    temporary path, so nothing else on the machine matches."""
    needle = str(runtime_dir)
    pids = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline and "kernel" in cmdline:
            pids.append(int(proc_dir.name))
    return pids


def stop_server(server: LabServer) -> None:
    """Stop the server and its kernels by process id (see the module docstring)."""
    proc = server.proc
    if proc.poll() is None:
        server.shutdown_kernels()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    # the whole group, in case a child outlived the server process itself
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in _kernel_pids(server.runtime_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory) -> LabServer:
    """JupyterLab on a temporary copy of the course; always stopped at the end of the session."""
    top = tmp_path_factory.mktemp("browser")
    course = copy_course(top / "course")
    state = top / "jupyter-state"
    _write_lab_settings(state)
    (top / "tmp").mkdir()
    env = {**os.environ, **jupyter_state_env(state),
           "CRMKIT_DATA_DIR": str(course / "data"), "TMPDIR": str(top / "tmp"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("MPLBACKEND", None)  # the kernels' plots need the inline backend (see crmkit.engine.jupyter_env)
    for key, value in env.items():
        if key.endswith("_DIR") and key in jupyter_state_env(state):
            Path(value).mkdir(parents=True, exist_ok=True)
    # matplotlib's font cache is built once here, not as a stderr warning in a notebook's first cell
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], env=env, check=True,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=300)

    port, token = _free_port(), secrets.token_hex(24)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.root_dir={course}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = top / "jupyterlab.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(cmd, cwd=course, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(course, port, token, proc, log, Path(env["JUPYTER_RUNTIME_DIR"]), env)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with status {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("status")
                break
            except (OSError, urllib.error.URLError, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, launched by Playwright (no browser download)."""
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser, lab_server):
    """A fresh browser context and page per test. Afterwards the server's kernels are shut down,
    so that no test leaves a kernel running for the next ones (and the final stop is quick)."""
    context = browser.new_context(viewport=VIEWPORT, locale="fi-FI")
    context.set_default_timeout(60_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
        lab_server.shutdown_kernels()


def shot_path(request, suffix: str = "") -> Path:
    """screenshots/browser/<test name>[-suffix].png"""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}{'-' + suffix if suffix else ''}.png"


@pytest.fixture
def shot(page, request):
    """``shot("after")`` saves a full-page screenshot named by the test; ``shot("x", locator)`` a
    screenshot of one element (e.g. a notebook cell)."""
    def take(suffix: str = "", locator=None) -> Path:
        path = shot_path(request, suffix)
        if locator is None:
            page.screenshot(path=str(path), full_page=True)
        else:
            locator.screenshot(path=str(path))
        return path
    return take
