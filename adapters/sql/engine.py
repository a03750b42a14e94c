from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from adapters.sql.defaults import DEFAULT_DATABASE_URL
from adapters.sql.liveness import ping_unless_recently_used


def create_store_engine(url: str = DEFAULT_DATABASE_URL, **kwargs: Any) -> Engine:
    """An engine for ``PLANNER_DATABASE_URL``: SQLite (file created on first use) or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            # One connection holds an in-memory database: its pool has no size to set.
            kwargs = {k: v for k, v in kwargs.items() if k not in {"pool_size", "max_overflow"}}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, **kwargs)
        ping_unless_recently_used(engine)
        return engine
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)}: use sqlite or postgresql"
    )


def _configure_sqlite(engine: Engine) -> None:
    """Real transactions on SQLite: foreign keys on, WAL, and BEGIN IMMEDIATE.

    pysqlite's own transaction handling defers BEGIN until the first write, so a unit of work
    that reads, then writes, could act on a snapshot another writer has since replaced. Taking
    the write lock at BEGIN serialises units of work instead, as PostgreSQL's row locks do.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only unit of work reads a snapshot without the write lock (WAL lets it beside a writer).
        read_only = conn.get_execution_options().get("planner_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
