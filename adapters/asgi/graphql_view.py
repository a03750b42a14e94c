"""The GraphQL endpoint of the local server: Strawberry's ASGI view over the planner's schema.

A module of its own so that ``adapters.asgi.app`` imports Strawberry only when it builds an app
(``create_asgi_app``), not when it is imported (cold start, README "Benchmarks").
"""

from __future__ import annotations

import weakref
from typing import Any

from starlette.responses import HTMLResponse
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from adapters.asgi import graphiql, media
from adapters.asgi.auth import principal_of
from adapters.asgi.cors import origin_allowed
from adapters.asgi.limits import ExecutionLoop, StrictJsonView
from adapters.asgi.live import LiveRequestContext, sign_in
from adapters.asgi.metrics import Metrics
from adapters.asgi.observe import OperationFacts, record_result
from adapters.asgi.read_transaction import OneReadTransaction
from adapters.bootstrap import Application
from planning.principal import ANONYMOUS
from resolvers.context import RequestContext
from schema.root import build_schema


class PlannerGraphQL(StrictJsonView, GraphQL):  # type: ignore[type-arg]
    def __init__(self, app: Application, metrics: Metrics | None = None) -> None:
        production = app.settings.production
        schema = build_schema(
            production=production,
            # A query's reads share one transaction (adapters.sql.shared_reads).
            extra_extensions=[OperationFacts, lambda: OneReadTransaction(app)],
            parents_as_json=app.settings.check_parents_as_json,
        )
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
