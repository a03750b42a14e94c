"""Which event broker a process uses: LISTEN/NOTIFY on PostgreSQL, the in-process one on SQLite."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from adapters.config import Settings
from adapters.events.outbox_broker import OutboxBroker
from adapters.sql import create_store_engine

__all__ = ["OutboxBroker", "after_commit", "open_broker"]


def open_broker(engine: Engine, settings: Settings) -> OutboxBroker:
    """The broker reads through an engine of its own (its reads stay out of the application's
    pool and statement counts); it disposes of it when it stops."""
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    own = engine if in_memory else create_store_engine(settings.database_url)
    if engine.dialect.name == "postgresql":
        # psycopg's listener is imported on PostgreSQL only, not by a server on SQLite (cold start).
        from adapters.events.postgres_notify import PostgresNotifyBroker

        return PostgresNotifyBroker(
            own, settings.database_url, poll_s=settings.events_poll_s, queue_size=settings.subscriber_queue
        )
    return OutboxBroker(own, poll_s=settings.events_poll_s, queue_size=settings.subscriber_queue)


def after_commit(*hooks: Callable[[], None]) -> Callable[[], None]:
    """One ``on_commit`` callback that runs each hook in turn."""

    def run() -> None:
        for hook in hooks:
            hook()

    return run
