"""Helpers for the store-backed service tests; the ``app`` fixture comes from tests/conftest.py."""

from __future__ import annotations

from adapters.bootstrap import Application
from adapters.sql import SqlUnitOfWork
from planning.events import OutboxMessage
from planning.principal import Principal

PLANNER = Principal("pat@example.com", frozenset({"planner"}))
ADMIN = Principal("ada@example.com", frozenset({"admin"}))
VIEWER = Principal("vera@example.com", frozenset({"viewer"}))


def outbox_after(app: Application, position: int = 0) -> list[OutboxMessage]:
    with SqlUnitOfWork(app.engine) as uow:
        return uow.outbox.read_after(position, 1000)


def last_position(app: Application) -> int:
    with SqlUnitOfWork(app.engine) as uow:
        return uow.outbox.last_position()


def kinds_after(app: Application, position: int) -> list[tuple[str, str]]:
    """(kind, entity id) of every outbox message after ``position``, in order."""
    return [(m.event.kind.value, m.event.entity_id) for m in outbox_after(app, position)]
