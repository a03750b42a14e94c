"""`make load`: a bounded load at fixed rates against a local server; prints latency, throughput
and errors. Asserts nothing: these numbers are reported here, never in tests.

Starts `planner serve` on a fresh PostgreSQL database (``PLANNER_LOAD_POSTGRES_URL``, the server's
maintenance database, which `make load` sets; dropped afterwards) with the demo plan, or uses the
server at ``PLANNER_LOAD_URL`` (with ``PLANNER_LOAD_TOKEN`` as a bearer token when set). Seeds a
plan of ``--tasks`` tasks, each after the previous one, through the API. Then, each phase for
``--seconds`` seconds, with ``/healthz`` and ``/readyz`` asked every 100 ms beside it (timed by
a process of its own, and by the server's request log):

1. capacity: as many `PlanTasks(first: 100)` requests at once as the server admits, one after
   the other (closed loop): the throughput measured is the capacity;
2. steady: a fixed rate of 70 % of that capacity (open loop: requests leave on schedule, whatever
   the answers);
3. overload: twice the capacity; the excess should get 503 at once and the admitted requests
   keep their latency;
4. costly: 8 clients asking, one after the other, the costliest document the server admits (the
   seeded plan's tasks with their graph fields, with ``first`` halved until it is admitted).

With ``--baseline-ref REF`` the code of that commit (a temporary git worktree, served with this
environment's packages) goes through the same phases first, and the capacity and overload
throughputs are printed against it: a baseline measured in the same run.

    .venv/bin/python -m bench.load [--seconds 10] [--tasks 150] [--max-in-flight N] [--workers N]
        [--baseline-ref REF]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
PLAN_TASKS = (REPO / "schema" / "operations" / "plans.graphql").read_text(encoding="utf-8")
HEADERS = {"x-planner-user": "load@example.com", "x-planner-groups": "admin"}
COSTLY = """
query Costly($planId: ID!, $first: Int!) {
  plan(id: $planId) {
    criticalPath { durationDays tasks { id } }
    tasks(first: $first) {
      edges { node { id title riskScore slackDays isCritical forecastStart forecastFinish
        upstream { id } downstream { id } dependsOn { id } dependents { id } } }
    }
  }
}
"""
CREATE_PLAN = "mutation($input: CreatePlanInput!) { createPlan(input: $input) { plan { id } userErrors { message } } }"
CREATE_TASK = "mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } userErrors { message } } }"
REQUEST_TIMEOUT_S = 30.0
PROBES = ("/healthz", "/readyz")


@dataclass
class Phase:
    name: str
    rate: float | None  # requests a second asked for; None: a closed loop
    elapsed_s: float = 0.0
    statuses: Counter[int | str] = field(default_factory=Counter)
    ok_ms: list[float] = field(default_factory=list)
    shed_ms: list[float] = field(default_factory=list)
    #: Probe path: latencies of its 200 answers, as the poller saw them.
    probe_ms: dict[str, list[float]] = field(default_factory=lambda: {path: [] for path in PROBES})
    probe_failed: Counter[str] = field(default_factory=Counter)
    #: Probe path: durations in the server's own request log (a local server only).
    server_probe_ms: dict[str, list[float]] = field(default_factory=dict)

    def record(self, status: int | str, ms: float) -> None:
        self.statuses[status] += 1
        if status == 200:
            self.ok_ms.append(ms)
        elif status == 503:
            self.shed_ms.append(ms)


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return f"{ordered[index]:.0f}"


def _report(phase: Phase) -> None:
    sent = sum(phase.statuses.values())
    other = sent - phase.statuses[200] - phase.statuses[503]
    throughput = phase.statuses[200] / phase.elapsed_s if phase.elapsed_s else 0.0
    rate = "closed" if phase.rate is None else f"{phase.rate:.1f}/s"
    print(
        f"{phase.name:<9} {rate:>8} sent {sent:>5}  200: {phase.statuses[200]:>5}  503: {phase.statuses[503]:>5}"
        f"  other: {other:>3}  throughput {throughput:6.1f}/s"
    )
    print(
        f"{'':<9} admitted ms p50 {_pct(phase.ok_ms, 50):>5} p95 {_pct(phase.ok_ms, 95):>5}"
        f" p99 {_pct(phase.ok_ms, 99):>5} max {_pct(phase.ok_ms, 100):>5}"
        f" | 503 ms p50 {_pct(phase.shed_ms, 50):>4} p99 {_pct(phase.shed_ms, 99):>4}"
    )
    for path in PROBES:
        seen, logged = phase.probe_ms[path], phase.server_probe_ms.get(path, [])
        line = (
            f"{'':<9} {path:<8} ms p50 {_pct(seen, 50):>4} p99 {_pct(seen, 99):>4} max {_pct(seen, 100):>4}"
            f" ({len(seen)} answered 200, {phase.probe_failed[path]} not)"
        )
        if logged:
            line += f" | in the server's log p50 {_pct(logged, 50)} p99 {_pct(logged, 99)} max {_pct(logged, 100)}"
        print(line)
    others = {k: v for k, v in phase.statuses.items() if k not in (200, 503)}
    if others:
        print(f"{'':<9} other answers: {dict(others)}")


async def _timed(phase: Phase, send: Callable[[], Awaitable[httpx.Response]]) -> float:
    """Sends one request and records its answer; answers the Retry-After of a 503 (else 0)."""
    started = time.perf_counter()
    retry_after = 0.0
    try:
        response = await send()
        status: int | str = response.status_code
        if status == 200 and b'"errors":[' in response.content:
            status = "200 with errors"
        if status == 503:
            retry_after = float(response.headers.get("retry-after", "1"))
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    phase.record(status, (time.perf_counter() - started) * 1000)
    return retry_after


#: Asks each probe every 100 ms from a process of its own (so that the load generator's own work
#: does not count in the probe's latency) until its standard input closes; prints one line an
#: answer: the path, then the latency in milliseconds, or "failed" when it was not a 200.
PROBE_POLLER = """
import sys, threading, time, httpx
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
with httpx.Client(base_url=sys.argv[1], timeout=30) as client:
    while not done.is_set():
        for path in sys.argv[2:]:
            started = time.perf_counter()
            try:
                ok = client.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            print(path, f"{(time.perf_counter() - started) * 1000:.1f}" if ok else "failed", flush=True)
        done.wait(0.1)
"""


@contextmanager
def _probes(base: str, phase: Phase) -> Iterator[None]:
    poller = subprocess.Popen(
        [sys.executable, "-c", PROBE_POLLER, base, *PROBES],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield
    finally:
        out, _ = poller.communicate("", timeout=60)
        for line in out.splitlines():
            path, _, value = line.partition(" ")
            if path not in phase.probe_ms:
                continue
            if value == "failed":
                phase.probe_failed[path] += 1
            else:
                phase.probe_ms[path].append(float(value))


async def _closed_loop(base: str, phase: Phase, clients: int, seconds: float, body: dict[str, Any]) -> None:
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, headers=_headers(), timeout=REQUEST_TIMEOUT_S, limits=limits) as c:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < deadline:
                retry_after = await _timed(phase, lambda: c.post("/graphql", json=body))
                if retry_after:  # a well-behaved client waits as told
                    await asyncio.sleep(min(retry_after, max(0.0, deadline - time.perf_counter())))

        with _probes(base, phase):
            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            phase.elapsed_s = time.perf_counter() - started


async def _open_loop(base: str, phase: Phase, rate: float, seconds: float, body: dict[str, Any]) -> None:
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=base, headers=_headers(), timeout=REQUEST_TIMEOUT_S, limits=limits) as c:
        with _probes(base, phase):
            loop = asyncio.get_running_loop()
            started = loop.time()
            sent: list[asyncio.Task[float]] = []
            for i in range(int(rate * seconds)):
                delay = started + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent.append(asyncio.create_task(_timed(phase, lambda: c.post("/graphql", json=body))))
            await asyncio.gather(*sent)
            phase.elapsed_s = loop.time() - started


def _headers() -> dict[str, str]:
    token = os.environ.get("PLANNER_LOAD_TOKEN")
    return {"authorization": f"Bearer {token}"} if token else dict(HEADERS)


def _graphql(base: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=_headers(), timeout=60
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _seed(base: str, tasks: int) -> str:
    created = _graphql(base, CREATE_PLAN, {"input": {"name": f"load {uuid.uuid4().hex[:6]}"}})
    payload = created["data"]["createPlan"] if created.get("data") else None
    if not payload or not payload["plan"]:
        raise SystemExit(f"load: cannot create a plan: {created}")
    plan_id: str = payload["plan"]["id"]
    previous: str | None = None
    for i in range(tasks):
        task_input: dict[str, Any] = {"planId": plan_id, "title": f"task {i:04d}", "durationDays": 1 + i % 7}
        if previous:
            task_input["dependsOn"] = [previous]
        answer = _graphql(base, CREATE_TASK, {"input": task_input})
        task = (answer.get("data") or {}).get("createTask", {}).get("task")
        if not task:
            raise SystemExit(f"load: cannot create a task: {answer}")
        previous = task["id"]
    return plan_id


def _costliest(base: str, plan_id: str, most: int) -> int:
    """The largest ``first`` up to ``most`` for which the costly document is admitted (a server
    with a cost limit refuses the larger ones); a binary search."""
    low, high = 0, most
    while low < high:
        first = (low + high + 1) // 2
        answer = _graphql(base, COSTLY, {"planId": plan_id, "first": first})
        if answer.get("errors"):
            high = first - 1
        else:
            low = first
    if low < most:
        refused = _graphql(base, COSTLY, {"planId": plan_id, "first": low + 1})["errors"][0]["message"]
        print(f"load: with first: {low + 1} the costly document is refused: {refused[:140]}")
    return max(low, 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _local_server(args: argparse.Namespace, source: Path = REPO) -> Iterator[tuple[str, Path]]:
    """A `planner serve --demo` of the code in ``source`` on a database of its own, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server_url = os.environ.get("PLANNER_LOAD_POSTGRES_URL") or os.environ.get("PLANNER_TEST_POSTGRES_URL")
    if not server_url:
        raise SystemExit("load: set PLANNER_LOAD_URL (a running server) or PLANNER_LOAD_POSTGRES_URL (`make load`)")
    name = f"planner_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="planner-load-") as folder:
        env = {
            **os.environ,
            "PLANNER_DATABASE_URL": database_url,
            "PLANNER_GRAPH_URL": f"gremlite:{folder}/graph.db",
            "PLANNER_DATA_DIR": folder,
            "PLANNER_LOG_JSON": "1",
        }
        if args.max_in_flight:
            env["PLANNER_MAX_IN_FLIGHT"] = str(args.max_in_flight)
        log_path = Path(folder) / "server.log"
        command = [sys.executable, "-m", "adapters.cli", "serve", "--demo", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        with log_path.open("wb") as log:
            server = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=source)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"load: the server stopped:\n{log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("load: the server did not start within 90 s")
                time.sleep(0.2)
            print(f"load: server pid {server.pid} on {base}, PostgreSQL database {name}, {args.workers} process(es)")
            yield base, log_path
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


class ServerLog:
    """The JSON request log of a local server: the probes as the server timed them, phase by phase."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        if self.path is not None:
            self.offset = self.path.stat().st_size

    def probe_ms(self) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {path: [] for path in PROBES}
        if self.path is None:
            return found
        with self.path.open("rb") as log:
            log.seek(self.offset)
            lines = log.read().decode("utf-8", "replace").splitlines()
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("path") in found and "duration_ms" in entry:
                found[entry["path"]].append(float(entry["duration_ms"]))
        return found


async def _phases(base: str, plan_id: str, args: argparse.Namespace, log: ServerLog) -> dict[str, float]:
    """Runs the four phases; answers each phase's throughput (requests answered 200 a second)."""
    ready = httpx.get(f"{base}/readyz", timeout=5).json()
    admits = int(ready.get("load", {}).get("maxInFlight", 4)) * args.workers
    print(f"load: the server admits {admits} requests at once ({args.workers} process(es))")
    body = {"query": PLAN_TASKS, "operationName": "PlanTasks", "variables": {"planId": plan_id, "first": 100}}

    async def run(phase: Phase, load: Awaitable[None]) -> None:
        log.mark()
        await load
        phase.server_probe_ms = log.probe_ms()
        _report(phase)

    capacity = Phase("capacity", None)
    await run(capacity, _closed_loop(base, capacity, admits, args.seconds, body))
    measured = capacity.statuses[200] / capacity.elapsed_s if capacity.elapsed_s else 1.0
    print(f"load: capacity about {measured:.1f} PlanTasks(first: 100) a second")

    ran: list[Phase] = []
    for name, share in (("steady", 0.7), ("overload", 2.0)):
        rate = max(1.0, measured * share)
        phase = Phase(name, rate)
        await run(phase, _open_loop(base, phase, rate, args.seconds, body))
        ran.append(phase)

    first = _costliest(base, plan_id, 500)
    print(f"load: 8 clients asking the costliest admitted document (tasks(first: {first}) with graph fields)")
    costly = Phase("costly", None)
    costly_body = {"query": COSTLY, "variables": {"planId": plan_id, "first": first}}
    await run(costly, _closed_loop(base, costly, 8, args.seconds, costly_body))
    return {p.name: p.statuses[200] / p.elapsed_s if p.elapsed_s else 0.0 for p in (capacity, *ran, costly)}


def _run_local(args: argparse.Namespace, source: Path) -> dict[str, float]:
    with _local_server(args, source) as (base, log_path):
        started = time.perf_counter()
        plan_id = _seed(base, args.tasks)
        print(f"load: seeded a plan of {args.tasks} tasks in {time.perf_counter() - started:.1f} s")
        return asyncio.run(_phases(base, plan_id, args, ServerLog(log_path)))


@contextmanager
def _checkout(ref: str) -> Iterator[Path]:
    """The code of ``ref`` in a temporary git worktree (served with this environment's packages)."""
    folder = Path(tempfile.mkdtemp(prefix="planner-baseline-"))
    command = ["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder), ref]
    added = subprocess.run(command, check=False, capture_output=True, text=True)
    if added.returncode != 0:
        raise SystemExit(f"load: cannot check out {ref}: {added.stderr.strip()}")
    try:
        yield folder
    finally:
        remove = ["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)]
        subprocess.run(remove, check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="each phase's length (at most 120)")
    parser.add_argument("--tasks", type=int, default=150, help="tasks in the seeded plan (at most 1000)")
    parser.add_argument("--max-in-flight", type=int, default=None, help="PLANNER_MAX_IN_FLIGHT of the local server")
    parser.add_argument("--workers", type=int, default=1, help="processes of the server (local: started so)")
    parser.add_argument(
        "--baseline-ref",
        default=None,
        help="a git commit to measure first, the same way, as the baseline of the ratios (local servers only)",
    )
    args = parser.parse_args(argv)
    args.seconds = min(max(args.seconds, 1.0), 120.0)
    args.tasks = min(max(args.tasks, 1), 1000)
    args.workers = min(max(args.workers, 1), 16)
    remote = os.environ.get("PLANNER_LOAD_URL")
    if remote and args.baseline_ref:
        raise SystemExit("load: --baseline-ref starts both servers itself; unset PLANNER_LOAD_URL")
    if remote:
        base = remote.rstrip("/")
        host = httpx.URL(base).host
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise SystemExit("load: PLANNER_LOAD_URL must be a loopback address (this is a load generator)")
        plan_id = _seed(base, args.tasks)
        asyncio.run(_phases(base, plan_id, args, ServerLog(None)))
        return 0
    baseline = None
    if args.baseline_ref:
        with _checkout(args.baseline_ref) as source:
            print(f"load: the baseline, {args.baseline_ref}, served from {source}")
            baseline = _run_local(args, source)
        print(f"load: this checkout ({REPO})")
    measured = _run_local(args, REPO)
    if baseline is not None:
        print(f"load: this checkout against {args.baseline_ref}, measured in this run:")
        for name in ("capacity", "overload"):
            ratio = measured[name] / baseline[name] if baseline[name] else float("inf")
            print(f"  {name:<9} {measured[name]:6.1f}/s against {baseline[name]:6.1f}/s: {ratio:4.2f}x")
    print(
        "load: the load generator shares this machine's CPUs with the server "
        f"({os.cpu_count()} here); times include its own overhead"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
