"""The graph projection under a slow or failing graph, and across processes, on both stores.

Two ``Application`` objects on one database (and graph) stand for a server and a
`planner graph ...` command running at the same time; a child process stands for one that is
killed. Faults come through the graph double that ``bootstrap(wrap_graph=...)`` puts under the
graph connection (tests/graph_doubles.py); a slow graph is a gate the test opens, so "did not
wait" is proven by returning while a graph call is still held, never by a timer.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import GRAPH_PROJECTION_LOCK, Application, bootstrap
from adapters.config import Settings
from adapters.graph.confined import ThreadConfinedGraph
from adapters.locks import AdvisoryLock, process_lock
from adapters.sql import SqlUnitOfWork
from adapters.system import SystemClock, TimeOrderedIds
from planning.commands import CreateTask, DeleteTask
from planning.errors import DomainError, ErrorCode
from planning.events import PlanEvent, PlanEventKind
from planning.ports.graph import DependencyGraph, GraphTask
from planning.ports.locks import ProcessLock
from planning.principal import Principal
from planning.services.base import ServiceDeps
from planning.services.graph_maintenance import GraphMaintenance
from planning.services.projection import GRAPH_CONSUMER, GraphProjector, ProjectionBusy, ProjectionLockLost
from planning.services.tasks import TaskService
from resolvers.ids import to_global_id
from tests.graph_doubles import GatedNoGraph, SwitchableGraph
from tests.graphql_client import GraphQL, operation
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("t", frozenset({"admin"}))
GRAPH = operation("graph.graphql")
TASKS = [RefTask(f"t{i}", 1 + i % 3) for i in range(4)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 0), ("t0", "t3", 0)]
ROOT = Path(__file__).resolve().parents[2]

History = list[tuple[str, tuple[str, ...]]]
MakeApp = Callable[..., tuple[Application, SwitchableGraph]]


@pytest.fixture
def make_app(settings: Settings) -> Iterator[MakeApp]:
    """Applications ("processes") on the test's store and graph, each over a SwitchableGraph.

    ``make_app(settings=..., history=...)``: other settings; a write history shared between
    the doubles. Gates are opened and every Application closed after the test.
    """
    made: list[tuple[Application, SwitchableGraph]] = []

    def make(*, settings: Settings = settings, history: History | None = None) -> tuple[Application, SwitchableGraph]:
        doubles: list[SwitchableGraph] = []

        def wrap(real: DependencyGraph) -> SwitchableGraph:
            doubles.append(SwitchableGraph(real, history=history))
            return doubles[-1]

        application = bootstrap(settings, wrap_graph=wrap)
        made.append((application, doubles[0]))
        return application, doubles[0]

    yield make
    for application, double in reversed(made):
        if double.gate is not None:
            double.gate.set()
        double.down = False
        application.close()


class ObservedLock:
    """A ProcessLock that says when its holder starts asking for it."""

    def __init__(self, real: ProcessLock) -> None:
        self.real = real
        self.asking = threading.Event()

    def acquire(self, wait_s: float = 0.0) -> bool:
        self.asking.set()
        return self.real.acquire(wait_s)

    def still_held(self) -> bool:
        return self.real.still_held()

    def release(self) -> None:
        self.real.release()


def _import(app: Application, name: str = "Projected") -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document(name, TASKS, EDGES), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)}


def _create(app: Application, plan_id: str, title: str, **fields: Any) -> str:
    return app.services.tasks.create(CreateTask(plan_id, title, **{"duration_days": 1, **fields}), ADMIN).id


def _checkpoint(app: Application) -> int:
    with SqlUnitOfWork(app.engine) as uow:
        return uow.outbox.checkpoint(GRAPH_CONSUMER)


def _last(app: Application) -> int:
    with SqlUnitOfWork(app.engine) as uow:
        return uow.outbox.last_position()


def _in_graph(app: Application, plan_id: str) -> set[str]:
    """What the graph holds now, read from the graph connection (not through the freshness check)."""
    return {t.task_id for t in app.graph.plan_graph(plan_id).tasks}


def _wait_for(predicate: Callable[[], Any], timeout_s: float = 20.0) -> None:
    """A bounded poll: the outcome is asserted, never how long it took."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _api(app: Application) -> GraphQL:
    # No `with`: the lifespan would start the periodic projection and close the app on exit.
    return GraphQL(TestClient(create_asgi_app(app), raise_server_exceptions=False))


def _critical_path(plan_id: str) -> tuple[str, dict[str, str]]:
    return GRAPH, {"planId": to_global_id("Plan", plan_id)}


def _unavailable(answer: dict[str, Any]) -> None:
    errors = answer.get("errors") or []
    assert errors, answer
    assert [e.get("extensions", {}).get("code") for e in errors] == ["UNAVAILABLE"] * len(errors), answer


# The circuit breaker


def test_after_a_failed_projection_writes_stop_waiting_for_the_graph(make_app: MakeApp) -> None:
    app, graph = make_app()
    plan_id, _ = _import(app)
    runner = app.projection
    runner.retry_s = 60.0  # no retry inside this test's writes
    runner.kick_budget_s = 60.0  # the first write waits for its pass, however busy the machine
    graph.down = True
    first = _create(app, plan_id, "first while down")
    assert runner.breaker_open  # this write's pass found out the graph is down
    calls = graph.calls
    assert calls > 0
    later = [_create(app, plan_id, f"later {i}") for i in range(5)]
    assert graph.calls == calls  # the later writes did not call the graph, let alone wait for it
    assert app.projector.pending() > 0
    graph.down = False
    assert app.projector.catch_up().position == _last(app)
    assert {first, *later} <= _in_graph(app, plan_id)


def test_the_background_loop_closes_the_breaker_and_read_your_writes_returns(make_app: MakeApp) -> None:
    app, graph = make_app()
    plan_id, _ = _import(app)
    runner = app.projection
    runner.retry_s = 0.05
    runner.interval_s = 0.05
    runner.kick_budget_s = 60.0  # a write that did wait for a pass would wait for the gate below
    graph.down = True
    _create(app, plan_id, "first while down")
    assert runner.breaker_open
    runner.start()
    # The graph answers again, slowly: the loop's retry is held in the graph until the gate opens.
    gate = threading.Event()
    graph.gate = gate
    graph.down = False
    _wait_for(lambda: graph.waiting == 1)
    assert runner.breaker_open
    # Long past retry_s, a write leaves the retry to the loop: it returns while the loop's graph
    # call is still held.
    during = [_create(app, plan_id, f"during the retry {i}") for i in range(3)]
    assert graph.waiting == 1
    gate.set()
    _wait_for(lambda: not runner.breaker_open)
    _wait_for(lambda: app.projector.pending() == 0)
    assert set(during) <= _in_graph(app, plan_id)
    # Healthy again: a write is in the graph as soon as it returns.
    made = _create(app, plan_id, "after recovery")
    assert made in _in_graph(app, plan_id)
    assert app.projector.pending() == 0
    assert app.services.graph_maintenance.check().in_sync


def test_without_a_loop_a_write_retries_once_the_retry_interval_passed(make_app: MakeApp) -> None:
    app, graph = make_app()
    plan_id, _ = _import(app)
    runner = app.projection
    runner.retry_s = 60.0
    runner.kick_budget_s = 60.0
    graph.down = True
    while_down = _create(app, plan_id, "while down")
    assert runner.breaker_open
    graph.down = False
    # The breaker is open and the retry not due: the write does not try the graph.
    skipped = _create(app, plan_id, "breaker open")
    assert runner.breaker_open
    assert skipped not in _in_graph(app, plan_id)
    runner.retry_s = 0.0  # the retry interval has passed
    made = _create(app, plan_id, "half-open trial")
    assert not runner.breaker_open
    assert {while_down, skipped, made} <= _in_graph(app, plan_id)
    assert app.projector.pending() == 0


def test_the_server_lifespan_starts_the_background_loop(make_app: MakeApp) -> None:
    app, _ = make_app()
    # Another process (a `planner` command) whose graph is unreachable commits a change.
    other, other_graph = make_app()
    plan_id, _ = _import(app)
    other_graph.down = True
    made = _create(other, plan_id, "from another process")
    assert other.projection.breaker_open
    assert made not in _in_graph(app, plan_id)
    app.projection.interval_s = 0.05
    with TestClient(create_asgi_app(app)):
        # Nobody writes or asks a graph question here: only the server's loop brings it in.
        _wait_for(lambda: app.projector.pending() == 0)
        assert made in _in_graph(app, plan_id)


# A slow graph: the kick's time budget and the graph connection's timeouts


def test_a_slow_graph_holds_a_write_no_longer_than_the_budget(make_app: MakeApp) -> None:
    app, graph = make_app()
    plan_id, _ = _import(app)
    runner = app.projection
    runner.kick_budget_s = 0.2
    mark = _checkpoint(app)
    gate = threading.Event()
    graph.gate = gate
    first = _create(app, plan_id, "slow 1")
    # The write's pass is (now) held in the graph, which the test has not let go: the write
    # returned before the graph call did.
    _wait_for(lambda: graph.waiting == 1)
    second = _create(app, plan_id, "slow 2")  # asks for a pass while one is under way
    assert graph.waiting == 1
    assert not runner.breaker_open  # slow is not failed
    assert _checkpoint(app) == mark
    gate.set()
    # The pass that ran over the budget goes on in the background and takes both writes.
    _wait_for(lambda: app.projector.pending() == 0)
    assert {first, second} <= _in_graph(app, plan_id)
    assert not runner.breaker_open


def test_graph_calls_time_out_instead_of_waiting_behind_a_slow_call() -> None:
    slow = GatedNoGraph()
    graph = ThreadConfinedGraph(slow, read_timeout_s=0.2, write_timeout_s=1.0)  # type: ignore[arg-type]
    task = GraphTask("t", "p", "NOT_STARTED", 0, 1.0, 1.0, 1.0)
    outcome: list[str] = []

    def write() -> None:
        try:
            graph.upsert_task(task)
        except TimeoutError as exc:
            outcome.append(str(exc))

    writer = threading.Thread(target=write)
    try:
        assert graph.plan_ids() == []  # the graph thread is up and idle
        writer.start()
        assert slow.entered.wait(10)
        # Queued behind the slow call: each gives up after its own timeout and never runs.
        with pytest.raises(TimeoutError, match="queued"):
            graph.plan_graph("p")
        graph.write_timeout_s = 0.2
        with pytest.raises(TimeoutError, match="queued"):
            graph.upsert_task(task)
        # The slow call's own caller gives up too; the call itself goes on.
        writer.join(10)
        assert len(outcome) == 1
        assert "still runs" in outcome[0]
    finally:
        slow.gate.set()
        writer.join(10)
    graph.read_timeout_s = None
    assert graph.plan_ids() == []  # runs after everything queued before it
    graph.close()
    assert slow.upserts == 1


def test_only_units_of_work_that_wrote_events_kick_the_projection(app: Application) -> None:
    plan_id, _ = _import(app)
    kicks: list[int] = []

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(app.engine, on_commit=lambda: kicks.append(1))

    with uow() as unit:
        unit.outbox.checkpoint(GRAPH_CONSUMER)
        unit.outbox.advance_checkpoint("another consumer", 1)  # a commit, but no event
        unit.commit()
    with uow() as unit:
        event = PlanEvent(plan_id, PlanEventKind.PLAN_UPDATED, plan_id, SystemClock().now(), {"id": plan_id})
        unit.outbox.append(event)  # rolled back: nothing to project
    assert kicks == []
    tasks = TaskService(ServiceDeps(uow=uow, clock=SystemClock(), ids=TimeOrderedIds()))
    tasks.for_plan(ADMIN, plan_id)
    with pytest.raises(DomainError):
        tasks.create(CreateTask("no such plan", "nowhere", duration_days=1), ADMIN)
    assert kicks == []
    tasks.create(CreateTask(plan_id, "one event", duration_days=1), ADMIN)
    assert kicks == [1]


# Across processes: one holder of the projection lock at a time


def test_concurrent_passes_in_two_processes_apply_every_event_once_in_order(make_app: MakeApp) -> None:
    history: History = []
    app, _ = make_app(history=history)
    second, _ = make_app(history=history)
    for application in (app, second):
        application.projection.kick_budget_s = 60.0  # no pass left running after its write
    plan_id, _ = _import(app)
    start = _checkpoint(app)
    previous: str | None = None
    for i in range(30):
        depends_on = (previous,) if previous is not None and i % 3 == 0 else ()
        previous = _create(app if i % 2 else second, plan_id, f"w{i}", depends_on=depends_on)
    _wait_for(lambda: app.projector.pending() == 0)
    # Writes projected as they went; start over, and let many passes race in both processes.
    with SqlUnitOfWork(app.engine) as uow:
        messages = uow.outbox.read_after(start, 1000)
        uow.outbox.save_checkpoint(GRAPH_CONSUMER, start)
        uow.commit()
    history.clear()
    # Short passes (a few events each, in batches of two), so that passes take turns often.
    projectors = [
        GraphProjector(
            lambda a=a: SqlUnitOfWork(a.engine), a.graph, process_lock(a.engine, GRAPH_PROJECTION_LOCK), batch_size=2
        )
        for a in (app, second)
    ]
    last = _last(app)
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def project(which: int, wait_s: float) -> None:
        projector = projectors[which]
        deadline = time.monotonic() + 60
        try:
            barrier.wait(30)
            while projector.position() < last and time.monotonic() < deadline:
                if projector.catch_up(wait_s=wait_s, until=projector.position() + 3).applied:
                    time.sleep(0.005)  # let the others in: widens the race, asserts nothing
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)

    threads = [
        threading.Thread(target=project, args=(which, wait_s)) for which in (0, 1) for wait_s in (0.0, 0.05, 1.0)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert failures == []
    assert _checkpoint(app) == _last(app)
    # One holder at a time, each pass continuing from the last one's checkpoint: in order, once.
    position_of = {m.event.entity_id: m.position for m in messages}
    applied = [position_of[entity_id] for _name, ids in history for entity_id in ids]
    assert applied == sorted(applied)
    assert len(applied) == len(set(applied))
    assert set(applied) == set(position_of.values())
    assert app.services.graph_maintenance.check().in_sync


def test_a_projector_in_another_process_cannot_interleave_with_a_rebuild(make_app: MakeApp) -> None:
    app, graph = make_app()
    second, _ = make_app()
    second.projection.lock_wait_s = 0.0
    plan_id, _ = _import(app)
    gate = threading.Event()
    graph.gate_calls = frozenset({"bulk_load"})
    graph.gate = gate
    counts: list[tuple[int, int]] = []
    rebuild = threading.Thread(target=lambda: counts.append(app.services.graph_maintenance.rebuild()))
    rebuild.start()
    try:
        assert graph.entered.wait(20)
        # The rebuild has read the store and cleared the graph. Another process writes and
        # projects: it must not apply its event to the graph the rebuild is loading, nor move the
        # checkpoint the rebuild is about to set.
        mark = _checkpoint(second)
        made = _create(second, plan_id, "during the rebuild")
        progress = second.projector.catch_up()
        assert progress.busy
        assert progress.applied == 0
        assert progress.position == mark
        assert _checkpoint(second) == mark
        assert graph.waiting == 1  # the rebuild held the lock throughout
    finally:
        gate.set()
        rebuild.join(30)
    assert counts == [(len(TASKS), len(EDGES))]
    # The rebuild set the checkpoint to where it read the store; the event written during it
    # came after that, and the next pass applies it.
    assert made not in _in_graph(app, plan_id)
    assert second.projector.pending() == 1
    assert second.projector.catch_up().applied == 1
    assert _checkpoint(app) == _last(app)
    assert made in _in_graph(app, plan_id)
    assert app.services.graph_maintenance.check().in_sync


def test_rebuild_waits_a_bounded_time_for_a_projector_then_says_busy(make_app: MakeApp) -> None:
    app, _ = make_app()
    second, second_graph = make_app()
    plan_id, _ = _import(app)
    # Another process is in the middle of a pass, held in a slow graph write.
    gate = threading.Event()
    second_graph.gate = gate
    second.projection.kick_budget_s = 0.0
    _create(second, plan_id, "slow to project")
    _wait_for(lambda: second_graph.waiting == 1)
    counts: list[tuple[int, int]] = []
    rebuild: threading.Thread | None = None
    try:
        with pytest.raises(ProjectionBusy) as busy:
            app.services.graph_maintenance.rebuild(wait_s=0.2)
        assert busy.value.code is ErrorCode.UNAVAILABLE
        assert "busy" in str(busy.value)
        assert second_graph.waiting == 1  # it gave up while the other pass still held the lock
        # A rebuild that waits longer goes ahead once the other pass lets go.
        lock = ObservedLock(process_lock(app.engine, GRAPH_PROJECTION_LOCK))
        maintenance = GraphMaintenance(lambda: SqlUnitOfWork(app.engine), app.graph, lock)
        rebuild = threading.Thread(target=lambda: counts.append(maintenance.rebuild(wait_s=30)))
        rebuild.start()
        assert lock.asking.wait(20)
        assert second_graph.waiting == 1
    finally:
        gate.set()
        if rebuild is not None:
            rebuild.join(60)
    assert counts == [(len(TASKS) + 1, len(EDGES))]
    assert app.services.graph_maintenance.check().in_sync


HOLD_THE_LOCK = """
import os, sys, time
from sqlalchemy import create_engine
from adapters.locks import process_lock
lock = process_lock(create_engine(os.environ["LOCK_TEST_DATABASE_URL"]), sys.argv[1])
if not lock.acquire(30):
    sys.exit("could not take the lock")
print("held", flush=True)
time.sleep(600)
"""


def _read_line(child: subprocess.Popen[str], timeout_s: float) -> str:
    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
    return child.stdout.readline().strip()


def test_a_lock_held_by_a_killed_process_is_free_at_once(app: Application, settings: Settings) -> None:
    plan_id, _ = _import(app)
    app.projection.lock_wait_s = 0.0
    env = {**os.environ, "LOCK_TEST_DATABASE_URL": settings.database_url, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, GRAPH_PROJECTION_LOCK],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    probe = process_lock(app.engine, GRAPH_PROJECTION_LOCK)
    try:
        assert _read_line(child, 60) == "held"
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            assert Path(f"{url.database}.{GRAPH_PROJECTION_LOCK}.lock").exists()
        assert not probe.acquire(0)
        made = _create(app, plan_id, "while another process projects")
        assert app.projector.catch_up().busy
        assert made not in _in_graph(app, plan_id)
        child.kill()  # SIGKILL: no handler, no cleanup, no release
        assert child.wait(20) == -9
        # No term to wait out: the lock went with its holder.
        _wait_for(lambda: probe.acquire(0), timeout_s=10)
        probe.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(20)
    progress = app.projector.catch_up()
    assert not progress.busy
    assert progress.position == _last(app)
    assert made in _in_graph(app, plan_id)


# Graph questions: fresh, or UNAVAILABLE after a bounded wait


def test_a_graph_question_behind_a_held_lock_waits_the_configured_time_then_says_unavailable(
    make_app: MakeApp, settings: Settings
) -> None:
    app, _ = make_app(settings=replace(settings, graph_wait_s=0.5))
    plan_id, ids = _import(app)
    gql = _api(app)
    holder = process_lock(app.engine, GRAPH_PROJECTION_LOCK)  # another process's projector or rebuild
    assert holder.acquire(10)
    answers: list[Any] = []
    try:
        made = _create(app, plan_id, "long tail", duration_days=40, depends_on=(ids["t2"],))
        assert app.projector.pending() == 2  # the task and its dependency: the write's pass found the lock taken
        asker = threading.Thread(target=lambda: answers.append(gql.raw(*_critical_path(plan_id), "CriticalPath")))
        asker.start()
        asker.join(30)
        # Answered while the lock is still held: it waited its 0.5 s, not for the lock.
        assert answers, "the graph question waited for the projection lock"
        assert holder.still_held()
        _unavailable(answers[0])
        assert made not in _in_graph(app, plan_id)
    finally:
        holder.release()
    # Once the lock is free, a question brings the graph up to date itself, and answers fresh.
    fresh: list[Any] = []

    def answered() -> bool:
        answer = gql.raw(*_critical_path(plan_id), "CriticalPath")
        fresh.append(answer)
        return not answer.get("errors")

    _wait_for(answered)
    path = fresh[-1]["data"]["plan"]["criticalPath"]
    assert to_global_id("Task", made) in {t["id"] for t in path["tasks"]}
    assert app.projector.pending() == 0


def test_a_graph_question_reads_its_writes_even_when_the_writes_pass_was_skipped(
    make_app: MakeApp, settings: Settings
) -> None:
    app, _ = make_app(settings=replace(settings, graph_wait_s=30.0))
    other, other_graph = make_app()
    plan_id, ids = _import(app)
    app.projection.lock_wait_s = 0.0  # a write's pass gives up at once when the lock is taken
    gate = threading.Event()
    other_graph.gate_calls = frozenset({"bulk_load"})
    other_graph.gate = gate
    rebuild = threading.Thread(target=other.services.graph_maintenance.rebuild)
    rebuild.start()
    try:
        assert other_graph.entered.wait(20)  # the other process holds the lock, rebuilding
        made = _create(app, plan_id, "long tail", duration_days=40, depends_on=(ids["t2"],))
        assert not app.projection.breaker_open
    finally:
        gate.set()
        rebuild.join(30)
    # The rebuild read the store before the write, and the write's own pass was skipped.
    assert made not in _in_graph(app, plan_id)
    assert app.projector.pending() == 2  # the task and its dependency
    # The next graph question catches the projection up before it reads.
    path = _api(app)(*_critical_path(plan_id), "CriticalPath")["plan"]["criticalPath"]
    assert to_global_id("Task", made) in {t["id"] for t in path["tasks"]}
    assert app.projector.pending() == 0


def test_closing_a_command_that_wrote_projects_its_writes_once_the_lock_is_free(make_app: MakeApp) -> None:
    """A one-off command (an import) whose pass found a server's pass holding the lock.

    It must not exit with its writes left to the server: closing keeps asking for passes until
    the checkpoint reaches the end of the outbox, within the close's bound.
    """
    app, _ = make_app()
    plan_id, ids = _import(app)
    app.projection.lock_wait_s = 0.05
    holder = process_lock(app.engine, GRAPH_PROJECTION_LOCK)  # a server's periodic pass
    assert holder.acquire(10)
    made = _create(app, plan_id, "long tail", duration_days=40, depends_on=(ids["t2"],))
    assert app.projector.pending() == 2  # the write's pass found the lock taken
    releaser = threading.Timer(0.5, holder.release)
    releaser.start()
    try:
        app.projection.stop(finish_s=30.0)
    finally:
        releaser.join()
    assert app.projector.pending() == 0
    assert made in _in_graph(app, plan_id)


def test_closing_a_command_that_only_read_does_not_wait_for_the_projection(make_app: MakeApp) -> None:
    writer, _ = make_app()
    plan_id, _ = _import(writer)
    reader, _ = make_app()
    holder = process_lock(writer.engine, GRAPH_PROJECTION_LOCK)
    assert holder.acquire(10)
    try:
        _create(writer, plan_id, "behind", duration_days=1)
        assert reader.projector.pending() == 1
        reader.services.tasks.for_plan(ADMIN, plan_id)
        # Would block for the whole bound if a reader waited for others' writes.
        assert reader.projection.stop(finish_s=60.0)
        assert reader.projector.pending() == 1
    finally:
        holder.release()


# PostgreSQL: a lock on a session that ends


def _end_advisory_sessions(engine: Engine) -> list[int]:
    """End, from another connection, the sessions of this database that hold advisory locks."""
    with engine.connect() as conn:
        pids = list(
            conn.execute(
                text(
                    "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND pid <> pg_backend_pid()"
                )
            ).scalars()
        )
        for pid in pids:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        conn.commit()

    def gone() -> bool:
        with engine.connect() as conn:
            alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids})
            return alive.scalar() == 0

    _wait_for(gone)
    return pids


class LosesItsSession:
    """An advisory lock whose session is ended by the server right after it was taken."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.real = AdvisoryLock(engine, name)

    def acquire(self, wait_s: float = 0.0) -> bool:
        taken = self.real.acquire(wait_s)
        assert taken
        assert len(_end_advisory_sessions(self.engine)) == 1
        return taken

    def still_held(self) -> bool:
        return self.real.still_held()

    def release(self) -> None:
        self.real.release()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_advisory_lock_whose_session_ends_is_lost_and_the_projector_stops(app: Application) -> None:
    plan_id, _ = _import(app)
    lock = AdvisoryLock(app.engine, GRAPH_PROJECTION_LOCK)
    assert lock.acquire(10)
    assert lock.still_held()
    assert len(_end_advisory_sessions(app.engine)) == 1
    assert not lock.still_held()
    lock.release()  # harmless: the server let the lock go with the session
    probe = AdvisoryLock(app.engine, GRAPH_PROJECTION_LOCK)
    assert probe.acquire(0)
    # Events for a projector to apply: written while the lock is held, so nobody applied them.
    app.projection.lock_wait_s = 0.0
    made = [_create(app, plan_id, f"pending {i}") for i in range(3)]
    probe.release()
    mark = _checkpoint(app)
    assert app.projector.pending() == 3
    # The session ends right after the projector took the lock: it writes nothing to the graph
    # and leaves the checkpoint where it was.
    recorder = SwitchableGraph(app.graph)
    projector = GraphProjector(
        lambda: SqlUnitOfWork(app.engine),
        recorder,
        LosesItsSession(app.engine, GRAPH_PROJECTION_LOCK),
        batch_size=1,
    )
    with pytest.raises(ProjectionLockLost):
        projector.catch_up()
    assert recorder.history == []
    assert _checkpoint(app) == mark
    assert not set(made) & _in_graph(app, plan_id)
    # The session ends during a graph write: the write in flight finishes (the graph takes no
    # fencing token), and the pass stops before its next one.
    gate = threading.Event()
    recorder.gate = gate
    projector = GraphProjector(
        lambda: SqlUnitOfWork(app.engine), recorder, AdvisoryLock(app.engine, GRAPH_PROJECTION_LOCK), batch_size=1
    )
    failures: list[BaseException] = []

    def run() -> None:
        try:
            projector.catch_up()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            failures.append(exc)

    pass_a = threading.Thread(target=run)
    pass_a.start()
    try:
        assert recorder.entered.wait(20)
        assert len(_end_advisory_sessions(app.engine)) == 1
    finally:
        gate.set()
        pass_a.join(30)
    assert [type(f) for f in failures] == [ProjectionLockLost]
    assert recorder.history == [("upsert_tasks", (made[0],))]
    with SqlUnitOfWork(app.engine) as uow:
        (first,) = uow.outbox.read_after(mark, 1)
    assert _checkpoint(app) == first.position
    assert _in_graph(app, plan_id) & set(made) == {made[0]}
    # Nothing is left held: the next pass takes the lock and applies everything.
    progress = app.projector.catch_up()
    assert not progress.busy
    assert progress.position == _last(app)
    assert set(made) <= _in_graph(app, plan_id)
    assert app.services.graph_maintenance.check().in_sync


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lock_lost_during_a_batch_stops_the_pass_before_its_next_graph_write(app: Application) -> None:
    plan_id, _ = _import(app)
    # Three runs in one batch: [a] upserted, a removed, [b] upserted.
    holder = process_lock(app.engine, GRAPH_PROJECTION_LOCK)
    assert holder.acquire(10)
    app.projection.lock_wait_s = 0.0
    a = _create(app, plan_id, "a")
    app.services.tasks.delete(DeleteTask(a), ADMIN)
    _create(app, plan_id, "b")
    holder.release()
    mark = _checkpoint(app)
    recorder = SwitchableGraph(app.graph)
    gate = threading.Event()
    recorder.gate = gate
    projector = GraphProjector(
        lambda: SqlUnitOfWork(app.engine), recorder, AdvisoryLock(app.engine, GRAPH_PROJECTION_LOCK)
    )
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(projector.catch_up())
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    pass_a = threading.Thread(target=run)
    pass_a.start()
    try:
        assert recorder.entered.wait(20)  # the first run's graph write is in flight
        assert len(_end_advisory_sessions(app.engine)) == 1
    finally:
        gate.set()
        pass_a.join(30)
    # The write in flight lands; nothing after it does, and the pass says the lock was lost.
    assert recorder.history == [("upsert_tasks", (a,))]
    assert [type(o) for o in outcome] == [ProjectionLockLost]
    with SqlUnitOfWork(app.engine) as uow:
        (first,) = uow.outbox.read_after(mark, 1)
    assert _checkpoint(app) == first.position
