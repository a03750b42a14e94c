"""A query's reads share one read-only transaction (adapters.sql.shared_reads), on both stores."""

from __future__ import annotations

import asyncio
import threading
from datetime import date

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import InternalError, SQLAlchemyError

from adapters.bootstrap import Application
from adapters.sql.shared_reads import SharedReads, current_shared_reads
from planning.commands import CreatePlan
from planning.model import Plan
from tests.integration.sql.conftest import ADMIN


def _plan(app: Application, name: str) -> Plan:
    return app.services.plans.create(CreatePlan(name=name, event_date=date(2026, 3, 31)), ADMIN)


class Begins:
    """Counts transactions begun on the engine (not by the projection's thread)."""

    def __init__(self, app: Application) -> None:
        self.count = 0
        self._engine = app.engine
        event.listen(app.engine, "begin", self)

    def __call__(self, _conn: object) -> None:
        if threading.current_thread().name != "graph-projection":
            self.count += 1

    def stop(self) -> None:
        event.remove(self._engine, "begin", self)


def test_reads_in_a_scope_share_one_transaction(app: Application) -> None:
    plan = _plan(app, "shared")
    begins = Begins(app)
    try:
        with app.shared_reads() as scope:
            assert app.services.plans.get_many(ADMIN, [plan.id]) == [plan]
            assert app.services.plans.task_counts(ADMIN, [plan.id]) == [0]
            assert app.services.plans.page(ADMIN, None, 10).items == (plan,)
        assert scope.transactions == 1
        assert begins.count == 1
        app.services.plans.get_many(ADMIN, [plan.id])  # outside a scope: a unit of work of its own
        assert begins.count == 2
    finally:
        begins.stop()


def test_a_scope_refuses_to_write_and_writes_nothing(app: Application) -> None:
    # PostgreSQL refuses the INSERT itself (a READ ONLY transaction); SQLite gets to the commit.
    with app.shared_reads(), pytest.raises((RuntimeError, InternalError), match=r"cannot commit|read-only"):
        _plan(app, "never")
    assert app.services.plans.page(ADMIN, None, 10).items == ()


def _read_then_fail(scope: SharedReads, plan: Plan, error: Exception) -> None:
    with scope.unit_of_work() as uow:
        assert uow.plans.get_many([plan.id]) == [plan]
        raise error


def test_a_statement_the_store_fails_ends_the_transaction_and_other_errors_do_not(app: Application) -> None:
    plan = _plan(app, "after a failure")
    with app.shared_reads() as scope:
        with pytest.raises(ZeroDivisionError):
            _read_then_fail(scope, plan, ZeroDivisionError())  # not the store's: the snapshot stays
        assert app.services.plans.get_many(ADMIN, [plan.id]) == [plan]
        assert scope.transactions == 1
        with pytest.raises(SQLAlchemyError):
            _fail_a_statement(scope)
        # PostgreSQL would refuse anything more in the failed transaction: the next block has a new one.
        assert app.services.plans.get_many(ADMIN, [plan.id]) == [plan]
    assert scope.transactions == 2


def _fail_a_statement(scope: SharedReads) -> None:
    with scope.unit_of_work() as uow:
        uow.connection.execute(text("SELECT * FROM no_such_table"))


def test_closing_never_waits_for_a_block_still_open_in_a_worker_thread(app: Application) -> None:
    """The query's loop ends the scope while a cancelled task's worker is still in a block: the
    loop goes on at once, and the block ends the transaction as it leaves."""
    plan = _plan(app, "cancelled")
    inside, release = threading.Event(), threading.Event()
    found: list[object] = []

    def worker(scope: SharedReads) -> None:
        with scope.unit_of_work() as uow:
            inside.set()
            release.wait(30)
            found.extend(uow.plans.get_many([plan.id]))

    ended_in: list[str] = []

    def on_rollback(_conn: object) -> None:
        ended_in.append(threading.current_thread().name)

    event.listen(app.engine, "rollback", on_rollback)
    try:
        with app.shared_reads() as scope:
            thread = threading.Thread(target=worker, args=(scope,), name="cancelled-worker")
            thread.start()
            assert inside.wait(30)
        # The scope closed (it would not have if close waited for the worker, which waits for us).
        assert "cancelled-worker" not in ended_in
        release.set()
        thread.join(30)
    finally:
        event.remove(app.engine, "rollback", on_rollback)
    assert found == [plan]
    assert "cancelled-worker" in ended_in  # the worker's leaving ended the transaction
    with pytest.raises(RuntimeError, match="has ended"), scope.unit_of_work():
        pass


def test_a_block_inside_another_on_the_same_thread_joins_it(app: Application) -> None:
    plan = _plan(app, "nested")
    with app.shared_reads() as scope, scope.unit_of_work() as outer:
        # A service reading inside another's block (an access check, say) neither waits nor reopens.
        assert app.services.plans.get_many(ADMIN, [plan.id]) == [plan]
        assert outer.plans.get_many([plan.id]) == [plan]
    assert scope.transactions == 1


def test_a_scope_sees_one_snapshot_and_does_not_hold_writers_back(app: Application) -> None:
    first = _plan(app, "first")
    with app.shared_reads():
        assert app.services.plans.page(ADMIN, None, 10).items == (first,)
        # Another writer commits while the query's transaction is open: it is not held back
        # (SQLite: no write lock taken by the reader), and the query keeps its snapshot.
        done: list[Plan] = []
        writer = threading.Thread(target=lambda: done.append(_plan(app, "second")))
        writer.start()
        writer.join(10)
        assert done, "the writer waited for the reader"
        assert app.services.plans.page(ADMIN, None, 10).items == (first,)
    assert [p.name for p in app.services.plans.page(ADMIN, None, 10).items] == ["first", "second"]


def test_worker_threads_of_the_query_see_its_scope_and_other_threads_do_not(app: Application) -> None:
    seen: dict[str, object] = {}

    async def query() -> None:
        seen["to_thread"] = await asyncio.to_thread(current_shared_reads)
        thread = threading.Thread(target=lambda: seen.update(thread=current_shared_reads()))
        thread.start()
        thread.join()

    with app.shared_reads() as scope:
        asyncio.run(query())
    assert seen == {"to_thread": scope, "thread": None}
    assert current_shared_reads() is None
