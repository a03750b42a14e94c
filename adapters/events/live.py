"""Which event broker a process uses: LISTEN/NOTIFY on PostgreSQL, the in-process one on SQLite."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from adapters.config import Settings
from adapters.events.outbox_broker import OutboxBroker
from adapters.events.postgres_notify import PostgresNotifyBroker

__all__ = ["OutboxBroker", "PostgresNotifyBroker", "after_commit", "open_broker"]


def open_broker(engine: Engine, settings: Settings) -> OutboxBroker:
    if engine.dialect.name == "postgresql":
        return PostgresNotifyBroker(
            engine, settings.database_url, poll_s=settings.events_poll_s, queue_size=settings.subscriber_queue
        )
    return OutboxBroker(engine, poll_s=settings.events_poll_s, queue_size=settings.subscriber_queue)


def after_commit(*hooks: Callable[[], None]) -> Callable[[], None]:
    """One ``on_commit`` callback that runs each hook in turn."""

    def run() -> None:
        for hook in hooks:
            hook()

    return run
