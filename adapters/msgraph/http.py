"""GET from Microsoft Graph with throttling honoured: ``429``/``503`` (and ``502``/``504``, and
dropped connections) are retried after ``Retry-After`` when Graph sends one, else after a bounded
exponential back-off with jitter; a refused token (``401``) is renewed once.

The sleep and the random source are injected, so tests wait for nothing. Logs name the path,
status and wait, never a header (the bearer token travels in one).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from adapters.msgraph.auth import TokenSource
from planning.ports.planner import PlannerUnavailable

log = structlog.get_logger("planner.msgraph")

RETRIED_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` tries of one request in all; back-off ``base_s * 2**n``, at most
    ``max_backoff_s``, drawn between half and all of it (jitter); a ``Retry-After`` is honoured
    up to ``max_retry_after_s``."""

    max_attempts: int = 6
    base_s: float = 1.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        ceiling = min(self.max_backoff_s, self.base_s * (2**retry))
        return rng.uniform(ceiling / 2, ceiling)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class GraphHttp:
    """JSON GETs under one Graph base URL (such as ``https://graph.microsoft.com/v1.0``)."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        client: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._now = now
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc)

    def close(self) -> None:
        self._client.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """The JSON body of a GET (``url`` absolute, under the base URL); None for HTTP 404."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            # A nextLink elsewhere would carry our bearer token to another host.
            raise PlannerUnavailable(f"Graph answered a link outside {self.base_url}")
        path = parts.path
        renewed = False
        retry = 0
        while True:
            try:
                response = self._client.get(
                    url, params=params, headers={"Authorization": f"Bearer {self._tokens.token()}"}
                )
            except httpx.TransportError as exc:
                wait = self._next_wait(retry, None, path, type(exc).__name__)
                retry += 1
                self._sleep(wait)
                continue
            status = response.status_code
            if status == 401 and not renewed:
                renewed = True
                self._tokens.invalidate()
                continue
            if status in RETRIED_STATUSES:
                wait = self._next_wait(retry, response.headers.get("Retry-After"), path, str(status))
                retry += 1
                self._sleep(wait)
                continue
            if status == 404:
                return None
            if status >= 400:
                raise PlannerUnavailable(f"HTTP {status} ({_graph_error_code(response)}) for {path}")
            try:
                body = response.json()
            except ValueError:
                raise PlannerUnavailable(f"Graph answered something other than JSON for {path}") from None
            if not isinstance(body, dict):
                raise PlannerUnavailable(f"Graph answered an unexpected JSON shape for {path}")
            return body

    def _next_wait(self, retry: int, retry_after: str | None, path: str, why: str) -> float:
        """How long to wait before the next try; PlannerUnavailable when the tries are spent."""
        if retry + 1 >= self._policy.max_attempts:
            raise PlannerUnavailable(f"{path} still failing ({why}) after {self._policy.max_attempts} attempts")
        asked = retry_after_s(retry_after, self._now())
        if asked is not None:
            wait = min(asked, self._policy.max_retry_after_s)
        else:
            wait = self._policy.backoff(retry, self._rng)
        log.info("graph throttled or failing; waiting", path=path, why=why, wait_s=round(wait, 3), retry=retry + 1)
        return wait


def _graph_error_code(response: httpx.Response) -> str:
    """Graph's ``error.code`` (a short identifier, safe to show), else the reason phrase."""
    try:
        body = response.json()
        code = body["error"]["code"]
        if isinstance(code, str):
            return code[:80]
    except (ValueError, KeyError, TypeError):
        pass
    return response.reason_phrase or "error"
