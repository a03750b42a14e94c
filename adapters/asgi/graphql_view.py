"""The GraphQL endpoint of the local server: Strawberry's ASGI view over the planner's schema.

A module of its own so that ``adapters.asgi.app`` imports Strawberry only when it builds an app
(``create_asgi_app``), not when it is imported (cold start, README "Benchmarks").
"""

from __future__ import annotations

import weakref
from typing import Any

from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from adapters.asgi.auth import principal_of
from adapters.asgi.limits import ExecutionLoop, StrictJsonView
from adapters.asgi.live import LiveRequestContext, sign_in
from adapters.bootstrap import Application
from planning.principal import ANONYMOUS
from resolvers.context import RequestContext
from schema.root import build_schema


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
