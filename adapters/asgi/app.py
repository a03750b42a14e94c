"""The local server's ASGI app, built by ``create_asgi_app`` (or ``create_app_from_env``, one
process of ``planner serve --workers N``).

Importing this module imports no web framework, GraphQL, SQL or engine library: those load when
an app is built, so the import is a cold start of a few milliseconds (README "Benchmarks";
tests/unit/test_cold_start.py keeps it so).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp, Receive, Scope, Send
    from structlog.typing import FilteringBoundLogger

    from adapters.asgi.metrics import Metrics
    from adapters.asgi.observe import RequestFacts
    from adapters.bootstrap import Application


def _log() -> FilteringBoundLogger:
    """The server's logger. structlog is imported on the first log line, not with this module
    (cold start)."""
    import structlog

    logger: FilteringBoundLogger = structlog.get_logger("planner.http")
    return logger


class RequestLog:
    """One structured line a request, with a request id the client can quote; a GraphQL
    request's line names its operation and cost, and is counted in ``metrics``."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None, *, graphql_path: str = "/graphql") -> None:
        self.app = app
        self.metrics = metrics
        self.graphql_path = graphql_path
        # Imported when an app is built, not with this module (module docstring); once, not per request.
        import structlog

        from adapters.asgi import observe

        self.contextvars = structlog.contextvars
        self.observe = observe
        self.log = _log()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        self.contextvars.bind_contextvars(request_id=request_id)
        facts = self.observe.RequestFacts()
        token = self.observe.CURRENT.set(facts)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.observe.CURRENT.reset(token)
            duration_s = time.perf_counter() - started
            graphql = {}
            if facts.graphql:
                graphql = {"operation": facts.operation, "cost": facts.cost}
            self.log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(duration_s * 1000, 1),
                **graphql,
            )
            self.contextvars.unbind_contextvars("request_id")
            self._count(scope, facts, status, duration_s)

    def _count(self, scope: Scope, facts: RequestFacts, status: int, duration_s: float) -> None:
        if self.metrics is None or scope["path"] != self.graphql_path or scope["method"] not in ("GET", "POST"):
            return
        if facts.graphql:
            operation = self.metrics.operation_label(facts.operation)
            outcome = facts.outcome or f"http_{status}"
        else:
            if status == 200:
                return  # GraphiQL's page
            operation, outcome = "-", f"http_{status}"
        self.metrics.record(operation, outcome, duration_s)


STALE_SWEEP_INTERVAL_S = 60.0


def sweep_simulations(app: Application) -> tuple[int, int]:
    """One sweep: runs whose worker died (in this process or another) stop heartbeating and end
    FAILED; runs left QUEUED too long are submitted again. (failed, resubmitted)."""
    simulations = app.services.simulations
    failed = simulations.fail_stale()
    resubmitted = simulations.resubmit_queued()
    return failed, resubmitted


async def _sweep_simulations(app: Application, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            failed, resubmitted = await asyncio.to_thread(sweep_simulations, app)
        except Exception as exc:  # noqa: BLE001 - a failed sweep is retried at the next interval
            _log().warning("simulation sweep failed", error=str(exc))
            continue
        if failed:
            _log().info("stale simulations ended", count=failed)
        if resubmitted:
            _log().info("simulations still queued submitted again", count=resubmitted)


def _start_planner_sync(app: Application) -> asyncio.Task[None] | None:
    """The scheduled Planner sync, when ``PLANNER_PLANNER_SYNC_INTERVAL_S`` turns it on."""
    from adapters.planner_sync_loop import planner_sync_loop

    service = app.services.planner_sync
    interval = app.settings.planner_sync_interval_s
    if service is None or interval <= 0:
        return None
    if not service.configured:
        _log().warning("PLANNER_PLANNER_SYNC_INTERVAL_S is set but Microsoft Graph is not configured; no sync runs")
        return None
    _log().info("planner sync scheduled", interval_s=interval)
    return asyncio.create_task(planner_sync_loop(service, interval))


def create_asgi_app(app: Application, *, sweep_interval_s: float = STALE_SWEEP_INTERVAL_S) -> ASGIApp:
    # The server's libraries (Starlette, Strawberry through the GraphQL view and the schema) are
    # imported when an app is built, not when this module is imported (module docstring).
    from starlette.applications import Starlette
    from starlette.routing import Route, WebSocketRoute

    from adapters.asgi import graphiql
    from adapters.asgi.auth import Authenticate, development_routes
    from adapters.asgi.cors import with_cors
    from adapters.asgi.graphql_view import PlannerGraphQL
    from adapters.asgi.limits import BodyLimit, InFlightLimit, Load
    from adapters.asgi.metrics import Metrics
    from adapters.asgi.readiness import Probes

    load = Load(app.settings.max_in_flight)
    probes = Probes(app, load)
    metrics = Metrics(app)
    graphql = PlannerGraphQL(app, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        recovered = app.services.simulations.recover()
        if recovered:
            _log().info("simulations recovered after a restart", count=recovered)
        app.projection.start()
        if app.agent is not None and app.settings.agent_background:
            app.agent.start()
        app.events.start()
        sweeper = asyncio.create_task(_sweep_simulations(app, sweep_interval_s))
        planner_sync = _start_planner_sync(app)
        yield
        sweeper.cancel()
        if planner_sync is not None:
            planner_sync.cancel()
        probes.close()
        graphql.execution.close()
        app.close()

    starlette = Starlette(
        routes=[
            Route("/healthz", probes.healthz, methods=["GET"]),
            Route("/readyz", probes.readyz, methods=["GET"]),
            Route("/graphql", Authenticate(graphql, app.identity), methods=["GET", "POST"]),
            # Subscriptions: the caller signs in with the connection_init payload (adapters.asgi.live).
            WebSocketRoute("/graphql", graphql),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            *development_routes(app),
            *([] if app.settings.production else [graphiql.static_route()]),
        ],
        lifespan=lifespan,
    )
    # The edge, outermost first: CORS answers preflights and marks every answer (refusals too),
    # shed load before reading a body, bound the body before parsing.
    # Probes, metrics and GraphiQL's files are never refused: they do no GraphQL work.
    edge = InFlightLimit(
        BodyLimit(starlette, app.settings.max_body_bytes),
        load,
        exempt=("/healthz", "/readyz", "/metrics"),
        exempt_prefixes=(graphiql.STATIC_PATH + "/",),
    )
    return RequestLog(with_cors(edge, app.settings), metrics)


def create_app_from_env() -> ASGIApp:
    """One process of `planner serve --workers N` (a uvicorn app factory): the settings from the
    environment, and an application of its own."""
    from adapters.asgi.limits import favour_the_event_loop
    from adapters.bootstrap import bootstrap
    from adapters.config import Settings
    from adapters.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(json=settings.log_json)
    asgi = create_asgi_app(bootstrap(settings))
    favour_the_event_loop()
    return asgi
