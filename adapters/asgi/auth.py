"""Authentication at the HTTP edge: each GraphQL request's Principal, or HTTP 401.

``Authenticate`` wraps the GraphQL endpoint only: ``/healthz`` and the other operational routes
need no token. The rules themselves live in ``adapters.identity`` (shared with websockets and
the AppSync handler); this module only turns their answer into HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.identity import Authenticator, Credentials, KeysUnavailable, Unauthenticated, local_signer
from planning.principal import ANONYMOUS, Principal

log = structlog.get_logger("planner.auth")

#: Where ``Authenticate`` leaves the caller in the ASGI scope for ``principal_of``.
PRINCIPAL_KEY = "planner.principal"
JWKS_PATH = "/.well-known/jwks.json"


def principal_of(request: Any) -> Principal:
    """The caller ``Authenticate`` recognised; a request that did not pass through it is nobody."""
    principal = request.scope.get(PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else ANONYMOUS


def _error(status: int, message: str, code: str, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status, headers)


class Authenticate:
    """ASGI middleware: credentials → Principal in the scope, else 401 (503 when the issuer's keys
    cannot be fetched: the caller's token may be fine)."""

    def __init__(self, app: ASGIApp, identity: Authenticator) -> None:
        if identity.require_token and not identity.verifiers:
            raise ValueError(
                "production needs a token issuer: set PLANNER_COGNITO_USER_POOL_ID (or PLANNER_AUTH_ISSUER) "
                "and PLANNER_AUTH_AUDIENCE"
            )
        self.app = app
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.identity.authenticate(Credentials.from_mapping(Headers(scope=scope)))
        except Unauthenticated as exc:
            challenge = 'Bearer realm="planner"' + (', error="invalid_token"' if exc.invalid_token else "")
            response = _error(401, exc.message, "UNAUTHENTICATED", {"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            return
        except KeysUnavailable as exc:
            log.warning("token signing keys unavailable", error=str(exc))
            response = _error(
                503,
                "the token issuer's signing keys are unavailable; retry shortly",
                "UNAVAILABLE",
                {"Retry-After": "5"},
            )
            await response(scope, receive, send)
            return
        await self.app({**scope, PRINCIPAL_KEY: principal}, receive, send)


def development_routes(app: Any) -> list[Route]:
    """Development serves the local signer's public keys, the JWKS its tokens verify against."""
    if app.settings.production:
        return []
    signer = local_signer(app.settings)

    async def jwks(_request: Request) -> JSONResponse:
        keys = await asyncio.to_thread(signer.jwks)  # reads (or makes, once) the key pair
        return JSONResponse(keys, headers={"Cache-Control": "max-age=300"})

    return [Route(JWKS_PATH, jwks, methods=["GET"])]
