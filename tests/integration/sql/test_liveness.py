"""A pooled PostgreSQL connection is pinged before use unless it was used moments ago
(``adapters.sql.liveness``): on PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from adapters.sql import create_store_engine
from adapters.sql.liveness import BYPASS_S, ping_unless_recently_used


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(postgres_url: str, clock: Clock) -> Iterator[Engine]:
    made = create_engine(postgres_url, pool_size=1, max_overflow=0)
    ping_unless_recently_used(made, bypass_s=BYPASS_S, clock=clock)
    yield made
    made.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use(engine: Engine, postgres_url: str, clock: Clock) -> None:
    first = _backend(engine)
    _terminate(postgres_url, first)
    clock.now += BYPASS_S + 1  # idle for longer than the window: pinged, found dead, replaced
    second = _backend(engine)
    assert second != first


def test_a_connection_used_moments_ago_is_not_pinged(engine: Engine, postgres_url: str, clock: Clock) -> None:
    """Within the window nothing asks the server first: a connection that died there fails its
    first statement (what skipping the ping risks), and the pool replaces it for the next one."""
    first = _backend(engine)
    _terminate(postgres_url, first)
    clock.now += BYPASS_S / 2
    with pytest.raises(OperationalError) as failed, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert failed.value.connection_invalidated
    assert _backend(engine) != first


def test_the_store_engine_replaces_a_connection_that_died_while_idle(postgres_url: str) -> None:
    """``create_store_engine`` installs it for PostgreSQL (there is no clock to move: the test
    waits out the window)."""
    engine = create_store_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        first = _backend(engine)
        _terminate(postgres_url, first)
        time.sleep(BYPASS_S + 0.1)
        assert _backend(engine) != first
    finally:
        engine.dispose()
