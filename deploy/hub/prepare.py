"""Prepare one Linux server for the course hub: groups, folders and their permissions. Run as root.

    python deploy/hub/prepare.py [--create-groups] [--grant-traverse] [--protect-kit] [--check]

Reads the same ``CRMKIT_*`` settings as the hub (crmkit_hub.Settings) and makes, idempotently:

- the Linux groups of teachers and students (``--create-groups``; otherwise they must exist);
- the **course directory** (a copy of the kit's course if it is missing): group = teachers,
  folders ``2770`` (setgid, so new files get the teachers' group), files ``0660``; no access for
  anyone else, so students cannot read solutions/, grading/ or the gradebook;
- the **data world** the students read: a copy of the kit's data/, world-readable, root-owned;
- nbgrader's **exchange**: the root ``1777`` (everyone writes, the sticky bit stops anyone from
  removing what others made, as nbgrader documents) and the course's folder in it owned by
  root:teachers ``2775``; nbgrader then makes ``inbound`` write-only for students;
- the hub's state folder (``CRMKIT_HUB_STATE_DIR``), root only.

It then proves that a member of the students' group can run the course environment's Python
(``setpriv`` as ``nobody`` in that group). If a folder on the way is closed (the kit's Python
under ``/root/.pyenv``, for example), ``--grant-traverse`` lets the two course groups pass through
it (POSIX ACL ``g:<group>:--x``, no listing), and records what it changed in the state folder, so
that ``--revoke-traverse`` undoes it. Better for a real server: an environment outside any private
home (see deploy/README.md). ``--protect-kit`` closes the kit's own solutions/ and grading/ to
other users (every user reaches the kit's folder: the course environment lives there).
``--check`` changes nothing and exits 1 if something is missing.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import crmkit_hub  # noqa: E402

KIT = Path(__file__).resolve().parent.parent.parent
#: what a course directory copied from the kit holds (as the kit's own tests' course copies)
COURSE_ITEMS = ["nbgrader_config.py", "solutions", "notebooks", "data", "grading/policy.toml",
                "grading/policies", "grading/README.md"]
TRAVERSE_RECORD = "crmkit-traverse-acl.json"


class PrepareError(RuntimeError):
    """The server cannot be prepared; the message says what to do."""


def _say(msg: str) -> None:
    print(f"prepare: {msg}", flush=True)


def ensure_groups(settings: crmkit_hub.Settings, create: bool) -> dict[str, int]:
    """The gids of the teachers' and students' groups, created (``groupadd --system``) if asked."""
    gids = {}
    for name in (settings.teachers_group, settings.students_group):
        try:
            gids[name] = grp.getgrnam(name).gr_gid
        except KeyError:
            if not create:
                raise PrepareError(f"no Linux group {name!r}: create it (groupadd {name}) or pass --create-groups")
            subprocess.run(["groupadd", "--system", name], check=True)
            _say(f"created group {name}")
            gids[name] = grp.getgrnam(name).gr_gid
    return gids


def copy_course(dest: Path, kit: Path = KIT) -> None:
    """Copy the kit's course (COURSE_ITEMS) into ``dest`` (no checkpoints or caches)."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for item in COURSE_ITEMS:
        src, dst = kit / item, dest / item
        if not src.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def restrict_to_group(top: Path, gid: int) -> None:
    """Everything under ``top``: group ``gid`` with read/write, folders setgid, nothing for
    others (folders 2770, files 0660, executables 0770). The owner is kept."""
    for dirpath, dirnames, filenames in os.walk(top):
        os.chown(dirpath, -1, gid)
        os.chmod(dirpath, 0o2770)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            os.chown(path, -1, gid)
            mode = os.stat(path).st_mode
            os.chmod(path, 0o770 if mode & stat.S_IXUSR else 0o660)


def make_world_readable(top: Path) -> None:
    """Root-owned and readable by everyone, writable by nobody else (folders 0755, files 0644)."""
    for dirpath, dirnames, filenames in os.walk(top):
        os.chown(dirpath, 0, 0)
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chown(path, 0, 0)
                os.chmod(path, 0o644)


def prepare_exchange(settings: crmkit_hub.Settings, teachers_gid: int) -> None:
    """nbgrader's exchange root (1777) and the course's folder in it (root:teachers 2775)."""
    root = Path(settings.exchange_root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o1777)
    course = root / settings.course_id
    course.mkdir(exist_ok=True)
    os.chown(course, 0, teachers_gid)
    os.chmod(course, 0o2775)


def closed_folders(paths, gids) -> list[Path]:
    """Folders on the way to ``paths`` that members of the groups ``gids`` cannot pass through
    (no x for others and none for those groups by group or ACL). Owner-root folders only."""
    closed = []
    seen = set()
    for p in paths:
        for parent in reversed(Path(p).parents):
            if parent in seen:
                continue
            seen.add(parent)
            try:
                st = os.stat(parent)
            except FileNotFoundError:
                continue
            if st.st_mode & stat.S_IXOTH or (st.st_gid in gids and st.st_mode & stat.S_IXGRP):
                continue
            if _acl_grants(parent, gids):
                continue
            closed.append(parent)
    return closed


def _acl_grants(path: Path, gids) -> bool:
    if not shutil.which("getfacl"):
        return False
    out = subprocess.run(["getfacl", "-n", "-p", "-e", str(path)], capture_output=True, text=True).stdout
    granted = set()
    for line in out.splitlines():
        parts = line.split("#")[0].strip().split(":")
        if len(parts) >= 3 and parts[0] == "group" and parts[1].isdigit() and "x" in parts[2]:
            # the effective rights follow '#effective:' if the mask restricts them
            eff = line.split("#effective:")[1] if "#effective:" in line else parts[2]
            if "x" in eff:
                granted.add(int(parts[1]))
    return set(gids) <= granted


def python_paths(python: str) -> list[str]:
    """Every file the course environment's Python needs to be reachable: the interpreter's
    symlink chain, its base installation, the environment's site-packages."""
    paths = [python]
    p = Path(python)
    for _ in range(10):  # follow the symlink chain one link at a time
        if not p.is_symlink():
            break
        p = (p.parent / os.readlink(p))
        paths.append(str(p))
    out = subprocess.run([python, "-c", "import sys, sysconfig; print(sys.base_prefix); "
                          "print(sysconfig.get_paths()['stdlib']); print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.split()
    return paths + out


def can_run_as_group(python: str, gid: int, user: str = "nobody") -> tuple[bool, str]:
    """Whether ``user`` in group ``gid`` (and no other group) can import the kit and start a
    user server's code with ``python``; (ok, error text)."""
    proc = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={gid}", "--clear-groups",
                           python, "-c", "import crmkit, jupyterhub.singleuser, nbgrader"],
                          capture_output=True, text=True, cwd="/", timeout=120)
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()[-500:]


def grant_traverse(folders, groups, record: Path) -> None:
    """Let ``groups`` pass through ``folders`` (ACL ``g:<group>:--x``), recording for revoke."""
    if not shutil.which("setfacl"):
        raise PrepareError("setfacl is missing (apt-get install acl); or make these folders passable: "
                           + ", ".join(map(str, folders)))
    done = json.loads(record.read_text()) if record.exists() else []
    for folder in folders:
        had_acl = subprocess.run(["getfacl", "-s", "-p", str(folder)], capture_output=True, text=True).stdout.strip() != ""
        spec = ",".join(f"g:{g}:--x" for g in groups)
        subprocess.run(["setfacl", "-m", spec, str(folder)], check=True)
        done.append({"folder": str(folder), "groups": list(groups), "had_acl": had_acl})
        _say(f"granted traverse (--x) on {folder} to {', '.join(groups)}")
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(done, indent=1))


def revoke_traverse(record: Path) -> None:
    """Undo :func:`grant_traverse` (newest first)."""
    if not record.exists():
        return
    for entry in reversed(json.loads(record.read_text())):
        folder = entry["folder"]
        if not os.path.exists(folder):
            continue
        if entry.get("had_acl"):
            for g in entry["groups"]:
                subprocess.run(["setfacl", "-x", f"g:{g}", folder], check=False)
        else:
            subprocess.run(["setfacl", "-b", folder], check=False)
        _say(f"revoked traverse on {folder}")
    record.unlink()


def readable_solutions(kit: Path = KIT) -> list[Path]:
    """The kit's own solutions/ and grading/ if anyone may read them (an editable install lets
    every user reach the kit's folder)."""
    found = []
    for name in ("solutions", "grading"):
        p = kit / name
        if p.exists() and os.stat(p).st_mode & (stat.S_IROTH | stat.S_IXOTH):
            found.append(p)
    return found


def protect_kit(kit: Path = KIT) -> None:
    """Close the kit's own solutions/ and grading/ to other users (chmod -R o-rwx): the course
    environment is installed from the kit's folder, so every user can reach it."""
    for p in readable_solutions(kit):
        subprocess.run(["chmod", "-R", "o-rwx", str(p)], check=True)
        _say(f"closed {p} to other users (chmod -R o-rwx)")


def prepare(settings: crmkit_hub.Settings, *, python: str, state_dir: Path, create_groups: bool = False,
            grant: bool = False, kit: Path = KIT) -> None:
    """Make the server ready (see the module docstring); raises PrepareError with what to do."""
    if os.geteuid() != 0:
        raise PrepareError("run as root: it creates groups, sets owners and starts servers as other users")
    gids = ensure_groups(settings, create_groups)
    teachers_gid = gids[settings.teachers_group]

    course = Path(settings.course_dir)
    if not (course / "nbgrader_config.py").exists():
        _say(f"copying the course from {kit} to {course}")
        course.mkdir(parents=True, exist_ok=True)
        copy_course(course, kit)
    (course / "grading").mkdir(exist_ok=True)
    # the folders above the course directory must let teachers through, but not list it
    restrict_to_group(course, teachers_gid)

    data = Path(settings.data_dir)
    if not data.exists():
        src = course / "data" if (course / "data").is_dir() else kit / "data"
        _say(f"copying the data world from {src} to {data}")
        shutil.copytree(src, data, ignore=shutil.ignore_patterns("__pycache__"))
    make_world_readable(data)

    prepare_exchange(settings, teachers_gid)
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)

    group_gids = set(gids.values())
    needed = python_paths(python) + [settings.course_dir, settings.data_dir, settings.exchange_root,
                                     settings.jupyter_config_root, str(kit / "crmkit")]
    closed = closed_folders(needed, group_gids)
    if closed:
        if not grant:
            raise PrepareError("members of the course groups cannot pass through "
                               + ", ".join(map(str, closed))
                               + ": pass --grant-traverse (ACL, course groups only), or install the environment "
                               "outside a private home (deploy/README.md)")
        grant_traverse(closed, [settings.teachers_group, settings.students_group], state_dir / TRAVERSE_RECORD)
    ok, err = can_run_as_group(python, gids[settings.students_group])
    if not ok:
        raise PrepareError(f"a student cannot run {python}:\n{err}")
    for p in readable_solutions(kit):
        _say(f"WARNING: {p} is readable by every user of this server (the kit's own checkout). "
             f"On a real server: chmod -R o-rwx {p}, or install the kit non-editable (deploy/README.md)")
    _say(f"ready: course {course} (group {settings.teachers_group}), exchange {settings.exchange_root}, "
         f"data {data}, state {state_dir}")


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--create-groups", action="store_true", help="create missing course groups")
    parser.add_argument("--grant-traverse", action="store_true",
                        help="let the course groups pass through closed folders on the way to the Python (ACL)")
    parser.add_argument("--revoke-traverse", action="store_true", help="undo --grant-traverse and exit")
    parser.add_argument("--protect-kit", action="store_true",
                        help="close the kit's own solutions/ and grading/ to other users (chmod -R o-rwx)")
    parser.add_argument("--check", action="store_true", help="only check; exit status 1 if not ready")
    parser.add_argument("--python", default=sys.executable, help="the course environment's Python")
    args = parser.parse_args(argv)
    state_dir = Path(os.environ.get("CRMKIT_HUB_STATE_DIR") or "/srv/crmkit/hub")
    try:
        settings = crmkit_hub.Settings.from_env()
        if args.revoke_traverse:
            revoke_traverse(state_dir / TRAVERSE_RECORD)
            return 0
        if args.check:
            problems = crmkit_hub.local_problems(settings, os.path.dirname(args.python))
            for p in problems:
                print(f"not ready: {p}")
            return 1 if problems else 0
        if args.protect_kit:
            protect_kit()
        prepare(settings, python=args.python, state_dir=state_dir, create_groups=args.create_groups,
                grant=args.grant_traverse)
    except (PrepareError, crmkit_hub.SettingsError, subprocess.CalledProcessError) as e:
        print(f"prepare: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
