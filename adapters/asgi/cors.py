"""Cross-origin requests (CORS), so that a browser app on another origin (a Vite or Next.js dev
server, Apollo Sandbox) can call the API.

Starlette's ``CORSMiddleware`` sits outside every other wrapper of the edge: it answers a
preflight (``OPTIONS`` with ``Access-Control-Request-Method``) itself, before the in-flight bound,
the body limit or authentication see it (a preflight carries no token and no body), and it adds
its headers to every answer of an allowed origin, the edge's 401, 413 and 503 included, so that a
browser app can read why it was refused. Tokens travel in the ``Authorization`` header: no
cookies, so no credentials mode.
"""

from __future__ import annotations

import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from adapters.config import Settings

ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = ("Authorization", "Content-Type")
#: Headers a browser app may read from an answer besides the simple ones.
EXPOSED_HEADERS = ("X-Request-Id", "Retry-After", "WWW-Authenticate")
#: How long a browser may keep a preflight's answer, in seconds.
PREFLIGHT_MAX_AGE_S = 600


def with_cors(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind the CORS rules of ``settings``; ``app`` itself when no origin is allowed."""
    if not settings.cors_origins and settings.cors_origin_regex is None:
        return app
    return CORSMiddleware(
        app,
        allow_origins=settings.cors_origins,
        allow_origin_regex=settings.cors_origin_regex,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_S,
    )


def origin_allowed(settings: Settings, origin: str) -> bool:
    """The same rule for a websocket handshake from a page on ``origin`` (subscriptions), which
    browsers do not preflight: Strawberry refuses cross-origin handshakes unless told."""
    if "*" in settings.cors_origins or origin in settings.cors_origins:
        return True
    return settings.cors_origin_regex is not None and re.fullmatch(settings.cors_origin_regex, origin) is not None
