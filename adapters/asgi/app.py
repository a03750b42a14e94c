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
from starlette.responses import HTMLResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from adapters.asgi import graphiql, media
from adapters.asgi.auth import Authenticate, development_routes, principal_of
from adapters.asgi.cors import origin_allowed, with_cors
from adapters.asgi.limits import (
    BodyLimit,
    ExecutionLoop,
    InFlightLimit,
    Load,
    StrictJsonView,
    favour_the_event_loop,
)
from adapters.asgi.live import LiveRequestContext, sign_in
from adapters.asgi.metrics import Metrics
from adapters.asgi.observe import CURRENT, OperationFacts, RequestFacts, record_result
from adapters.asgi.readiness import Probes
from adapters.bootstrap import Application
from planning.principal import ANONYMOUS
from resolvers.context import RequestContext
from schema.root import build_schema

log = structlog.get_logger("planner.http")


class PlannerGraphQL(StrictJsonView, GraphQL):  # type: ignore[type-arg]
    def __init__(self, app: Application, metrics: Metrics | None = None) -> None:
        production = app.settings.production
        schema = build_schema(production=production, extra_extensions=[OperationFacts])
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            # Subscriptions: graphql-transport-ws and the legacy graphql-ws (with its "ka" keep-alive).
            keep_alive=True,
            keep_alive_interval=app.settings.ws_keep_alive_s,
        )
        self._app = app
        #: ``metrics.subscriptions_open`` counts the subscriptions following the live broker.
        self.metrics = metrics or Metrics()
        # GraphQL work runs on a loop of its own: the server's loop stays free for probes and refusals.
        self.execution = ExecutionLoop()
        weakref.finalize(self, self.execution.close, wait=False)

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        if isinstance(request, WebSocket):
            return LiveRequestContext(
                services=self._app.services, principal=ANONYMOUS, events=self._app.events, websocket=request
            )
        return self._app.context(principal_of(request))

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """A page on another origin may subscribe where it may query: the CORS rule."""
        return origin_allowed(self._app.settings, origin)

    async def on_ws_connect(self, context: Any) -> None:
        await sign_in(context, self._app.identity)

    async def render_graphql_ide(self, request: Any) -> Any:
        """GraphiQL from the package's own files (adapters/asgi/graphiql): no CDN."""
        return HTMLResponse(graphiql.page_html())

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        """The answer's media type and status (adapters/asgi/media.py)."""
        result = await super().execute_single(*args, **kwargs)
        chosen = media.preferred_media_type(kwargs["request"].headers.get("accept"))
        sub_response = kwargs["sub_response"]
        sub_response.status_code = media.status_of(result, chosen)
        sub_response.headers["content-type"] = chosen
        return result

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        record_result(result)
        answer = await super().process_result(request, result)
        return media.shaped(answer, result, media.preferred_media_type(request.headers.get("accept")))

    def create_response(self, response_data: Any, sub_response: Any) -> Any:
        response = super().create_response(response_data, sub_response)
        if chosen := sub_response.headers.get("content-type"):
            response.headers["content-type"] = chosen  # one Content-Type, not the view's and ours
        return response


class RequestLog:
    """One structured line a request, with a request id the client can quote; a GraphQL
    request's line names its operation and cost, and is counted in ``metrics``."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None, *, graphql_path: str = "/graphql") -> None:
        self.app = app
        self.metrics = metrics
        self.graphql_path = graphql_path

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
        facts = RequestFacts()
        token = CURRENT.set(facts)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            CURRENT.reset(token)
            duration_s = time.perf_counter() - started
            graphql = {}
            if facts.graphql:
                graphql = {"operation": facts.operation, "cost": facts.cost}
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(duration_s * 1000, 1),
                **graphql,
            )
            structlog.contextvars.unbind_contextvars("request_id")
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
    metrics = Metrics(app)
    graphql = PlannerGraphQL(app, metrics)

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
    from adapters.bootstrap import bootstrap
    from adapters.config import Settings
    from adapters.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(json=settings.log_json)
    asgi = create_asgi_app(bootstrap(settings))
    favour_the_event_loop()
    return asgi
