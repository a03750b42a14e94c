from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError

from adapters.sql.repositories import (
    SqlActionRepository,
    SqlActivityLog,
    SqlDependencyRepository,
    SqlExternalEventRepository,
    SqlMemberRepository,
    SqlOutbox,
    SqlPlanRepository,
    SqlSimulationRepository,
    SqlTaskRepository,
)
from adapters.sql.repositories.planner_sync import SqlPlannerSyncRepository
from planning.errors import DomainError, ErrorCode, StoreConflict

#: How a read-only transaction begins: one snapshot for all its statements; on SQLite a deferred
#: BEGIN (``adapters.sql.engine`` begins the others IMMEDIATE, taking the write lock).
READ_ONLY_OPTIONS: dict[str, dict[str, object]] = {
    "postgresql": {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True},
    "sqlite": {"planner_read_only": True},
}


class SqlUnitOfWork:
    """One database transaction; rolled back unless ``commit()`` is called inside the block.

    ``on_commit`` runs after a unit of work that committed events to the outbox (those are what
    a projection applies); commits without events (progress writes, leases) do not call it.
    """

    plans: SqlPlanRepository
    tasks: SqlTaskRepository
    dependencies: SqlDependencyRepository
    external_events: SqlExternalEventRepository
    simulations: SqlSimulationRepository
    members: SqlMemberRepository
    activity: SqlActivityLog
    outbox: SqlOutbox
    actions: SqlActionRepository
    planner_sync: SqlPlannerSyncRepository

    def __init__(self, engine: Engine, on_commit: Callable[[], None] | None = None, *, read_only: bool = False) -> None:
        self._engine = engine
        self._on_commit = on_commit
        self._committed = False
        self._conn: Connection | None = None
        #: Reads only (``adapters.sql.shared_reads``): one snapshot, no write lock, no commit.
        self.read_only = read_only

    def __enter__(self) -> Self:
        conn = self._engine.connect()
        if self.read_only:
            conn.execution_options(**READ_ONLY_OPTIONS[self._engine.dialect.name])
        conn.begin()
        self._conn = conn
        self.plans = SqlPlanRepository(conn)
        self.tasks = SqlTaskRepository(conn)
        self.dependencies = SqlDependencyRepository(conn)
        self.external_events = SqlExternalEventRepository(conn)
        self.simulations = SqlSimulationRepository(conn)
        self.members = SqlMemberRepository(conn)
        self.activity = SqlActivityLog(conn)
        self.outbox = SqlOutbox(conn, read_only=self.read_only)
        self.actions = SqlActionRepository(conn)
        self.planner_sync = SqlPlannerSyncRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()
        if isinstance(exc, IntegrityError):
            raise StoreConflict(str(exc.orig)) from exc
        if isinstance(exc, DataError):
            # The domain bounds every value; this is the store's own check behind it.
            raise DomainError(
                ErrorCode.INVALID_INPUT, "a value does not fit the store (too long or malformed)"
            ) from exc
        if self._committed and self._on_commit is not None:
            self._committed = False
            self._on_commit()

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    def commit(self) -> None:
        """Commit; the ``on_commit`` callback runs once the unit of work is closed, if it appended
        to the outbox."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit: a query writes nothing")
        untold = self.tasks.written_plans - self.outbox.told_task_changes
        if untold:
            # Readers keep a plan's tasks under its last outbox position (planning.services.tasks):
            # a task written without an event would leave them an old list.
            raise RuntimeError(f"tasks of plan(s) {sorted(untold)} were written without a task event in the outbox")
        try:
            self.connection.commit()
        except IntegrityError as exc:
            raise StoreConflict(str(exc.orig)) from exc
        if self.outbox.appended:
            self._committed = True
            self.outbox.appended = False
        self.tasks.written_plans.clear()
        self.outbox.told_task_changes.clear()

    def rollback(self) -> None:
        self.connection.rollback()
        self.tasks.written_plans.clear()
        self.outbox.told_task_changes.clear()
