"""A real course hub for the tests: throwaway Linux users and groups, a prepared server folder, a
running JupyterHub on a loopback port, and (optionally) a PostgreSQL server for the gradebook.

Everything lives in one temporary folder ``/tmp/crmkit-hub-<tag>/`` that users can pass through
(pytest's own tmp_path is private to root): the course directory, the exchange, the data world,
the users' homes, the hub's state and the database cluster. Names carry a random tag
(``ch<4 hex>-...``) so that nothing collides with a real course on the same machine.

Clean-up (``HubWorld.close``) is always by process id or by this run's own names: the hub is
stopped with SIGTERM to its process group (SIGKILL after 20 s), the proxy by the pid in its pid
file (checked to be configurable-http-proxy), every process still owned by a test user by its pid
(/proc), PostgreSQL with ``pg_ctl stop``; then the users and groups are deleted, the traverse ACLs
that prepare.py granted are revoked, and the folder is removed.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from repo import ROOT

DEPLOY = ROOT / "deploy" / "hub"
sys.path.insert(0, str(DEPLOY))

import crmkit_hub  # noqa: E402
import prepare  # noqa: E402


#: the assignment and exercise the hub tests take through the exchange
SLUG = "00_aloitus"
EXERCISE = "t1_1_asiakasmaarat"
#: each student's answer to the exercise and whether it is right: two right (differently written),
#: one with the usual mistake the visible test names (the "All" margins of crosstab)
ANSWERS = [
    ('customer_counts = pd.crosstab(customers["customer_type"], customers["status"])', True),
    ('customer_counts = pd.crosstab(customers["customer_type"], customers["status"], margins=True)', False),
    ('customer_counts = customers.groupby(["customer_type", "status"]).size().unstack(fill_value=0)', True),
]

HUB_START_TIMEOUT = 60
#: (module, test) of every hub test that failed so far: a flow's later steps stop early, naming the
#: first failed one (conftest.py records them, :func:`step` checks)
STEPS_FAILED: list[tuple[str, str]] = []


def step(module: str) -> None:
    """Fail at once if an earlier step of the flow in ``module`` failed."""
    import pytest

    failed = [name for mod, name in STEPS_FAILED if mod == module]
    if failed:
        pytest.fail(f"not run: the earlier step {failed[0]!r} failed")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw) -> subprocess.CompletedProcess:
    """subprocess.run with output captured as text and no stdin."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("errors", "replace")
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(cmd, **kw)


def pg_bin_dir() -> Path | None:
    """Debian's PostgreSQL server binaries (initdb, pg_ctl, psql), newest version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
                   if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class User:
    """A throwaway Linux user of the course."""

    name: str
    password: str
    role: str  # crmkit_hub.TEACHER or STUDENT

    @property
    def home(self) -> Path:
        return Path(pwd.getpwnam(self.name).pw_dir)

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.name).pw_uid


@dataclass
class HubWorld:
    """Users, folders and a running hub; see the module docstring."""

    top: Path
    tag: str
    settings: crmkit_hub.Settings
    teacher: User
    students: list[User]
    port: int = 0
    hub_port: int = 0
    proxy_api_port: int = 0
    api_token: str = ""
    hub: subprocess.Popen | None = None
    pg: "Postgres | None" = None
    extra_users: list[str] = field(default_factory=list)

    # -- set-up ------------------------------------------------------------------------------

    @classmethod
    def create(cls, n_students: int = 3, db_url_from_pg: bool = False) -> "HubWorld":
        """Groups, users (passwords set for PAM), a prepared course folder; the hub is started by
        :meth:`start_hub` (after a PostgreSQL server if ``db_url_from_pg``)."""
        tag = "ch" + secrets.token_hex(2)
        top = Path(tempfile.mkdtemp(prefix=f"crmkit-hub-{tag}-", dir="/tmp"))
        os.chmod(top, 0o755)
        settings = crmkit_hub.Settings(
            course_dir=str(top / "course"), exchange_root=str(top / "exchange"), data_dir=str(top / "data"),
            teachers_group=f"{tag}-teachers", students_group=f"{tag}-students")
        world = cls(top=top, tag=tag, settings=settings,
                    teacher=User(f"{tag}-opettaja", secrets.token_urlsafe(12), crmkit_hub.TEACHER),
                    students=[User(f"{tag}-opiskelija{i}", secrets.token_urlsafe(12), crmkit_hub.STUDENT)
                              for i in range(1, n_students + 1)])
        try:
            (top / "home").mkdir(mode=0o755)
            prepare.ensure_groups(settings, create=True)
            for user in [world.teacher, *world.students]:
                group = settings.teachers_group if user.role == crmkit_hub.TEACHER else settings.students_group
                world.add_user(user.name, user.password, group)
            prepare.prepare(settings, python=sys.executable, state_dir=world.state_dir, grant=True)
        except BaseException:
            world.close()
            raise
        return world

    @property
    def state_dir(self) -> Path:
        return self.top / "hub"

    @property
    def users(self) -> list[User]:
        return [self.teacher, *self.students]

    def add_user(self, name: str, password: str | None, group: str | None) -> None:
        """useradd with a private home (0700, as deploy/README.md tells the admin) under the world's
        folder; the password set for PAM (chpasswd)."""
        cmd = ["useradd", "-m", "-K", "HOME_MODE=0700", "-b", str(self.top / "home"), "-s", "/bin/bash"]
        if group:
            cmd += ["-G", group]
        proc = run(cmd + [name])
        assert proc.returncode == 0, f"useradd {name}: {proc.stderr}"
        self.extra_users.append(name)
        if password:
            proc = run(["chpasswd"], input=f"{name}:{password}\n", stdin=None)
            assert proc.returncode == 0, f"chpasswd {name}: {proc.stderr}"

    def start_hub(self) -> None:
        """JupyterHub (deploy/hub/jupyterhub_config.py) on a free loopback port, as root, in its own
        process group; waits until the hub's API answers."""
        self.port, self.hub_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.api_token = secrets.token_hex(32)
        env = {**os.environ, **self.hub_env()}
        log = open(self.top / "jupyterhub.log", "wb")
        self.hub = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f",
                                     str(DEPLOY / "jupyterhub_config.py")],
                                    cwd=self.state_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + HUB_START_TIMEOUT
        while True:
            if self.hub.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {self.hub.returncode}:\n{self.log_tail()}")
            try:
                self.api("")
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterHub did not answer in {HUB_START_TIMEOUT} s:\n{self.log_tail()}")
                time.sleep(0.3)

    def hub_env(self) -> dict[str, str]:
        """The CRMKIT_* variables the hub reads (as the systemd unit's EnvironmentFile would)."""
        s = self.settings
        env = {"CRMKIT_COURSE_DIR": s.course_dir, "CRMKIT_EXCHANGE_ROOT": s.exchange_root,
               "CRMKIT_DATA_DIR": s.data_dir, "CRMKIT_TEACHERS_GROUP": s.teachers_group,
               "CRMKIT_STUDENTS_GROUP": s.students_group, "CRMKIT_HUB_STATE_DIR": str(self.state_dir),
               "CRMKIT_HUB_BIND_URL": f"http://127.0.0.1:{self.port}", "CRMKIT_HUB_PORT": str(self.hub_port),
               "CRMKIT_HUB_PROXY_API_PORT": str(self.proxy_api_port), "CRMKIT_HUB_API_TOKEN": self.api_token}
        if s.db_url:
            env["CRMKIT_DB_URL"] = s.db_url
        return env

    # -- using it ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET", body: dict | None = None, token: str | None = None):
        """The hub's REST API (``/hub/api/<path>``) with the admin service token."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}/hub/api/{path.lstrip('/')}", data=data, method=method,
                                     headers={"Authorization": f"token {token or self.api_token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def api_user_server(self, user: User, path: str):
        """GET ``/user/<name>/<path>`` of a user's running server (JSON), with the admin service
        token (it has access to every server)."""
        req = urllib.request.Request(f"{self.url}/user/{user.name}/{path.lstrip('/')}",
                                     headers={"Authorization": f"token {self.api_token}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def login_form(self, user: User) -> int:
        """Log in through the hub's login form over HTTP (PAM checks the password; the hub copies
        the user's Linux groups); returns the HTTP status of the form's answer (302 when right)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        opener.open(f"{self.url}/hub/login", timeout=30).read()
        xsrf = next((c.value for c in jar if c.name == "_xsrf"), "")
        form = urllib.parse.urlencode({"username": user.name, "password": user.password, "_xsrf": xsrf}).encode()
        try:
            with opener.open(f"{self.url}/hub/login?next=", data=form, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    def start_server(self, user: User, timeout: float = 180) -> None:
        """Start the user's server through the hub's REST API and wait until it is ready."""
        try:
            self.api(f"users/{user.name}/server", method="POST", body={})
        except urllib.error.HTTPError as e:
            if e.code != 400:  # 400: already running
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.api(f"users/{user.name}").get("servers", {}).get("")
            if server and server.get("ready"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{user.name}'s server was not ready in {timeout} s:\n{self.log_tail()}")

    def stop_server(self, user: User, timeout: float = 60) -> None:
        """Stop the user's server through the hub's REST API and wait until it is gone."""
        try:
            self.api(f"users/{user.name}/server", method="DELETE")
        except urllib.error.HTTPError as e:
            if e.code != 400:
                raise
        deadline = time.monotonic() + timeout
        while self.api(f"users/{user.name}").get("servers"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{user.name}'s server did not stop in {timeout} s")
            time.sleep(0.5)

    def server_environ(self, user: User) -> dict[str, str]:
        """The environment of the user's running Jupyter server process (/proc/<pid>/environ)."""
        for pid in self.server_pids(user):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"jupyterhub-singleuser" not in cmdline:
                    continue
                raw = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
        raise AssertionError(f"no running server of {user.name}")

    def log_tail(self, n: int = 60) -> str:
        """The last lines of the hub's log."""
        try:
            return "\n".join((self.top / "jupyterhub.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no hub log)"

    def user_env(self, user: User) -> dict[str, str]:
        """The environment of ``user``'s server, as the hub gives it (for commands run as them)."""
        env = crmkit_hub.role_environment(user.role, self.settings)
        env.update({"HOME": str(user.home), "USER": user.name, "LOGNAME": user.name, "LANG": "C.UTF-8",
                    "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])})
        return env

    def as_user(self, user: User, *cmd: str, cwd: str | Path | None = None, input: str | None = None,
                timeout: int = 600) -> subprocess.CompletedProcess:
        """Run ``cmd`` as the Linux user (runuser), with their server's environment and umask 0007,
        in ``cwd`` (default: their home; a teacher's server starts in the course directory)."""
        if cwd is None:
            cwd = self.settings.course_dir if user.role == crmkit_hub.TEACHER else user.home
        env_args = [f"{k}={v}" for k, v in self.user_env(user).items()]
        full = ["runuser", "-u", user.name, "--", "env", "-i", *env_args, "sh", "-c", 'umask 0007; exec "$@"',
                "sh", *cmd]
        return run(full, cwd=cwd, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                   timeout=timeout)

    def check(self, user: User, *cmd: str, **kw) -> str:
        """:meth:`as_user` that must succeed; returns stdout+stderr."""
        proc = self.as_user(user, *cmd, **kw)
        assert proc.returncode == 0, f"as {user.name}: {' '.join(cmd)} failed ({proc.returncode}):\n" \
                                     f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc.stdout + proc.stderr

    def server_pids(self, user: User) -> list[int]:
        """Pids of the processes running as ``user``."""
        uid = user.uid
        return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid]

    # -- clean-up ----------------------------------------------------------------------------

    def stop_hub(self) -> None:
        """Stop the hub (and through it the user servers), then the proxy, by pid."""
        if self.hub is not None and self.hub.poll() is None:
            try:
                os.killpg(self.hub.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.hub.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.hub.pid, signal.SIGKILL)
                self.hub.wait(timeout=10)
        pid_file = self.state_dir / "jupyterhub-proxy.pid"
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text().strip())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"configurable-http-proxy" in cmdline:
                    os.kill(pid, signal.SIGKILL)
            except (ValueError, OSError):
                pass

    def close(self) -> None:
        """Tear everything down (see the module docstring); safe to call twice. The users' servers
        are killed first (by pid), so that the hub does not wait for each to shut down."""
        names = [n for n in dict.fromkeys(self.extra_users) if not (self.pg and n == self.pg.os_user)]
        for name in names:
            _kill_user_processes(name)
        self.stop_hub()
        if self.pg is not None:
            self.pg.stop()
        names = list(dict.fromkeys(self.extra_users))
        for name in names:
            _kill_user_processes(name)
        for name in names:
            run(["userdel", name])
        for group in (self.settings.teachers_group, self.settings.students_group):
            run(["groupdel", group])
        prepare.revoke_traverse(self.state_dir / prepare.TRAVERSE_RECORD)
        shutil.rmtree(self.top, ignore_errors=True)
        self.extra_users.clear()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _owner(proc_dir: Path) -> int | None:
    try:
        return proc_dir.stat().st_uid
    except OSError:
        return None


def _kill_user_processes(name: str) -> None:
    """SIGKILL every process owned by the (throwaway) user ``name``, each by its pid."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for _ in range(3):
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)


@dataclass
class Postgres:
    """A PostgreSQL server in a temporary folder, run by a throwaway system user (PostgreSQL
    refuses to run as root), on a free loopback port with password logins."""

    bin_dir: Path
    data: Path
    sock: Path
    port: int
    os_user: str
    password: str
    db: str = "crmkit_gradebook"
    role: str = "crmkit_grader"

    @classmethod
    def start(cls, world: HubWorld) -> "Postgres":
        """initdb + pg_ctl start + a role and a database for the gradebook."""
        bin_dir = pg_bin_dir()
        assert bin_dir, "no PostgreSQL server binaries (apt-get install postgresql)"
        os_user = f"{world.tag}-pg"
        world.add_user(os_user, None, None)
        base = world.top / "pg"
        base.mkdir()
        pg = cls(bin_dir, base / "data", base / "sock", free_port(), os_user, secrets.token_urlsafe(16))
        pg.sock.mkdir()
        shutil.chown(base, os_user)
        shutil.chown(pg.sock, os_user)
        os.chmod(base, 0o700)
        pwfile = base / "superuser.pw"
        pwfile.write_text(secrets.token_urlsafe(16))
        shutil.chown(pwfile, os_user)
        os.chmod(pwfile, 0o600)
        pg._as_os_user(str(bin_dir / "initdb"), "-D", str(pg.data), "-U", os_user, "--auth-local=peer",
                       "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8")
        world.pg = pg
        pg._as_os_user(str(bin_dir / "pg_ctl"), "-D", str(pg.data), "-l", str(base / "postgres.log"), "-w",
                       "-t", "60", "-o", f"-p {pg.port} -k {pg.sock} -c listen_addresses=127.0.0.1", "start")
        pg.psql(f"CREATE ROLE {pg.role} LOGIN PASSWORD '{pg.password}'")
        pg.psql(f"CREATE DATABASE {pg.db} OWNER {pg.role}")
        return pg

    def _as_os_user(self, *cmd: str) -> str:
        proc = run(["runuser", "-u", self.os_user, "--", *cmd], cwd="/", timeout=120)
        assert proc.returncode == 0, f"{' '.join(cmd)}: {proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL as the cluster's superuser, the OS user (local socket, peer authentication)."""
        return self._as_os_user(str(self.bin_dir / "psql"), "-h", str(self.sock), "-p", str(self.port),
                                "-U", self.os_user, "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql)

    @property
    def url(self) -> str:
        """The gradebook's SQLAlchemy URL (psycopg2, TCP on the loopback, password)."""
        return f"postgresql+psycopg2://{self.role}:{self.password}@127.0.0.1:{self.port}/{self.db}"

    def stop(self) -> None:
        """pg_ctl stop (fast), if it runs."""
        if (self.data / "postmaster.pid").exists():
            run(["runuser", "-u", self.os_user, "--", str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m",
                 "fast", "-w", "-t", "30", "stop"], cwd="/", timeout=60)
