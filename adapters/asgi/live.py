"""The local server's websockets: who a connection is, and the context its subscriptions get.

Strawberry's view speaks both graphql-transport-ws and the legacy graphql-ws protocol at
``/graphql``. The caller is recognised at ``connection_init`` (``on_ws_connect``) by the rules
HTTP uses (``adapters.identity``): the payload's ``Authorization`` (a bare token or
``Bearer <token>``), else, in development, the identity headers, from the payload or from the
upgrade request. A connection whose credentials do not hold is closed with 4403.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError

from adapters.identity import Authenticator, Credentials, KeysUnavailable, Unauthenticated
from planning.principal import Principal
from resolvers.context import RequestContext
from resolvers.loaders import Loaders
from subscriptions.broker import EventBroker

log = structlog.get_logger("planner.live")


@dataclass
class LiveRequestContext(RequestContext):
    """A websocket connection's context (``subscriptions.context.LiveContext``): anonymous until
    ``connection_init`` signs it in."""

    events: EventBroker | None = None
    websocket: WebSocket | None = None
    connection_params: Mapping[str, Any] = field(default_factory=dict)

    def sign_in(self, principal: Principal) -> None:
        self.principal = principal
        self.access = self.services.access(principal)
        self.loaders = Loaders(self.services, self.access)

    async def disconnect(self, code: int, reason: str) -> None:
        """Close the connection; the subscription that asked waits to be cancelled with it."""
        if self.websocket is not None:
            log.info("websocket closed", code=code, reason=reason)
            await self.websocket.close(code=code, reason=reason[:120])
        await asyncio.Event().wait()


def credentials_of(websocket: WebSocket | None, payload: Mapping[str, Any]) -> Credentials:
    """The upgrade request's headers, overridden by the ``connection_init`` payload's values."""
    values: dict[str, object] = {}
    if websocket is not None:
        values.update({k.lower(): v for k, v in Headers(scope=websocket.scope).items()})
    values.update({str(k).lower(): v for k, v in payload.items()})
    return Credentials.from_mapping(values)


async def sign_in(context: LiveRequestContext, identity: Authenticator) -> None:
    """``connection_init``: the caller, or ``ConnectionRejectionError`` (closed with 4403)."""
    params = context.connection_params if isinstance(context.connection_params, Mapping) else {}
    try:
        principal = await identity.authenticate(credentials_of(context.websocket, params))
    except (Unauthenticated, KeysUnavailable) as exc:
        log.info("websocket connection refused", reason=str(exc))
        raise ConnectionRejectionError from exc
    context.sign_in(principal)
