"""Retries for graph traversals: back-off on write conflicts, reconnect on dropped connections.

Every traversal this adapter submits is idempotent (coalesce-style upserts, drops that may
run twice, reads), so any of them may be re-submitted after a failure whose outcome is unknown.

Two kinds of failure are retried:

* a write conflict: Neptune's ``ConcurrentModificationException`` (two transactions touched
  the same elements; the loser is rolled back) or SQLite's "database is locked" locally. The
  connection is fine; wait and submit again.
* a broken connection (socket reset, websocket closed by the server, handshake timeout,
  Neptune's ``ReadOnlyViolationException`` after a fail-over turned our writer into a reader).
  The remote is closed and rebuilt (for Neptune that signs the handshake again, see
  ``neptune_auth``), then the traversal is submitted again.

Anything else (a malformed traversal, a 403 on the handshake, a timeout of the evaluation) is
raised at once. Waits use "full jitter" exponential back-off: ``uniform(0, min(cap, base * 2**n))``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, TypeVar

from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.graph_traversal import GraphTraversalSource

from planning.ports.graph import GraphUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

_CONFLICT_MARKERS = ("ConcurrentModificationException",)
#: Server-side errors after which a fresh connection (new DNS lookup of the cluster endpoint,
#: new handshake) is the cure.
_RECONNECT_MARKERS = ("ReadOnlyViolationException",)
#: gremlinpython's aiohttp transport reports a closed websocket as a bare RuntimeError.
_CLOSED_SOCKET_MARKERS = ("Connection was closed", "Connection was already closed", "Received error on read")


class Remote(Protocol):
    """One live connection to a graph, as the executor needs it."""

    @property
    def g(self) -> GraphTraversalSource: ...

    def commit(self) -> None:
        """Make the traversal just run durable (a no-op where each request is its own transaction)."""
        ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


class Failure(Enum):
    FATAL = "fatal"
    CONFLICT = "conflict"
    CONNECTION = "connection"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try.

    ``max_attempts`` counts submissions (the first one included). ``max_elapsed_s`` (optional)
    stops retrying once that much time has passed since the first attempt.
    ``evaluation_timeout_ms`` is sent with every traversal as the ``evaluationTimeout`` request
    option (Neptune and Gremlin Server honour it; gremlite ignores it).
    """

    max_attempts: int = 6
    base_delay_s: float = 0.05
    max_delay_s: float = 2.0
    max_elapsed_s: float | None = 30.0
    evaluation_timeout_ms: int | None = 30_000

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry_number: int, rand: Callable[[], float]) -> float:
        """Full-jitter delay before retry ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (retry_number - 1)))
        return float(rand() * ceiling)


def _error_text(exc: GremlinServerError) -> str:
    parts: list[Any] = [exc.status_message, exc.status_attributes, str(exc)]
    return " ".join(str(p) for p in parts if p)


def classify(exc: BaseException) -> Failure:
    """Which kind of failure ``exc`` is (see the module docstring)."""
    if isinstance(exc, GremlinServerError):
        text = _error_text(exc)
        if any(m in text for m in _CONFLICT_MARKERS):
            return Failure.CONFLICT
        if any(m in text for m in _RECONNECT_MARKERS):
            return Failure.CONNECTION
        return Failure.FATAL
    if isinstance(exc, sqlite3.OperationalError):
        return Failure.CONFLICT if "locked" in str(exc) or "busy" in str(exc) else Failure.FATAL
    if isinstance(exc, ConnectionError | TimeoutError | asyncio.TimeoutError | socket.gaierror | EOFError):
        return Failure.CONNECTION
    if isinstance(exc, RuntimeError) and any(m in str(exc) for m in _CLOSED_SOCKET_MARKERS):
        return Failure.CONNECTION
    try:
        import aiohttp

        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ServerTimeoutError):
            return Failure.CONNECTION
    except ImportError:  # pragma: no cover - aiohttp comes with gremlinpython
        pass
    return Failure.FATAL


class RetryingExecutor:
    """Runs one traversal at a time against a lazily (re)built :class:`Remote`.

    ``connect`` builds a new remote; it is called on first use and again after every broken
    connection, so a signing connector signs each handshake afresh. ``sleep``, ``rand`` and
    ``clock`` are injectable so tests never wait. Not thread-safe: use one per thread.
    """

    def __init__(
        self,
        connect: Callable[[], Remote],
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        self._clock = clock
        self._remote: Remote | None = None
        self.connects = 0
        self.retries = 0

    def _source(self) -> tuple[Remote, GraphTraversalSource]:
        if self._remote is None:
            self._remote = self._connect()
            self.connects += 1
        g = self._remote.g
        if self.policy.evaluation_timeout_ms is not None:
            g = g.with_("evaluationTimeout", self.policy.evaluation_timeout_ms)
        return self._remote, g

    def _discard_remote(self) -> None:
        remote, self._remote = self._remote, None
        if remote is not None:
            try:
                remote.close()
            except Exception:
                log.debug("closing a broken graph connection failed", exc_info=True)

    def run(self, submit: Callable[[GraphTraversalSource], T]) -> T:
        """Call ``submit(g)`` (which must submit exactly one idempotent traversal), retrying."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            remote: Remote | None = None
            try:
                remote, g = self._source()
                result = submit(g)
                remote.commit()
                return result
            except Exception as exc:
                if remote is not None:
                    try:
                        remote.rollback()
                    except Exception:
                        log.debug("rollback failed", exc_info=True)
                kind = classify(exc)
                if kind is Failure.FATAL:
                    raise
                if kind is Failure.CONNECTION:
                    self._discard_remote()
                out_of_time = (
                    self.policy.max_elapsed_s is not None and self._clock() - started >= self.policy.max_elapsed_s
                )
                if attempt >= self.policy.max_attempts or out_of_time:
                    # Retries spent on a retryable failure: to callers, the graph is unavailable.
                    raise GraphUnavailable(f"the graph did not answer after {attempt} attempts: {exc}") from exc
                delay = self.policy.backoff(attempt, self._rand)
                log.warning(
                    "graph traversal failed (%s, attempt %d of %d), retrying in %.3fs: %s",
                    kind.value,
                    attempt,
                    self.policy.max_attempts,
                    delay,
                    exc,
                )
                self.retries += 1
                self._sleep(delay)

    def close(self) -> None:
        self._discard_remote()
