"""The relational store: SQLAlchemy Core tables mapped to domain objects by hand.

Core rather than the ORM keeps the domain classes free of instrumentation and keeps every SQL
statement visible (the DataLoader tests count them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.sql.engine import create_store_engine
    from adapters.sql.migrate import upgrade
    from adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "create_store_engine", "upgrade"]


def __getattr__(name: str) -> Any:
    """PEP 562: the re-exports import SQLAlchemy (and Alembic) on first use, so that a light
    submodule (``adapters.sql.defaults``) is importable without them; this keeps the cold start short."""
    if name == "create_store_engine":
        from adapters.sql.engine import create_store_engine

        return create_store_engine
    if name == "upgrade":
        from adapters.sql.migrate import upgrade

        return upgrade
    if name == "SqlUnitOfWork":
        from adapters.sql.unit_of_work import SqlUnitOfWork

        return SqlUnitOfWork
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
