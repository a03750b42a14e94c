"""One transaction for every read of a GraphQL query.

A query's resolvers call many services, and each service call opens a unit of work: on
PostgreSQL that is a connection checkout with its ping, a BEGIN and a ROLLBACK, three round
trips around each handful of statements, and reads that each see another moment of the store.
Inside ``shared_reads(engine)`` (the local server enters it for every query operation sent over
HTTP, ``adapters.asgi.read_transaction``; the AppSync handler for a query field's invocation),
every unit of work the services open is a block on one
read-only transaction instead, opened on first use and closed when the query ends:

- its statements see one snapshot of the store (PostgreSQL REPEATABLE READ; on SQLite a
  deferred BEGIN, which reads one snapshot in WAL mode and, unlike the writers' BEGIN
  IMMEDIATE, does not take the write lock);
- the blocks take turns (a lock): a query's loaders run in worker threads, sometimes at once;
  a block opened inside another on the same thread joins it;
- a statement the store fails ends the transaction once its blocks leave (PostgreSQL refuses
  every statement after an error), and the next block opens another; other errors leave it;
- writing is refused (PostgreSQL refuses the statement, SQLite the ``commit()``): a query writes
  nothing. Writers (mutations, the projection, the simulation workers, the agent) run outside
  the scope and get their own units of work.

The scope is a context variable: worker threads started by ``asyncio.to_thread`` and the
DataLoaders' batches run in copies of the query's context and see it; threads of their own
(the projection, the simulation queue) do not.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from adapters.sql.unit_of_work import SqlUnitOfWork
from planning.ports import UnitOfWork

log = structlog.get_logger("planner.sql")

_CURRENT: contextvars.ContextVar[SharedReads | None] = contextvars.ContextVar("planner_shared_reads", default=None)


class SharedReads:
    """The query's read transaction, opened on the first block and ended by ``close()``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Re-entrant: a service may open a block inside another's on the same thread (it joins it).
        self._lock = threading.RLock()
        self._depth = 0
        self._open: SqlUnitOfWork | None = None
        self._broken = False
        self._closed = False
        #: Transactions opened (one, unless the store failed a statement): what a test can count.
        self.transactions = 0

    def unit_of_work(self) -> SharedBlock:
        return SharedBlock(self)

    def enter_block(self) -> SqlUnitOfWork:
        self._lock.acquire()
        try:
            if self._closed:
                raise RuntimeError("the query's read transaction has ended")
            if self._open is None:
                self._open = SqlUnitOfWork(self._engine, read_only=True).__enter__()
                self.transactions += 1
            self._depth += 1
            return self._open
        except BaseException:
            self._lock.release()
            raise

    def exit_block(self, exc: BaseException | None) -> None:
        try:
            self._depth -= 1
            if isinstance(exc, SQLAlchemyError):
                # The store failed a statement: PostgreSQL refuses every later one in the transaction.
                # Other errors (a domain error, say) leave it as it was: one snapshot for the query.
                self._broken = True
            if self._depth == 0 and (self._broken or self._closed):
                self._end()
        finally:
            self._lock.release()

    def close(self) -> None:
        """End the transaction. The caller (the query's event loop) never waits for it: when a
        block is still open (the worker thread of a cancelled task), that block ends it as it leaves."""
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                if self._depth == 0:
                    self._end()
            finally:
                self._lock.release()

    def _end(self) -> None:
        uow, self._open, self._broken = self._open, None, False
        if uow is None:
            return
        try:
            uow.__exit__(None, None, None)  # rolls back and gives the connection back
        except Exception:
            log.warning("the read transaction did not end cleanly", exc_info=True)


class SharedBlock:
    """A ``with`` block on the query's transaction, shaped as a unit of work."""

    def __init__(self, owner: SharedReads) -> None:
        self._owner = owner

    def __enter__(self) -> SqlUnitOfWork:
        return self._owner.enter_block()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._owner.exit_block(exc)


def unit_of_work_factory(engine: Engine, on_commit: Callable[[], None] | None = None) -> Callable[[], UnitOfWork]:
    """The services' unit-of-work factory: a block on the query's transaction inside a scope,
    else a unit of work of its own (``on_commit`` runs after it commits outbox events)."""

    def unit_of_work() -> UnitOfWork:
        shared = _CURRENT.get()
        return SqlUnitOfWork(engine, on_commit=on_commit) if shared is None else shared.unit_of_work()

    return unit_of_work


def current_shared_reads() -> SharedReads | None:
    """The scope the calling code runs in, if any."""
    return _CURRENT.get()


@contextmanager
def shared_reads(engine: Engine) -> Iterator[SharedReads]:
    """Run the block's service calls on one read transaction (see the module's docstring)."""
    scope = SharedReads(engine)
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)
        scope.close()
