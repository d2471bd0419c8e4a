"""Load on the course hub: how many students one server holds.

For each N (default 20, 40, 80): N students (real Linux users, as LocalProcessSpawner needs) ask
the hub's REST API for their servers at the same moment; each, as soon as its server is ready,
fetches 00_aloitus from the exchange (nbgrader's Assignments API), opens the notebook (contents
API), starts a kernel and runs every code cell over the kernel's websocket (the stubs' errors are
expected; anything else is an error), saves it, and submits (nbgrader's API). Reported per N:

- time from the request to a ready server: median, p95, max (a student the hub asks to try again,
  because of its spawn limit, tries again after the time the hub says; the wait counts);
- run time of the notebook, and the errors (failed spawns, unexpected cell errors, failed
  submits, kernels not started because of the memory guard);
- memory per user while the kernels are alive: the Jupyter server and the kernel (PSS from
  /proc/<pid>/smaps_rollup, shared pages shared out; RSS beside it), and the drop of the machine's
  MemAvailable divided by N;
- the largest N whose p95 start is under 30 s (if the smallest N misses it, N is halved until one
  passes), and the largest N the memory holds with every kernel alive.

Memory guard: a kernel is not started while MemAvailable is under 4 GB (other work on the machine
must not be pushed out); such students count as "not run: memory" and N is then memory-bound.

Needs root (it creates the users); uses the same harness as tests/hub (a throwaway hub, users,
groups and folders under /tmp, all removed at the end). Not a test: `make bench` runs it.
Usage: python bench/bench_hub.py [N ...] [--no-run] [--no-search] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "hub"))

SLUG = "00_aloitus"
TARGET_P95 = 30.0
MEM_GUARD_MB = 4096
EXPECTED_ERRORS = {"NotImplementedError", "AssertionError", "NameError"}


def mem_available_mb() -> float:
    """MemAvailable of the machine, MB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def process_memory(pid: int) -> tuple[float, float]:
    """(PSS, RSS) of a process in MB, (0, 0) if it is gone."""
    pss = rss = 0.0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
            elif line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return pss, rss


def user_memory(uid: int) -> dict[str, float]:
    """PSS/RSS of a user's Jupyter server and kernel(s), MB."""
    out = {"server_pss": 0.0, "server_rss": 0.0, "kernel_pss": 0.0, "kernel_rss": 0.0}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != uid:
                continue
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        pss, rss = process_memory(int(proc.name))
        kind = "kernel" if b"ipykernel" in cmd else "server"
        out[f"{kind}_pss"] += pss
        out[f"{kind}_rss"] += rss
    return out


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Student:
    """One simulated student driving their own server through HTTP and a kernel websocket."""

    def __init__(self, world, user, run_cells: bool):
        self.world, self.user, self.run_cells = world, user, run_cells
        self.result = {"user": user.name, "start_s": None, "run_s": None, "errors": [], "not_run": "",
                       "retries": 0}

    async def http(self, method: str, url: str, body=None, timeout: float = 300):
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest

        req = HTTPRequest(url, method=method, headers={"Authorization": f"token {self.world.api_token}",
                                                       "Content-Type": "application/json"},
                          body=None if body is None else json.dumps(body),
                          allow_nonstandard_methods=True, request_timeout=timeout, connect_timeout=60)
        resp = await AsyncHTTPClient().fetch(req, raise_error=False)
        if resp.code == 429:  # the hub's spawn limit: try again when it says, as a student would
            self.result["retries"] += 1
            await asyncio.sleep(float(resp.headers.get("Retry-After", 10)))
            return await self.http(method, url, body, timeout)
        if resp.code >= 400 or resp.code == 599:
            raise RuntimeError(f"{method} {url.split('127.0.0.1')[-1]}: {resp.code} {resp.body[:200]!r}")
        return json.loads(resp.body) if resp.body else None

    async def start(self, t0: float) -> bool:
        hub = f"{self.world.url}/hub/api/users/{self.user.name}"
        try:
            await self.http("POST", f"{hub}/server", {})
            while True:
                info = await self.http("GET", hub)
                server = info.get("servers", {}).get("")
                if server and server.get("ready"):
                    self.result["start_s"] = time.monotonic() - t0
                    return True
                if not server and time.monotonic() - t0 > 10:
                    raise RuntimeError("the spawn failed (no pending server)")
                if time.monotonic() - t0 > 400:
                    raise RuntimeError("not ready in 400 s")
                await asyncio.sleep(0.5)
        except Exception as e:  # noqa: BLE001 - every failure is a result
            self.result["errors"].append(f"start: {e}")
            return False

    async def work(self) -> None:
        base = f"{self.world.url}/user/{self.user.name}"
        course = self.world.settings.course_id
        try:
            await self.http("POST", f"{base}/assignments/fetch", {"course_id": course, "assignment_id": SLUG})
            path = f"{SLUG}/{SLUG}.ipynb"
            nb = await self.http("GET", f"{base}/api/contents/{path}?content=1")
            if not self.run_cells:
                self.result["not_run"] = "--no-run"
            elif mem_available_mb() < MEM_GUARD_MB:
                self.result["not_run"] = "memory"
            else:
                t = time.monotonic()
                session = await self.http("POST", f"{base}/api/sessions",
                                          {"path": path, "type": "notebook", "name": "",
                                           "kernel": {"name": "python3"}})
                await self.run_notebook(base, session["kernel"]["id"], nb["content"])
                self.result["run_s"] = time.monotonic() - t
            await self.http("PUT", f"{base}/api/contents/{path}", {"type": "notebook", "format": "json",
                                                                    "content": nb["content"]})
            out = await self.http("POST", f"{base}/assignments/submit", {"course_id": course, "assignment_id": SLUG})
            if isinstance(out, dict) and out.get("success") is False:
                raise RuntimeError(f"submit: {out.get('value', out)}")
        except Exception as e:  # noqa: BLE001
            self.result["errors"].append(f"work: {e}")

    async def run_notebook(self, base: str, kernel_id: str, nb: dict) -> None:
        """Every code cell in order over the kernel's websocket; unexpected errors are recorded."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        ws_url = base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        conn = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {self.world.api_token}"},
                                                   connect_timeout=120, request_timeout=120))
        session = uuid.uuid4().hex
        try:
            for cell in nb["cells"]:
                if cell["cell_type"] != "code":
                    continue
                msg_id = uuid.uuid4().hex
                conn.write_message(json.dumps({
                    "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.user.name,
                               "session": session, "date": datetime.now().isoformat(), "version": "5.3"},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": "".join(cell["source"]), "silent": False, "store_history": True,
                                "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}}))
                while True:
                    raw = await asyncio.wait_for(conn.read_message(), timeout=300)
                    if raw is None:
                        raise RuntimeError("the kernel's websocket closed (kernel died?)")
                    if isinstance(raw, bytes):
                        continue
                    msg = json.loads(raw)
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    if msg["msg_type"] == "execute_reply":
                        content = msg["content"]
                        if content.get("status") == "error" and content.get("ename") not in EXPECTED_ERRORS:
                            self.result["errors"].append(f"cell: {content.get('ename')}: {content.get('evalue', '')[:80]}")
                        break
        finally:
            conn.close()


async def one_round(world, users, run_cells: bool) -> dict:
    """N students at once; returns the round's figures."""
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=4 * len(users) + 10)
    mem_before = mem_available_mb()
    students = [Student(world, u, run_cells) for u in users]
    t0 = time.monotonic()

    async def one(s: Student):
        if await s.start(t0):
            await s.work()

    await asyncio.gather(*(one(s) for s in students))
    wall = time.monotonic() - t0
    mem_after = mem_available_mb()
    memory = [user_memory(u.uid) for u in users]
    running = [m for m in memory if m["server_pss"] > 0] or memory
    async def stop(s: Student):  # the hub stops the kernels with the server
        try:
            await s.http("DELETE", f"{world.url}/hub/api/users/{s.user.name}/server")
        except Exception:  # noqa: BLE001
            pass

    await asyncio.gather(*(stop(s) for s in students))
    await wait_stopped(world, users)
    starts = [s.result["start_s"] for s in students if s.result["start_s"] is not None]
    runs = [s.result["run_s"] for s in students if s.result["run_s"] is not None]
    ran = [m for m, s in zip(memory, students) if s.result["run_s"] is not None]
    return {
        "n": len(users), "wall_s": round(wall, 1), "load_before": os.getloadavg()[0],
        "start_median_s": round(statistics.median(starts), 1) if starts else None,
        "start_p95_s": round(pct(starts, 0.95), 1) if starts else None,
        "start_max_s": round(max(starts), 1) if starts else None,
        "run_median_s": round(statistics.median(runs), 1) if runs else None,
        "run_p95_s": round(pct(runs, 0.95), 1) if runs else None,
        "started": len(starts), "ran": len(runs),
        "asked_to_retry": sum(s.result["retries"] > 0 for s in students),
        "not_run_memory": sum(s.result["not_run"] == "memory" for s in students),
        "errors": [e for s in students for e in s.result["errors"]],
        "server_pss_mb": round(statistics.median(m["server_pss"] for m in running), 1),
        "server_rss_mb": round(statistics.median(m["server_rss"] for m in running), 1),
        "kernel_pss_mb": round(statistics.median(m["kernel_pss"] for m in ran), 1) if ran else None,
        "kernel_rss_mb": round(statistics.median(m["kernel_rss"] for m in ran), 1) if ran else None,
        "mem_available_before_mb": round(mem_before), "mem_available_after_mb": round(mem_after),
        "mem_drop_per_user_mb": round((mem_before - mem_after) / len(users), 1),
    }


async def wait_stopped(world, users, timeout: float = 180) -> None:
    """Until no test user has a process left (their servers stopped), then let memory settle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(world.server_pids(u) for u in users):
            break
        await asyncio.sleep(1)
    await asyncio.sleep(3)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ns", nargs="*", type=int, default=[20, 40, 80], help="class sizes (default 20 40 80)")
    parser.add_argument("--no-run", action="store_true", help="start servers and submit, but run no cells")
    parser.add_argument("--no-search", action="store_true",
                        help="only the given sizes (no halving when even the smallest misses 30 s)")
    parser.add_argument("--json", default=None, help="write the figures here (default bench/results/hub-<time>.json)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_hub: needs root (it creates Linux users and starts servers as them); skipped")
        return 0
    if any(n < 1 for n in args.ns):
        parser.error("class sizes must be positive")
    # stopped by Ctrl+C or SIGTERM (also when started in the background, where SIGINT is ignored),
    # the finally below still removes the users, the hub and the folders
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    import hubworld

    from crmkit.engine.jupyter_env import isolate_jupyter_state

    try:
        hubworld.crmkit_hub.find_proxy()
    except hubworld.crmkit_hub.SettingsError as e:
        print(f"bench_hub: skipped: {e}")
        return 0

    isolate_jupyter_state()
    ns = sorted(set(args.ns))
    print(f"bench_hub: up to {max(ns)} students; {os.cpu_count()} cores, "
          f"{mem_available_mb() / 1024:.1f} GB available, load {os.getloadavg()[0]:.1f}", flush=True)
    t = time.monotonic()
    world = hubworld.HubWorld.create(n_students=max(ns))
    rounds = []
    try:
        world.start_hub()
        world.check(world.teacher, "nbgrader", "release_assignment", SLUG)
        world.api("users", method="POST", body={"usernames": [u.name for u in world.students]})
        print(f"hub and {max(ns)} users ready in {time.monotonic() - t:.0f} s", flush=True)
        todo = list(ns)
        while todo:
            n = todo.pop(0)
            r = asyncio.run(one_round(world, world.students[:n], run_cells=not args.no_run))
            rounds.append(r)
            print(json.dumps({k: v for k, v in r.items() if k != "errors"}), flush=True)
            if r["errors"]:
                print(f"  errors ({len(r['errors'])}): {r['errors'][:5]}", flush=True)
            smallest = min(x["n"] for x in rounds)
            if not todo and not args.no_search and not any(_passes(x) for x in rounds) and smallest > 5:
                todo.append(max(5, smallest // 2))  # even the smallest class missed 30 s: halve it
    finally:
        log = world.top / "jupyterhub.log"
        kept = ROOT / "bench" / "results" / f"hub-{datetime.now():%Y%m%d-%H%M%S}.log"
        if log.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, kept)
            print(f"the hub's log: {kept}")
        world.close()
    summary = summarize(rounds)
    print(json.dumps(summary, indent=1))
    out = Path(args.json) if args.json else ROOT / "bench" / "results" / f"hub-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=1), encoding="utf-8")
    print(f"written: {out}")
    return 0


def _passes(r: dict) -> bool:
    return (r["start_p95_s"] is not None and r["start_p95_s"] < TARGET_P95 and r["started"] == r["n"]
            and not r["errors"])


def summarize(rounds: list[dict]) -> dict:
    """The largest N with p95 start under 30 s (and no errors), and what the memory holds."""
    passing = [r["n"] for r in rounds if _passes(r)]
    ran = [r for r in rounds if r["kernel_pss_mb"]]
    per_user = max((r["server_pss_mb"] + r["kernel_pss_mb"] for r in ran), default=None)
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    return {
        "largest_n_p95_start_under_30s": max(passing) if passing else None,
        "per_active_user_pss_mb": round(per_user, 1) if per_user else None,
        "users_in_memory_with_kernels": int((total_mb - 2048) / per_user) if per_user else None,
        "machine": {"cores": os.cpu_count(), "memory_gb": round(total_mb / 1024, 1)},
    }


if __name__ == "__main__":
    sys.exit(main())
