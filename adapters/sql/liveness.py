"""A pooled PostgreSQL connection is pinged before use, unless it was in use moments ago.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip to the server before each
request's first statement, about a tenth of a short read's time here (``bench/graphql_bench.py``).
A connection given back less than ``BYPASS_S`` ago was answering then; like HikariCP's
``aliveBypassWindowMs`` (500 ms by default), this skips the ping for it. A connection lost within
that window fails its request's first statement once, and SQLAlchemy then invalidates the pool
(every connection older than the failure is replaced), as it does for a disconnect it meets
mid-request; idle connections, the ones a restart or a failover takes, are still pinged.

The ping and its outcome are SQLAlchemy's own (``Dialect.do_ping``, ``Dialect.is_disconnect``),
raised as ``InvalidatePoolError`` from the pool's ``checkout`` event: the pool's documented way to
refuse a connection, which then replaces it and tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError

#: How long after its last use a connection is taken as alive without a ping.
BYPASS_S = 0.5

_USED_AT = "planner_used_at"


def ping_unless_recently_used(
    engine: Engine, bypass_s: float = BYPASS_S, clock: Callable[[], float] = time.monotonic
) -> None:
    """Install the checkout ping on ``engine`` (created without ``pool_pre_ping``)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_USED_AT] = clock()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_USED_AT] = clock()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if clock() - record.info.get(_USED_AT, float("-inf")) < bypass_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(f"the connection did not answer a ping: {exc}") from exc
            raise
