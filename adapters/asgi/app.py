from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from adapters.asgi.auth import Authenticate, development_routes, principal_of
from adapters.asgi.limits import (
    BodyLimit,
    ExecutionLoop,
    InFlightLimit,
    Load,
    StrictJsonView,
    favour_the_event_loop,
)
from adapters.asgi.live import LiveRequestContext, sign_in
from adapters.asgi.readiness import Probes
from adapters.bootstrap import Application
from planning.principal import ANONYMOUS
from resolvers.context import RequestContext
from schema.root import build_schema

log = structlog.get_logger("planner.http")


class PlannerGraphQL(StrictJsonView, GraphQL):  # type: ignore[type-arg]
    def __init__(self, app: Application) -> None:
        production = app.settings.production
        super().__init__(
            build_schema(production=production),
            graphql_ide=None if production else "graphiql",
            # Subscriptions: graphql-transport-ws and the legacy graphql-ws (with its "ka" keep-alive).
            keep_alive=True,
            keep_alive_interval=app.settings.ws_keep_alive_s,
        )
        self._app = app
        # GraphQL work runs on a loop of its own: the server's loop stays free for probes and refusals.
        self.execution = ExecutionLoop()
        weakref.finalize(self, self.execution.close, wait=False)

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        if isinstance(request, WebSocket):
            return LiveRequestContext(
                services=self._app.services, principal=ANONYMOUS, events=self._app.events, websocket=request
            )
        return self._app.context(principal_of(request))

    async def on_ws_connect(self, context: Any) -> None:
        await sign_in(context, self._app.identity)


class RequestLog:
    """One structured line a request, with a request id the client can quote."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")


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
            log.warning("simulation sweep failed", error=str(exc))
            continue
        if failed:
            log.info("stale simulations ended", count=failed)
        if resubmitted:
            log.info("simulations still queued submitted again", count=resubmitted)


def _start_planner_sync(app: Application) -> asyncio.Task[None] | None:
    """The scheduled Planner sync, when ``PLANNER_PLANNER_SYNC_INTERVAL_S`` turns it on."""
    from adapters.planner_sync_loop import planner_sync_loop

    service = app.services.planner_sync
    interval = app.settings.planner_sync_interval_s
    if service is None or interval <= 0:
        return None
    if not service.configured:
        log.warning("PLANNER_PLANNER_SYNC_INTERVAL_S is set but Microsoft Graph is not configured; no sync runs")
        return None
    log.info("planner sync scheduled", interval_s=interval)
    return asyncio.create_task(planner_sync_loop(service, interval))


def create_asgi_app(app: Application, *, sweep_interval_s: float = STALE_SWEEP_INTERVAL_S) -> ASGIApp:
    load = Load(app.settings.max_in_flight)
    probes = Probes(app, load)
    graphql = PlannerGraphQL(app)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        recovered = app.services.simulations.recover()
        if recovered:
            log.info("simulations recovered after a restart", count=recovered)
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
            *development_routes(app),
        ],
        lifespan=lifespan,
    )
    # The edge, outermost first: shed load before reading a body, bound the body before parsing.
    return RequestLog(InFlightLimit(BodyLimit(starlette, app.settings.max_body_bytes), load))


def create_app_from_env() -> ASGIApp:
    """One process of `planner serve --workers N` (a uvicorn app factory): the settings from the
    environment, and an application of its own."""
    from adapters.bootstrap import bootstrap
    from adapters.config import Settings
    from adapters.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(json=settings.log_json)
    asgi = create_asgi_app(bootstrap(settings))
    favour_the_event_loop()
    return asgi
