"""``/healthz`` and ``/readyz``: probes that answer at once, however busy the process is.

Checks run on a small thread pool of their own (never the pool that GraphQL resolvers queue on),
at most one at a time per check, and a probe waits for one at most ``CHECK_TIMEOUT_S``. A probe
answers from a check younger than ``FRESH_S``; from one younger than ``MAX_AGE_S`` too, starting a
new check beside it; only an older one (or none) is waited for. So a probe polled often answers
from the event loop alone, and the checks cost at most one round of queries a second.

Each check is ``up``, ``down`` (it failed), ``slow`` (no answer within the timeout, but one within
``SLOW_GRACE_S``: busy, not gone) or ``timeout`` (no answer for longer).

* ``/healthz``: the process is alive (its loop answers) and its store answers ``SELECT 1``: 200
  with ``{"status": "ok", "database": "up"}``, else 503.
* ``/readyz``: the store and the graph answer (the graph: a read of a plan that does not exist,
  cheap on any graph, queueing behind the graph's other calls as a real read would), and how far
  the graph projection is behind (outbox messages not yet applied). 200 when the store and the
  graph are ``up`` or ``slow``, else 503: a process busy with graph questions stays in rotation,
  one whose graph fails or hangs leaves it. The body names the process (``pid``) and its load.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from adapters.asgi.limits import Load
    from adapters.bootstrap import Application

log = structlog.get_logger("planner.http")

#: How long a probe waits for one check before it reports the check as not answering.
CHECK_TIMEOUT_S = 1.0
#: A check younger than this is answered as it is.
FRESH_S = 1.0
#: A check younger than this is answered while a new one runs; an older one is waited for.
MAX_AGE_S = 5.0
#: A check that does not answer within the timeout but answered within this long is ``slow``.
SLOW_GRACE_S = 15.0
#: A plan id no plan has: the graph check reads it.
PROBE_PLAN_ID = "readiness-probe"
HEALTHY = ("up", "slow")


@dataclass(frozen=True, slots=True)
class Checked:
    state: str
    result: Any
    at: float


class Probes:
    def __init__(self, app: Application, load: Load | None = None, *, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self._app = app
        self._load = load
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="probe")
        self._calls: dict[str, Callable[[], Any]] = {
            "store": self._select_one,
            "graph": self._read_graph,
            "pending": self._pending,
        }
        self._running: dict[str, Future[Any]] = {}
        self._refreshing: dict[str, asyncio.Task[Checked]] = {}
        self._last: dict[str, Checked] = {}
        #: When each check last answered (monotonic).
        self._answered: dict[str, float] = {}

    def close(self, *, wait_s: float = 5.0) -> None:
        """Lets checks under way finish (for at most ``wait_s``: they hold store connections that
        must go back before the store closes), then stops the pool."""
        concurrent.futures.wait([f for f in self._running.values() if not f.done()], timeout=wait_s)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the checks, on the probe pool -----------------------------------------------------

    def _select_one(self) -> None:
        # A raw DBAPI connection: no SQLAlchemy transaction (on SQLite that would take the
        # write lock), and back to the pool at once. ``app.engine`` is read at each check.
        connection = self._app.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        finally:
            connection.close()

    def _read_graph(self) -> None:
        self._app.graph.plan_graph(PROBE_PLAN_ID)

    def _pending(self) -> int:
        return self._app.projector.pending()

    # -- running them ----------------------------------------------------------------------

    async def _run(self, name: str) -> Checked:
        """Runs the check (or joins the run under way) for at most the timeout, and records it."""
        future = self._running.get(name)
        if future is None or future.done():
            future = self._pool.submit(self._calls[name])
            self._running[name] = future
        state, result = "up", None
        try:
            result = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout_s)
        except TimeoutError:
            answered = self._answered.get(name)
            state = "slow" if answered is not None and time.monotonic() - answered <= SLOW_GRACE_S else "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure of the check means "down"
            state, result = "down", f"{type(exc).__name__}: {str(exc)[:200]}"
        now = time.monotonic()
        if state == "up":
            self._answered[name] = now
        elif state != "slow":
            log.warning("probe check failed", check=name, state=state, error=result)
        checked = Checked(state, result, now)
        self._last[name] = checked
        return checked

    def _refresh(self, name: str) -> asyncio.Task[Checked]:
        task = self._refreshing.get(name)
        if task is None or task.done():
            task = asyncio.create_task(self._run(name))
            self._refreshing[name] = task
        return task

    async def _current(self, name: str) -> Checked:
        last = self._last.get(name)
        age = float("inf") if last is None else time.monotonic() - last.at
        if last is None or age > MAX_AGE_S:
            return await asyncio.shield(self._refresh(name))
        if age > FRESH_S:
            self._refresh(name)
        return last

    # -- the routes ------------------------------------------------------------------------

    async def healthz(self, _request: Request) -> JSONResponse:
        if (await self._current("store")).state not in HEALTHY:
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    async def readyz(self, _request: Request) -> JSONResponse:
        store, graph, pending = await asyncio.gather(
            self._current("store"), self._current("graph"), self._current("pending")
        )
        ready = store.state in HEALTHY and graph.state in HEALTHY
        body: dict[str, Any] = {
            "status": "ready" if ready else "unavailable",
            "pid": os.getpid(),
            "store": store.state,
            "graph": graph.state,
            "projection": {
                "pending": pending.result if pending.state == "up" else None,
                "breakerOpen": self._app.projection.breaker_open,
            },
        }
        if self._load is not None:
            body["load"] = self._load.as_json()
        return JSONResponse(body, status_code=200 if ready else 503)
