"""The relational store: SQLAlchemy Core tables mapped to domain objects by hand.

Core rather than the ORM keeps the domain classes free of instrumentation and keeps every SQL
statement visible (the DataLoader tests count them).
"""

from adapters.sql.engine import create_store_engine
from adapters.sql.migrate import upgrade
from adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "create_store_engine", "upgrade"]
