"""The course's JupyterHub configuration, shared by the one-server hub and by z2jh (Kubernetes).

One module, loaded by both entry points, so that a class on one server and a school on Kubernetes
get the same roles, the same per-role environment and the same nbgrader set-up:

- ``deploy/hub/jupyterhub_config.py`` (one Linux server): ``configure(c, s)`` then
  ``configure_local(c, s)`` -- PAM and system users, LocalProcessSpawner, configurable-http-proxy;
- ``deploy/z2jh/config.yaml`` (``hub.extraConfig``): ``configure(c, s)`` then
  ``configure_kubernetes(c, s)`` -- KubeSpawner, the exchange and the course on shared volumes.

Roles. A user in the hub group ``Settings.teachers_group`` is a *teacher*; everyone else the
authenticator lets in is a *student*. The role decides, per user server:

- ``JUPYTER_CONFIG_PATH`` -> ``<jupyter_config_root>/<role>/`` (``deploy/jupyter/``): students get
  nbgrader's configuration for the exchange only and have the Formgrader, Create Assignment and
  Course List extensions switched off; teachers load the course directory's ``nbgrader_config.py``;
- teachers' servers open in the course directory (the Formgrader needs the course under the
  server's root) and only they get the gradebook's URL (``CRMKIT_DB_URL``);
- in the hub, the teachers' group holds the role ``crmkit-teacher``: the admin page, and starting
  or stopping the students' servers.

Hiding the Formgrader is a convenience, not the protection: what keeps solutions, the gradebook and
other students' work from a student is file ownership (one Linux user, or one uid on Kubernetes,
per person) and the course directory's group permissions, which ``prepare.py`` sets and
``tests/hub/`` checks as each user.

Settings come from environment variables (:meth:`Settings.from_env`), so that a systemd unit, a
Helm chart and a test set them the same way.
"""

from __future__ import annotations

import copy
import grp
import os
import pwd
import shutil
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

TEACHER = "teacher"
STUDENT = "student"
ROLES = (TEACHER, STUDENT)
#: the hub role that the teachers' group gets (JupyterHub RBAC)
TEACHER_HUB_ROLE = "crmkit-teacher"
#: scheduling priority of the users' servers and kernels on one server (the hub's stays 0)
USER_NICE = 5
#: default folder of the per-role Jupyter configuration (deploy/jupyter/ next to this folder)
DEFAULT_JUPYTER_CONFIG_ROOT = str(Path(__file__).resolve().parent.parent / "jupyter")


class SettingsError(ValueError):
    """A hub setting is missing or wrong; the message names the variable and what to do."""


def _env_name(name: str) -> str:
    return "CRMKIT_" + name.upper()


@dataclass(frozen=True)
class Settings:
    """What the hub needs to know about the course. Each field is read from the environment
    variable ``CRMKIT_<FIELD>`` (e.g. ``CRMKIT_COURSE_DIR``); paths must be absolute."""

    #: nbgrader's course id (the exchange's folder name; nbgrader_config.py's CourseDirectory.course_id)
    course_id: str = "cus4lh102"
    #: the course directory (nbgrader_config.py, solutions/, notebooks/, grading/): teachers only
    course_dir: str = "/srv/crmkit/course"
    #: nbgrader's exchange, shared by everyone (release, submit, collect, feedback)
    exchange_root: str = "/srv/nbgrader/exchange"
    #: the data world the students' notebooks read (no answer key in it)
    data_dir: str = "/srv/crmkit/data"
    #: holds teacher/ and student/ Jupyter configuration folders (deploy/jupyter/)
    jupyter_config_root: str = DEFAULT_JUPYTER_CONFIG_ROOT
    #: the hub group (on one server also the Linux group) of the teachers
    teachers_group: str = "crmkit-teachers"
    #: the Linux group of the students (one server: who may log in besides the teachers)
    students_group: str = "crmkit-students"
    #: the gradebook (CourseDirectory.db_url), e.g. postgresql+psycopg2://user:password@host:5432/db;
    #: empty: nbgrader_config.py's SQLite file in grading/. Given to teachers' servers only.
    db_url: str = ""
    #: seconds without activity before a user's server stops itself (one server) or is culled (z2jh)
    idle_timeout: int = 3600
    #: one server: servers starting at the same time; the next ones are asked to try again in
    #: 30-60 s (bench_hub.py: 80 at once on 2 cores starved the hub and the proxy)
    spawn_limit: int = 20
    #: comma-separated hub admins (IT staff), optional
    hub_admins: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        """Settings from ``CRMKIT_*`` variables (``os.environ`` by default); unset ones keep
        their defaults. Raises :class:`SettingsError` on a bad value."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(_env_name(f.name))
            if raw is None or raw == "":
                continue
            if f.name in ("idle_timeout", "spawn_limit"):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise SettingsError(f"{_env_name(f.name)}={raw!r}: a whole number, e.g. "
                                        f"{getattr(cls, f.name)}") from None
            elif f.name == "hub_admins":
                values[f.name] = tuple(x.strip() for x in raw.split(",") if x.strip())
            else:
                values[f.name] = raw
        settings = cls(**values)
        settings.check_values()
        return settings

    def check_values(self) -> None:
        """Raise :class:`SettingsError` if a value is malformed (not whether paths exist)."""
        for name in ("course_dir", "exchange_root", "data_dir", "jupyter_config_root"):
            value = getattr(self, name)
            if not os.path.isabs(value):
                raise SettingsError(f"{_env_name(name)}={value!r} must be an absolute path")
        if not self.course_id or not self.course_id.replace("_", "").replace("-", "").isalnum():
            raise SettingsError(f"CRMKIT_COURSE_ID={self.course_id!r}: letters, digits, - and _ only")
        if self.teachers_group == self.students_group:
            raise SettingsError("CRMKIT_TEACHERS_GROUP and CRMKIT_STUDENTS_GROUP must differ")
        if self.idle_timeout < 60:
            raise SettingsError(f"CRMKIT_IDLE_TIMEOUT={self.idle_timeout}: at least 60 seconds")
        if self.spawn_limit < 1:
            raise SettingsError(f"CRMKIT_SPAWN_LIMIT={self.spawn_limit}: at least 1")
        if self.db_url and "://" not in self.db_url:
            raise SettingsError("CRMKIT_DB_URL is not an SQLAlchemy URL "
                                "(postgresql+psycopg2://user:password@host:5432/db)")
        if self.db_url.startswith(("postgresql://", "postgres://")):
            # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the kit installs psycopg2
            raise SettingsError("CRMKIT_DB_URL: name the driver the kit installs, "
                                "postgresql+psycopg2://user:password@host:5432/db")


def role_of(hub_groups, settings: Settings) -> str:
    """The course role of a user who belongs to the hub groups ``hub_groups`` (names)."""
    return TEACHER if settings.teachers_group in set(hub_groups) else STUDENT


def role_environment(role: str, settings: Settings) -> dict[str, str]:
    """The environment variables of a user server of ``role`` (teacher or student)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {ROLES}")
    env = {
        "CRMKIT_ROLE": role,
        "CRMKIT_COURSE_ID": settings.course_id,
        "CRMKIT_EXCHANGE_ROOT": settings.exchange_root,
        "JUPYTER_CONFIG_PATH": os.path.join(settings.jupyter_config_root, role),
    }
    if role == TEACHER:
        env.update({
            # where the teacher's server starts: crmkit's commands, like nbgrader's, find the course
            # from the working folder (or --course-dir)
            "CRMKIT_COURSE_DIR": settings.course_dir,
            "CRMKIT_DATA_DIR": os.path.join(settings.course_dir, "data"),
        })
        if settings.db_url:
            env["CRMKIT_DB_URL"] = settings.db_url
    else:
        env["CRMKIT_DATA_DIR"] = settings.data_dir
    return env


def teacher_hub_role(settings: Settings) -> dict:
    """JupyterHub role of the teachers' group: the admin page, the students' names, and starting
    or stopping the students' servers (not opening them: that stays with the students)."""
    students = f"group={settings.students_group}"
    return {
        "name": TEACHER_HUB_ROLE,
        "description": "Course teachers: see the students and start/stop their servers",
        "scopes": ["admin-ui", "list:users", f"read:users!{students}", f"servers!{students}",
                   "read:groups", "list:groups"],
        "groups": [settings.teachers_group],
    }


def make_pre_spawn_hook(settings: Settings, extra=None):
    """A ``Spawner.pre_spawn_hook`` that gives each server its role's environment (and teachers
    the course directory as the server's root). ``extra(spawner, role)``, if given, runs after
    (the Kubernetes part adds volumes and the gradebook secret)."""

    def crmkit_pre_spawn_hook(spawner):
        _restore_configured(spawner)
        role = role_of([g.name for g in spawner.user.groups], settings)
        spawner.environment = {**spawner.environment, **role_environment(role, settings)}
        spawner.notebook_dir = settings.course_dir if role == TEACHER else spawner.notebook_dir
        spawner.log.info("crmkit: %s starts as %s", spawner.user.name, role)
        if extra is not None:
            extra(spawner, role)

    return crmkit_pre_spawn_hook


#: what the hook changes on a spawner; the hub keeps a user's spawner between starts, so each start
#: begins again from the configured values (a teacher who lost the role keeps nothing of it)
_PER_START = ("environment", "notebook_dir", "volumes", "volume_mounts", "supplemental_gids")


def _restore_configured(spawner) -> None:
    """Put back the configured values of ``_PER_START`` (saved at the spawner's first start)."""
    saved = getattr(spawner, "_crmkit_configured", None)
    if saved is None:
        saved = {name: copy.deepcopy(getattr(spawner, name)) for name in _PER_START if hasattr(spawner, name)}
        spawner._crmkit_configured = saved
    for name, value in saved.items():
        setattr(spawner, name, copy.deepcopy(value))


def _extend(section, key: str, values: list) -> None:
    """Add ``values`` to a list setting that the hub's own configuration may already hold
    (z2jh puts its culler's role and service there): extend, never replace."""
    getattr(section, key).extend(values)


def configure(c, settings: Settings) -> None:
    """What both hubs share: the teachers' hub role, the per-role spawn hook, JupyterLab as the
    start page, idle kernels shut down after ``settings.idle_timeout``."""
    _extend(c.JupyterHub, "load_roles", [teacher_hub_role(settings)])
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(settings)
    c.Spawner.default_url = "/lab"
    _extend(c.Spawner, "args", [f"--MappingKernelManager.cull_idle_timeout={settings.idle_timeout}",
                                "--MappingKernelManager.cull_interval=300"])
    # a class starts at once: a server waits for the CPU rather than fails (bench_hub.py: with
    # 2 cores, 80 servers asked for in the same second did not all answer within 180 s)
    c.Spawner.start_timeout = 300
    c.Spawner.http_timeout = 300
    if settings.hub_admins:
        c.Authenticator.admin_users = set(settings.hub_admins)


# ---------------------------------------------------------------------------------------------
# one Linux server


def linux_groups_of(name: str) -> set[str]:
    """Names of the user's Linux groups, primary and supplementary (through NSS: local files,
    LDAP or AD alike); empty for an unknown user."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return set()
    names = set()
    for gid in os.getgrouplist(name, pw.pw_gid):
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            pass
    return names


def make_linux_groups_hook(settings: Settings):
    """A ``post_auth_hook`` that copies the user's course groups from Linux into the hub at every
    login (``Authenticator.manage_groups``)."""

    def crmkit_linux_groups(authenticator, handler, authentication):
        mine = linux_groups_of(authentication["name"])
        authentication["groups"] = [g for g in (settings.teachers_group, settings.students_group) if g in mine]
        return authentication

    return crmkit_linux_groups


def _private_home(spawner, role):
    """One Linux user per person: a home folder that others can enter (useradd's default 0755 on
    Debian) is closed to 0700 before the server starts."""
    home = pwd.getpwnam(spawner.user.name).pw_dir
    try:
        mode = os.stat(home).st_mode
    except FileNotFoundError:
        raise RuntimeError(f"{spawner.user.name} has no home folder {home} (useradd -m)") from None
    if mode & 0o077:
        try:
            os.chmod(home, 0o700)
        except OSError as e:  # e.g. a home on NFS with root squashed
            spawner.log.warning("crmkit: %s's home %s is open to others (%o) and cannot be closed: %s",
                                spawner.user.name, home, mode & 0o777, e)
            return
        spawner.log.warning("crmkit: closed %s's home %s to 0700 (was %o)", spawner.user.name, home, mode & 0o777)


def find_proxy(prefix: str | None = None) -> str:
    """configurable-http-proxy: the copy the set-up installs into the environment
    (``<venv>/hub-node/node_modules/.bin``), else the one on PATH."""
    local = Path(prefix or sys.prefix) / "hub-node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return str(local)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    raise SettingsError(f"configurable-http-proxy not found ({local} or PATH): run `make hub-tools`, "
                        "or `npm install -g configurable-http-proxy@5`")


def local_problems(settings: Settings, python_bin: str) -> list[str]:
    """What is missing on this server for the hub to work: groups, folders, a Python the users can
    run. Empty when ready (``prepare.py`` makes it so)."""
    problems = []
    for g in (settings.teachers_group, settings.students_group):
        try:
            grp.getgrnam(g)
        except KeyError:
            problems.append(f"no Linux group {g!r} (groupadd {g}; or run deploy/hub/prepare.py)")
    for name in ("course_dir", "exchange_root", "data_dir", "jupyter_config_root"):
        path = getattr(settings, name)
        if not os.path.isdir(path):
            problems.append(f"{_env_name(name)}: no folder {path} (run deploy/hub/prepare.py)")
    if os.path.isdir(settings.course_dir) and not os.path.isfile(os.path.join(settings.course_dir, "nbgrader_config.py")):
        problems.append(f"{settings.course_dir} has no nbgrader_config.py: not a course directory")
    singleuser = os.path.join(python_bin, "jupyterhub-singleuser")
    if not os.access(singleuser, os.X_OK):
        problems.append(f"no {singleuser}: install the kit's environment (make setup)")
    return problems


def configure_local(c, settings: Settings, *, python_bin: str, state_dir: str, bind_url: str = "http://:8000",
                    hub_port: int = 8081, proxy_api_port: int = 8001, api_token: str = "") -> None:
    """One Linux server: PAM logins for the members of the two course groups, one system user per
    person, each server started as that user by LocalProcessSpawner from the course environment
    (``python_bin``: its bin/ folder), configurable-http-proxy from npm, the hub's own state
    (database, cookie secret) in ``state_dir``. ``api_token``, if given, is an admin service
    token for scripts (user management, bench/bench_hub.py)."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.allowed_groups = {settings.teachers_group, settings.students_group}
    c.Authenticator.manage_groups = True
    c.Authenticator.post_auth_hook = make_linux_groups_hook(settings)
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(settings, extra=_private_home)
    # umask 0007 for the user's server: files a teacher writes in the (setgid) course directory stay
    # writable by the teachers' group; nothing anyone writes is readable by other users.
    # nice 5: under a class's load the hub and the proxy keep the CPU first (bench_hub.py: with 80
    # servers starting on 2 cores, the proxy's API timed out and the hub stopped the servers).
    c.Spawner.cmd = ["/bin/sh", "-c", f'umask 0007 && exec nice -n {USER_NICE} "$@"', "crmkit-singleuser",
                     os.path.join(python_bin, "jupyterhub-singleuser")]
    # the server stops itself when idle (z2jh's culler does it on Kubernetes)
    _extend(c.Spawner, "args", [f"--ServerApp.shutdown_no_activity_timeout={settings.idle_timeout}"])
    # the course environment first: nbgrader, crmkit and alembic in a teacher's terminal
    c.Spawner.environment = {"PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"])}
    # (the hub asks the next ones to retry in 30-60 s: JupyterHub 5.5 does not let it be configured)
    c.JupyterHub.concurrent_spawn_limit = settings.spawn_limit
    c.JupyterHub.bind_url = bind_url
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub_port}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"
    c.ConfigurableHTTPProxy.command = [find_proxy(os.path.dirname(python_bin))]
    c.ConfigurableHTTPProxy.pid_file = os.path.join(state_dir, "jupyterhub-proxy.pid")
    c.JupyterHub.db_url = "sqlite:///" + os.path.join(state_dir, "jupyterhub.sqlite")
    c.JupyterHub.cookie_secret_file = os.path.join(state_dir, "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = os.path.join(state_dir, "jupyterhub.pid")
    if api_token:
        _extend(c.JupyterHub, "services", [{"name": "crmkit-admin", "api_token": api_token}])
        _extend(c.JupyterHub, "load_roles", [{"name": "admin", "services": ["crmkit-admin"]}])


# ---------------------------------------------------------------------------------------------
# Kubernetes (z2jh, KubeSpawner); not run on the development machines (no cluster there)


@dataclass(frozen=True)
class KubeSettings:
    """The Kubernetes side: the claim of the course volume (the exchange's volume, mounted in every
    server, is a plain chart value), the Secret that holds the gradebook's URL, and the uids.
    Read from ``CRMKIT_K8S_*`` variables."""

    #: PersistentVolumeClaim of the course directory (mounted at Settings.course_dir, teachers only)
    course_claim: str = "crmkit-course"
    #: Secret and key with the gradebook's SQLAlchemy URL (teachers' servers only)
    db_secret: str = "crmkit-gradebook"
    db_secret_key: str = "db-url"
    #: each user runs as uid_base + the hub's user id, so that nbgrader's exchange permissions
    #: separate students as on one server (otherwise every pod runs as uid 1000)
    uid_base: int = 100000
    #: primary group of every user (home volumes are group-owned by it, fsGroup)
    users_gid: int = 100
    #: group id of the course volume; teachers get it as a supplemental group
    teachers_gid: int = 2000

    @classmethod
    def from_env(cls, env: dict | None = None) -> "KubeSettings":
        """From ``CRMKIT_K8S_<FIELD>`` variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get("CRMKIT_K8S_" + f.name.upper())
            if raw:
                if f.name.endswith(("_base", "_gid")):
                    try:
                        values[f.name] = int(raw)
                    except ValueError:
                        raise SettingsError(f"CRMKIT_K8S_{f.name.upper()}={raw!r}: a whole number") from None
                else:
                    values[f.name] = raw
        return cls(**values)


def configure_kubernetes(c, settings: Settings, kube: KubeSettings | None = None) -> None:
    """KubeSpawner's part (z2jh ``hub.extraConfig``): per-user uids, teachers' supplemental group,
    the course volume and the gradebook Secret for teachers. The exchange volume for everyone and
    resources, image and culling are plain chart values in deploy/z2jh/config.yaml."""
    kube = kube or KubeSettings.from_env()

    def uid(spawner):
        return kube.uid_base + spawner.user.id

    def kube_role(spawner, role):
        if role != TEACHER:
            return
        spawner.supplemental_gids = [*spawner.supplemental_gids, kube.teachers_gid]
        spawner.volumes = [*spawner.volumes,
                           {"name": "crmkit-course", "persistentVolumeClaim": {"claimName": kube.course_claim}}]
        spawner.volume_mounts = [*spawner.volume_mounts, {"name": "crmkit-course", "mountPath": settings.course_dir}]
        spawner.environment = {**spawner.environment, "CRMKIT_DB_URL": {
            "valueFrom": {"secretKeyRef": {"name": kube.db_secret, "key": kube.db_secret_key}}}}

    c.KubeSpawner.uid = uid
    c.KubeSpawner.gid = kube.users_gid
    c.KubeSpawner.fs_gid = kube.users_gid
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(settings, extra=kube_role)
