"""Fixtures shared by every test layer.

Store-backed tests run twice, on SQLite and on PostgreSQL. PostgreSQL comes from
``PLANNER_TEST_POSTGRES_URL`` (the server's maintenance database), which ``make test`` sets after
starting a server; each test session works in a database of its own, emptied after every test.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.sql import create_store_engine, upgrade
from adapters.sql.tables import metadata
from tests.graphql_client import ADMIN_HEADERS

STORES = ("sqlite", "postgresql")

# Servers the tests start as processes (`planner serve`) hand their resolvers their parents as
# AppSync does, as the in-process ones do (the ``settings`` fixture; schema.direct_resolvers).
os.environ.setdefault("PLANNER_CHECK_PARENTS_AS_JSON", "1")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = os.environ.get("PLANNER_TEST_POSTGRES_URL")
    if not server:
        pytest.fail(
            "PLANNER_TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts PostgreSQL",
            pytrace=False,
        )
    # Under pytest-xdist each worker is a session of its own: the worker id says whose database it is.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"planner_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        exists = conn.execute(text("SELECT to_regclass('public.plans')")).scalar()
        if exists:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store Alembic has migrated to head, once per session. Each test gets a copy of
    it, as each PostgreSQL test gets the session's migrated database emptied: the migrations
    run once, not before every test (``bootstrap`` finds the copy at head)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "planner.db"
    engine = create_store_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "planner.db")
        yield f"sqlite:///{tmp_path}/planner.db"
        return
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    yield url
    _empty_postgres(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Settings:
    # The agent's background runs would add proposals to the outbox behind other tests' backs;
    # tests of the agent turn it on themselves.
    return Settings(
        database_url=database_url,
        graph_url=f"gremlite:{tmp_path}/graph.db",
        data_dir=str(tmp_path),
        agent_background=False,
        # Every test server hands its resolvers their parents as AppSync does (schema.direct_resolvers).
        check_parents_as_json=True,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Application]:
    application = bootstrap(settings)
    yield application
    application.close()


@pytest.fixture
def client(app: Application) -> Iterator[TestClient]:
    """A client of a development server that is, unless a request says otherwise, an admin
    (``ADMIN_HEADERS``): development trusts identity headers, and without them a caller is anonymous."""
    with TestClient(create_asgi_app(app), raise_server_exceptions=False, headers=ADMIN_HEADERS) as test_client:
        yield test_client


class StatementCounter:
    """Counts the statements of requests; the projection's background passes are not theirs."""

    BACKGROUND_THREADS = frozenset({"graph-projection"})

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        if threading.current_thread().name not in self.BACKGROUND_THREADS:
            self.count += 1


@pytest.fixture
def count_statements(app: Application) -> Iterator[Callable[[], StatementCounter]]:
    counters: list[StatementCounter] = []

    def start() -> StatementCounter:
        counter = StatementCounter()
        event.listen(app.engine, "before_cursor_execute", counter)
        counters.append(counter)
        return counter

    yield start
    for counter in counters:
        event.remove(app.engine, "before_cursor_execute", counter)
