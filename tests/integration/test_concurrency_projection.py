"""The graph projection under a slow or failing graph, and across processes, on both stores.

Two ``Application`` objects on one database (and graph) stand for a server and a
`planner graph ...` command running at the same time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.graph.confined import ThreadConfinedGraph
from adapters.sql import SqlUnitOfWork
from adapters.sql.tables import outbox_checkpoints
from planning.commands import CreateTask, DeleteTask, UpdateTask
from planning.principal import Principal
from planning.services.projection import GRAPH_CONSUMER, GraphProjector, LeaseLost, ProjectionBusy
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("t", frozenset({"admin"}))
TASKS = [RefTask(f"t{i}", 1 + i % 3) for i in range(4)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 0), ("t0", "t3", 0)]


class SlowDown:
    """A graph that is down and slow to say so: every call fails after ``delay_s``."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            self.calls += 1
            time.sleep(self.delay_s)
            raise ConnectionError(f"graph unreachable ({name})")

        return fail


class Gated:
    """The real graph, except that ``bulk_load`` waits for ``release`` (a long rebuild)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.loading = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def bulk_load(self, *args: Any) -> Any:
        self.loading.set()
        assert self.release.wait(30)
        return self.real.bulk_load(*args)


@pytest.fixture
def second(settings: Settings) -> Iterator[Application]:
    """Another process on the same store and graph (`planner graph ...`, or a second server)."""
    application = bootstrap(settings)
    yield application
    application.close()


def _import(app: Application, name: str = "Projected") -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document(name, TASKS, EDGES), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(plan.id)}


def _checkpoint(app: Application) -> int:
    with SqlUnitOfWork(app.engine) as uow:
        return uow.outbox.checkpoint(GRAPH_CONSUMER)


def _last(app: Application) -> int:
    with SqlUnitOfWork(app.engine) as uow:
        return uow.outbox.last_position()


def _in_graph(app: Application, plan_id: str) -> set[str]:
    return {t.task_id for t in app.graph.plan_graph(plan_id).tasks}


def _timed_create(app: Application, plan_id: str, title: str) -> tuple[float, str]:
    began = time.monotonic()
    made = app.services.tasks.create(CreateTask(plan_id, title, duration_days=1), ADMIN)
    return time.monotonic() - began, made.id


def _wait_for(predicate: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# M3: the circuit breaker


def test_after_a_failed_projection_writes_stop_waiting_for_the_graph(app: Application) -> None:
    plan_id, _ = _import(app)
    runner = app.projection
    runner.retry_s = 60.0  # no retry inside this test's writes
    real = app.graph._graph
    down = SlowDown(0.5)
    app.graph._graph = down
    try:
        first, _ = _timed_create(app, plan_id, "first while down")
        assert first >= 0.5  # this write found out the graph is down
        assert runner.breaker_open
        calls = down.calls
        for i in range(5):
            took, _ = _timed_create(app, plan_id, f"later {i}")
            assert took < 0.4
        assert down.calls == calls  # the later writes did not touch the graph
    finally:
        app.graph._graph = real
    assert app.projector.pending() > 0


def test_the_background_loop_closes_the_breaker_and_read_your_writes_returns(app: Application) -> None:
    plan_id, _ = _import(app)
    runner = app.projection
    runner.retry_s = 0.2
    real = app.graph._graph
    down = SlowDown(0.3)
    app.graph._graph = down
    runner.start()
    try:
        _timed_create(app, plan_id, "first while down")
        assert runner.breaker_open
        for i in range(3):
            # The loop is running: a write only signals it, however long the breaker has been open.
            time.sleep(0.25)
            took, _ = _timed_create(app, plan_id, f"later {i}")
            assert took < 0.25
        app.graph._graph = real
        _wait_for(lambda: not runner.breaker_open)
        _wait_for(lambda: app.projector.pending() == 0)
        # Healthy again: a write is in the graph as soon as it returns.
        _took, made = _timed_create(app, plan_id, "after recovery")
        assert made in _in_graph(app, plan_id)
        assert app.projector.pending() == 0
        assert app.services.graph_maintenance.check().in_sync
    finally:
        app.graph._graph = real
        runner.stop()


def test_without_a_loop_a_write_retries_once_the_retry_interval_passed(app: Application) -> None:
    plan_id, _ = _import(app)
    runner = app.projection
    runner.retry_s = 0.3
    real = app.graph._graph
    app.graph._graph = SlowDown(0.0)
    try:
        _timed_create(app, plan_id, "while down")
        assert runner.breaker_open
    finally:
        app.graph._graph = real
    _took, skipped = _timed_create(app, plan_id, "breaker open")
    assert skipped not in _in_graph(app, plan_id)
    time.sleep(0.35)
    _took, made = _timed_create(app, plan_id, "half-open trial")
    assert not runner.breaker_open
    assert {made, skipped} <= _in_graph(app, plan_id)
    assert app.projector.pending() == 0


def test_the_server_lifespan_starts_the_background_loop(app: Application) -> None:
    from starlette.testclient import TestClient

    from adapters.asgi.app import create_asgi_app

    assert not app.projection._loop_running()
    with TestClient(create_asgi_app(app)):
        assert app.projection._loop_running()


# M4: the lease on the checkpoint


def test_catch_up_does_nothing_while_another_process_holds_the_lease(app: Application, second: Application) -> None:
    plan_id, _ = _import(app)
    mark = _checkpoint(app)
    taken, _position, _other = second.projector.lease.try_acquire()
    assert taken
    try:
        _took, made = _timed_create(app, plan_id, "while leased elsewhere")
        assert not app.projection.breaker_open  # someone else projecting is no graph failure
        progress = app.projector.catch_up()
        assert progress.skipped
        assert progress.held_by == second.projector.lease.holder
        assert progress.applied == 0
        assert progress.position == mark
        assert _checkpoint(app) == mark
        assert made not in _in_graph(app, plan_id)
    finally:
        second.projector.lease.release()
    progress = app.projector.catch_up()
    assert not progress.skipped
    assert progress.applied == 1
    assert made in _in_graph(app, plan_id)


def test_rebuild_waits_a_bounded_time_for_the_lease_then_says_who_holds_it(
    app: Application, second: Application
) -> None:
    _import(app)
    assert second.projector.lease.try_acquire()[0]
    try:
        began = time.monotonic()
        with pytest.raises(ProjectionBusy) as busy:
            app.services.graph_maintenance.rebuild(wait_s=0.5)
        assert 0.5 <= time.monotonic() - began < 5
        assert second.projector.lease.holder in str(busy.value)
        assert "busy" in str(busy.value)
    finally:
        second.projector.lease.release()
    # Released while the rebuild waits: it goes ahead.
    assert second.projector.lease.try_acquire()[0]
    threading.Timer(0.3, second.projector.lease.release).start()
    assert app.services.graph_maintenance.rebuild(wait_s=10) == (len(TASKS), len(EDGES))
    assert app.services.graph_maintenance.check().in_sync


def test_a_projector_in_another_process_cannot_interleave_with_a_rebuild(app: Application, second: Application) -> None:
    plan_id, _ = _import(app)
    real = app.graph._graph
    gated = Gated(real)
    app.graph._graph = gated
    counts: list[Any] = []
    rebuild = threading.Thread(target=lambda: counts.append(app.services.graph_maintenance.rebuild()))
    rebuild.start()
    try:
        assert gated.loading.wait(10)
        # The rebuild has read the store and cleared the graph. Another process writes and
        # projects: it must not apply its event to the graph the rebuild is loading, nor move the
        # checkpoint the rebuild is about to set.
        _took, made = _timed_create(second, plan_id, "during the rebuild")
        progress = second.projector.catch_up()
        assert progress.skipped
        assert progress.held_by == app.services.graph_maintenance.lease.holder
    finally:
        gated.release.set()
        rebuild.join(30)
        app.graph._graph = real
    assert counts == [(len(TASKS), len(EDGES))]
    # The rebuild set the checkpoint to where it read the store; the event written during it
    # came after that, and the pass right after the rebuild committed applied it.
    second.projector.catch_up()
    assert _checkpoint(app) == _last(app)
    assert made in _in_graph(app, plan_id)
    assert app.services.graph_maintenance.check().in_sync


def test_concurrent_passes_in_two_processes_apply_every_event_once_in_order(
    app: Application, second: Application
) -> None:
    plan_id, _ = _import(app)
    applied: list[int] = []
    lock = threading.Lock()

    def recording(application: Application) -> None:
        original = application.projector._apply

        def apply(message: Any) -> None:
            with lock:
                applied.append(message.position)
            time.sleep(0.002)
            original(message)

        application.projector._apply = apply  # type: ignore[method-assign]

    recording(app)
    recording(second)
    start = _checkpoint(app)
    for i in range(30):
        (app if i % 2 else second).services.tasks.create(CreateTask(plan_id, f"w{i}", duration_days=1), ADMIN)
    # Writes projected as they went; start over, and let many passes race in both processes.
    with SqlUnitOfWork(app.engine) as uow:
        uow.outbox.save_checkpoint(GRAPH_CONSUMER, start)
        uow.commit()
    applied.clear()
    barrier = threading.Barrier(6)

    def project(application: Application) -> None:
        barrier.wait()
        for _ in range(5):
            application.projector.catch_up()

    threads = [threading.Thread(target=project, args=(a,)) for a in (app, second) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert _checkpoint(app) == _last(app)
    # One holder at a time, each pass continuing from the last one's checkpoint: in order, once.
    assert applied == sorted(applied)
    assert len(applied) == len(set(applied))
    assert app.services.graph_maintenance.check().in_sync


def _expire(app: Application, consumer: str) -> None:
    """Make the lease on ``consumer`` run out (by the store's clock) without touching its holder."""
    with app.engine.begin() as conn:
        conn.execute(
            update(outbox_checkpoints)
            .where(outbox_checkpoints.c.consumer == consumer)
            .values(lease_until=datetime.now(UTC) - timedelta(hours=1))
        )


def test_checkpoint_writes_under_the_lease(app: Application) -> None:
    with SqlUnitOfWork(app.engine) as uow:
        outbox = uow.outbox
        assert outbox.acquire_lease("c", "a", 30)
        assert outbox.acquire_lease("c", "a", 30)  # re-entrant for its holder
        assert not outbox.acquire_lease("c", "b", 30)
        held = outbox.lease_holder("c")
        assert held is not None
        assert held[0] == "a"
        assert timedelta(seconds=20) < held[1] - datetime.now(UTC) < timedelta(seconds=40)
        assert outbox.advance_checkpoint("c", "a", 10, 30)
        assert outbox.advance_checkpoint("c", "a", 4, 30)  # never backwards
        assert outbox.checkpoint("c") == 10
        assert not outbox.advance_checkpoint("c", "b", 20, 30)  # not b's to move
        assert not outbox.reset_checkpoint("c", "b", 0)
        assert outbox.checkpoint("c") == 10
        assert outbox.reset_checkpoint("c", "a", 3)  # a rebuild's explicit reset
        assert outbox.checkpoint("c") == 3
        uow.commit()
    _expire(app, "c")
    with SqlUnitOfWork(app.engine) as uow:
        outbox = uow.outbox
        # An expired lease goes to whoever asks; its old holder can no longer write.
        assert outbox.lease_holder("c") is None
        assert outbox.acquire_lease("c", "b", 30)
        assert not outbox.advance_checkpoint("c", "a", 50, 30)
        assert not outbox.renew_lease("c", "a", 30)
        outbox.release_lease("c", "a")  # not a's: no effect
        assert outbox.lease_holder("c") is not None
        outbox.release_lease("c", "b")
        assert outbox.lease_holder("c") is None
        assert outbox.acquire_lease("c", "a", 30)
        uow.commit()


def test_a_lease_runs_out_after_its_duration_by_the_stores_clock(app: Application) -> None:
    with SqlUnitOfWork(app.engine) as uow:
        assert uow.outbox.acquire_lease("c", "a", 1.0)
        uow.commit()
    with SqlUnitOfWork(app.engine) as uow:
        assert not uow.outbox.acquire_lease("c", "b", 1.0)
        uow.commit()
    time.sleep(1.2)
    with SqlUnitOfWork(app.engine) as uow:
        assert uow.outbox.acquire_lease("c", "b", 1.0)  # expired by the store's clock
        uow.commit()


def test_a_projector_that_lost_its_lease_stops_without_moving_the_checkpoint(
    app: Application, second: Application
) -> None:
    plan_id, _ = _import(app)
    real = app.graph._graph
    app.graph._graph = SlowDown(0.0)
    try:
        for i in range(3):
            app.services.tasks.create(CreateTask(plan_id, f"pending {i}", duration_days=1), ADMIN)
    finally:
        app.graph._graph = real
    mark = _checkpoint(app)

    original = app.projector._apply
    stolen = threading.Event()

    def apply_then_lose_the_lease(message: Any) -> None:
        original(message)
        if not stolen.is_set():
            # The lease expires (a long pause) and the other process takes it.
            _expire(app, GRAPH_CONSUMER)
            with SqlUnitOfWork(app.engine) as uow:
                assert uow.outbox.acquire_lease(GRAPH_CONSUMER, second.projector.lease.holder, 30)
                uow.commit()
            stolen.set()

    app.projector._apply = apply_then_lose_the_lease  # type: ignore[method-assign]
    with pytest.raises(LeaseLost):
        app.projector.catch_up()
    assert _checkpoint(app) == mark
    second.projector.lease.release()


class SlowWrites:
    """The real graph, except that task upserts take ``delay_s`` (and are counted)."""

    def __init__(self, real: Any, delay_s: float) -> None:
        self.real = real
        self.delay_s = delay_s
        self.upserts = 0
        self.writing = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def upsert_task(self, task: Any) -> None:
        self.upserts += 1
        self.writing.set()
        time.sleep(self.delay_s)
        self.real.upsert_task(task)


class NoGraph:
    """A graph that takes every write and holds nothing (usable from any thread)."""

    def upsert_task(self, task: Any) -> None:
        return None

    def plan_graph(self, plan_id: str) -> Any:
        return None


def _short_lease_projector(app: Application, lease_s: float) -> GraphProjector:
    return GraphProjector(lambda: SqlUnitOfWork(app.engine), app.graph, lease_s=lease_s)


def test_a_graph_call_longer_than_the_lease_keeps_it_and_a_later_delete_is_not_undone(
    app: Application, second: Application
) -> None:
    plan_id, ids = _import(app)
    app.projection.kick = lambda: None  # type: ignore[method-assign]
    second.projection.kick = lambda: None  # type: ignore[method-assign]
    app.services.tasks.update(UpdateTask(ids["t0"], {"title": "t0 v2"}), ADMIN)
    projector = _short_lease_projector(app, lease_s=0.5)
    real = app.graph._graph
    slow = SlowWrites(real, delay_s=1.5)  # three times the lease
    app.graph._graph = slow
    outcome: list[Any] = []
    pass_a = threading.Thread(target=lambda: outcome.append(projector.catch_up()))
    pass_a.start()
    try:
        assert slow.writing.wait(10)
        time.sleep(0.8)  # past the lease's first expiry: only the keep-alive holds it
        second.services.tasks.delete(DeleteTask(ids["t0"]), ADMIN)
        progress = second.projector.catch_up()
        assert progress.skipped
        assert progress.held_by == projector.lease.holder
    finally:
        pass_a.join(30)
        app.graph._graph = real
    assert outcome
    assert not isinstance(outcome[0], Exception)
    second.projector.catch_up()
    assert ids["t0"] not in _in_graph(second, plan_id)
    assert second.projector.pending() == 0
    assert second.services.graph_maintenance.check().in_sync


def test_a_projector_stops_before_its_next_write_once_the_keep_alive_finds_the_lease_taken(
    app: Application,
) -> None:
    plan_id, ids = _import(app)
    app.projection.kick = lambda: None  # type: ignore[method-assign]
    for name in ("t0", "t1", "t2"):
        app.services.tasks.update(UpdateTask(ids[name], {"title": f"{name} v2"}), ADMIN)
    mark = _checkpoint(app)
    projector = _short_lease_projector(app, lease_s=0.5)
    real = app.graph._graph
    slow = SlowWrites(real, delay_s=0.8)
    app.graph._graph = slow
    failure: list[BaseException] = []

    def run() -> None:
        try:
            projector.catch_up()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            failure.append(exc)

    pass_a = threading.Thread(target=run)
    pass_a.start()
    try:
        assert slow.writing.wait(10)
        # Another holder takes the lease while the first graph call is in flight (as if it had
        # expired): the keep-alive finds out at its next renewal.
        with app.engine.begin() as conn:
            conn.execute(
                update(outbox_checkpoints)
                .where(outbox_checkpoints.c.consumer == GRAPH_CONSUMER)
                .values(holder="someone else")
            )
    finally:
        pass_a.join(30)
        app.graph._graph = real
    assert len(failure) == 1
    assert isinstance(failure[0], LeaseLost)
    assert slow.upserts == 1  # the later messages were not written
    assert _checkpoint(app) == mark
    with app.engine.begin() as conn:
        conn.execute(update(outbox_checkpoints).values(holder=None, lease_until=None))
    assert plan_id


# The kick's time budget and the graph's timeouts


def test_a_slow_graph_that_does_not_fail_holds_a_write_no_longer_than_the_budget(app: Application) -> None:
    plan_id, _ = _import(app)
    runner = app.projection
    runner.kick_budget_s = 0.3
    runner.retry_s = 60.0
    real = app.graph._graph
    slow = SlowWrites(real, delay_s=1.5)
    app.graph._graph = slow
    try:
        first, made = _timed_create(app, plan_id, "slow 1")
        assert first < 1.0  # the budget, not the graph call
        assert runner.breaker_open
        second_write, _ = _timed_create(app, plan_id, "slow 2")
        assert second_write < 0.3
        # The pass that ran over the budget goes on in the background and closes the breaker.
        _wait_for(lambda: not runner.breaker_open, timeout_s=10)
        assert made in _in_graph(app, plan_id)
    finally:
        app.graph._graph = real


def test_graph_calls_time_out_instead_of_waiting_behind_a_slow_call(app: Application) -> None:
    plan_id, ids = _import(app)
    task = next(t for t in app.graph.plan_graph(plan_id).tasks if t.task_id == ids["t0"])
    slow = SlowWrites(NoGraph(), delay_s=1.5)
    graph = ThreadConfinedGraph(slow, read_timeout_s=0.2, write_timeout_s=0.3)
    timed_out: list[bool] = []

    def write() -> None:
        try:
            graph.upsert_task(task)
        except TimeoutError:
            timed_out.append(True)

    try:
        writer = threading.Thread(target=write)
        began = time.monotonic()
        writer.start()
        assert slow.writing.wait(5)
        with pytest.raises(TimeoutError):
            graph.plan_graph(plan_id)
        with pytest.raises(TimeoutError):
            graph.upsert_task(task)  # queued behind the slow one: cancelled, never runs
        writer.join(5)
        assert timed_out == [True]
        assert time.monotonic() - began < 1.2
        time.sleep(1.6)
        assert slow.upserts == 1
    finally:
        graph._thread.shutdown(wait=True)


def test_a_projection_timeout_keeps_the_lease_until_it_expires(app: Application, second: Application) -> None:
    plan_id, ids = _import(app)
    app.projection.kick = lambda: None  # type: ignore[method-assign]
    app.services.tasks.update(UpdateTask(ids["t0"], {"title": "t0 v2"}), ADMIN)
    slow = SlowWrites(NoGraph(), delay_s=1.0)
    graph = ThreadConfinedGraph(slow, write_timeout_s=0.2)
    projector = GraphProjector(lambda: SqlUnitOfWork(app.engine), graph, lease_s=1.5)
    try:
        with pytest.raises(TimeoutError):
            projector.catch_up()
        # The call it gave up on still runs: nobody else may apply later events meanwhile.
        assert second.projector.catch_up().held_by == projector.lease.holder
        time.sleep(1.7)
        assert not second.projector.catch_up().skipped
    finally:
        graph._thread.shutdown(wait=True)
    assert plan_id


def test_only_units_of_work_that_wrote_events_kick_the_projection(app: Application) -> None:
    plan_id, _ = _import(app)
    kicks: list[int] = []
    with SqlUnitOfWork(app.engine, on_commit=lambda: kicks.append(1)) as uow:
        uow.outbox.checkpoint(GRAPH_CONSUMER)
        uow.commit()
    assert kicks == []
    app.projection.kick = lambda: kicks.append(1)  # type: ignore[method-assign]
    app.services.tasks.create(CreateTask(plan_id, "one event", duration_days=1), ADMIN)
    assert kicks == [1]
