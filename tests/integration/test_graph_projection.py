"""The outbox projector on both stores: order, batching, idempotence, an unreachable graph, healing, rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import GRAPH_PROJECTION_LOCK, Application, bootstrap
from adapters.config import Settings
from adapters.graph import open_graph
from adapters.graph.confined import ThreadConfinedGraph
from adapters.locks import process_lock
from adapters.sql import SqlUnitOfWork
from planning.commands import AddDependency, CreateTask, DeletePlan, DeleteTask, RemoveDependency, UpdateTask
from planning.graph_projection import graph_edge, graph_task
from planning.ports.graph import DependencyGraph
from planning.principal import Principal
from planning.services.projection import GRAPH_CONSUMER, GraphProjector
from resolvers.ids import to_global_id
from tests.graph_doubles import SwitchableGraph
from tests.graphql_client import GraphQL, operation
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("t", frozenset({"admin"}))
PLANS = operation("plans.graphql")
GRAPH = operation("graph.graphql")

TASKS = [RefTask(f"t{i}", 1 + i % 4) for i in range(6)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 1), ("t0", "t3", 0), ("t3", "t4", 0), ("t2", "t5", 0), ("t4", "t5", 2)]


@pytest.fixture
def switchable(settings: Settings) -> Iterator[tuple[Application, SwitchableGraph]]:
    """An Application whose graph connection is a SwitchableGraph the test can take down."""
    doubles: list[SwitchableGraph] = []

    def wrap(real: DependencyGraph) -> SwitchableGraph:
        doubles.append(SwitchableGraph(real))
        return doubles[-1]

    application = bootstrap(settings, wrap_graph=wrap)
    (double,) = doubles
    try:
        yield application, double
    finally:
        double.down = False
        application.close()


def _api(app: Application) -> GraphQL:
    # No `with`: the lifespan would start the periodic projection and close the app on exit.
    return GraphQL(TestClient(create_asgi_app(app), raise_server_exceptions=False))


def _unavailable(answer: dict[str, Any]) -> None:
    """A clean top-level error that says "retry": code UNAVAILABLE, no internal fault."""
    errors = answer.get("errors") or []
    assert errors, answer
    assert all("Internal error" not in e["message"] for e in errors), answer
    assert [e.get("extensions", {}).get("code") for e in errors] == ["UNAVAILABLE"] * len(errors), answer


def _uow(app: Application) -> SqlUnitOfWork:
    return SqlUnitOfWork(app.engine)


def _checkpoint(app: Application) -> int:
    with _uow(app) as uow:
        return uow.outbox.checkpoint(GRAPH_CONSUMER)


def _last(app: Application) -> int:
    with _uow(app) as uow:
        return uow.outbox.last_position()


def _in_graph(app: Application, plan_id: str) -> set[str]:
    return {t.task_id for t in app.graph.plan_graph(plan_id).tasks}


def _expected(app: Application, plan_id: str) -> tuple[set, set]:
    tasks = {graph_task(t) for t in app.services.tasks.for_plan(ADMIN, plan_id)}
    edges = {graph_edge(d) for d in app.services.dependencies.for_plans(ADMIN, [plan_id])}
    return tasks, edges


def _actual(graph: Any, plan_id: str) -> tuple[set, set]:
    found = graph.plan_graph(plan_id)
    assert len(set(found.tasks)) == len(found.tasks)
    assert len(set(found.edges)) == len(found.edges)
    return set(found.tasks), set(found.edges)


def _import(app: Application, name: str = "Projected") -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document(name, TASKS, EDGES), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)}


def _churn(app: Application, plan_id: str, ids: dict[str, str]) -> None:
    """Changes whose result depends on the order they are applied in."""
    tasks = app.services.tasks
    for days in (2.0, 7.0, 3.0):
        tasks.update(UpdateTask(ids["t1"], {"duration_days": days, "estimate": None}), ADMIN)
    extra = tasks.create(CreateTask(plan_id, "late", duration_days=4, depends_on=(ids["t5"],)), ADMIN)
    dep = app.services.dependencies.add(AddDependency(ids["t0"], ids["t4"], lag_days=1), ADMIN)
    app.services.dependencies.remove(RemoveDependency(dep.id), ADMIN)
    app.services.dependencies.add(AddDependency(ids["t1"], ids["t4"], lag_days=2), ADMIN)
    tasks.delete(DeleteTask(ids["t3"]), ADMIN)
    tasks.update(UpdateTask(extra.id, {"percent_complete": 50}), ADMIN)


def test_writes_are_projected_in_order_and_catch_up_is_idempotent(app: Application) -> None:
    plan_id, ids = _import(app)
    _churn(app, plan_id, ids)
    assert app.projector.pending() == 0
    assert _checkpoint(app) == _last(app)
    assert _actual(app.graph, plan_id) == _expected(app, plan_id)
    t1 = next(t for t in app.graph.plan_graph(plan_id).tasks if t.task_id == ids["t1"])
    assert t1.most_likely_days == 3.0
    assert ids["t3"] not in {t.task_id for t in app.graph.plan_graph(plan_id).tasks}
    before = _actual(app.graph, plan_id)
    again = app.projector.catch_up()
    assert again.applied == 0
    assert again.position == _last(app)
    assert _actual(app.graph, plan_id) == before
    assert app.services.graph_maintenance.check().in_sync


@pytest.mark.parametrize("batch_size", [1, 4, 500])
def test_the_same_outbox_applied_twice_to_a_fresh_graph(app: Application, tmp_path: Path, batch_size: int) -> None:
    plan_id, ids = _import(app)
    _churn(app, plan_id, ids)
    expected = _expected(app, plan_id)
    handle = open_graph(f"gremlite:{tmp_path}/fresh.db")
    fresh = ThreadConfinedGraph(handle.graph, close=handle.close)
    try:
        # The checkpoint it moves is the graph consumer's: it takes the projection's lock.
        lock = process_lock(app.engine, GRAPH_PROJECTION_LOCK)
        projector = GraphProjector(lambda: SqlUnitOfWork(app.engine), fresh, lock, batch_size=batch_size)
        last = _last(app)
        for _ in range(2):
            with _uow(app) as uow:
                uow.outbox.save_checkpoint(GRAPH_CONSUMER, 0)
                uow.commit()
            progress = projector.catch_up()
            assert progress.position == last
            assert progress.applied > 0
            assert _actual(fresh, plan_id) == expected
        assert projector.catch_up().applied == 0
    finally:
        fresh.close()


def test_writes_succeed_while_the_graph_is_down_and_the_projection_catches_up(
    switchable: tuple[Application, SwitchableGraph],
) -> None:
    app, graph = switchable
    plan_id, ids = _import(app)
    assert app.projector.pending() == 0
    mark = _checkpoint(app)
    graph.down = True
    # Service writes and API writes both commit; only the projection falls behind.
    made = app.services.tasks.create(CreateTask(plan_id, "while down", duration_days=2), ADMIN)
    app.services.dependencies.add(AddDependency(ids["t5"], made.id), ADMIN)
    app.services.tasks.update(UpdateTask(ids["t0"], {"percent_complete": 30}), ADMIN)
    gql = _api(app)
    data = gql(
        PLANS,
        {"input": {"planId": to_global_id("Plan", plan_id), "title": "api while down", "durationDays": 1}},
        "CreateTask",
    )
    assert data["createTask"]["userErrors"] == []
    # A graph question cannot be answered from a graph that is behind: a clean top-level
    # error saying "retry" (UNAVAILABLE), not a stale answer and not a 5xx.
    _unavailable(gql.raw(GRAPH, {"planId": to_global_id("Plan", plan_id)}, "CriticalPath"))
    assert graph.calls > 0
    assert _checkpoint(app) == mark
    assert app.projector.pending() > 0
    with pytest.raises(ConnectionError):
        app.projector.catch_up()
    assert _checkpoint(app) == mark
    assert len(app.services.tasks.for_plan(ADMIN, plan_id)) == len(TASKS) + 2
    graph.down = False
    drift = app.services.graph_maintenance.check()
    assert not drift.in_sync
    assert made.id in drift.missing_tasks
    assert ids["t0"] in drift.changed_tasks
    assert drift.missing_edges
    assert drift.pending_events == app.projector.pending() > 0
    progress = app.projector.catch_up()
    assert progress.applied > 0
    assert not progress.busy
    assert progress.position == _last(app)
    drift = app.services.graph_maintenance.check()
    assert drift.in_sync, drift
    assert drift.pending_events == 0
    assert _actual(app.graph, plan_id) == _expected(app, plan_id)
    # Caught up, the same question is answered, and from the graph as it is now.
    path = gql(GRAPH, {"planId": to_global_id("Plan", plan_id)}, "CriticalPath")["plan"]["criticalPath"]
    assert path["tasks"]


def test_a_failure_in_the_middle_of_a_batch_keeps_the_progress_before_it(
    switchable: tuple[Application, SwitchableGraph],
) -> None:
    app, graph = switchable
    plan_id, _ids = _import(app)
    start = _checkpoint(app)
    graph.down = True
    # One batch of five runs, each one graph call: [q0, q1] upserted, q0 removed, [q2]
    # upserted, q1 removed, [q3] upserted.
    q0 = app.services.tasks.create(CreateTask(plan_id, "q0", duration_days=1), ADMIN)
    q1 = app.services.tasks.create(CreateTask(plan_id, "q1", duration_days=1), ADMIN)
    app.services.tasks.delete(DeleteTask(q0.id), ADMIN)
    q2 = app.services.tasks.create(CreateTask(plan_id, "q2", duration_days=1), ADMIN)
    app.services.tasks.delete(DeleteTask(q1.id), ADMIN)
    q3 = app.services.tasks.create(CreateTask(plan_id, "q3", duration_days=1), ADMIN)
    with _uow(app) as uow:
        queued = uow.outbox.read_after(start, 100)
    assert [m.event.entity_id for m in queued] == [q0.id, q1.id, q0.id, q2.id, q1.id, q3.id]
    assert _checkpoint(app) == start
    graph.down = False
    graph.writes_allowed = 2  # the third graph call of the pass fails
    with pytest.raises(ConnectionError):
        app.projector.catch_up()
    # The checkpoint moved past the two runs the graph took, and no further.
    assert _checkpoint(app) == queued[2].position
    assert app.projector.pending() == _last(app) - queued[2].position
    in_graph = {t.task_id for t in app.graph.plan_graph(plan_id).tasks}
    assert q1.id in in_graph
    assert not {q0.id, q2.id, q3.id} & in_graph
    graph.writes_allowed = None
    progress = app.projector.catch_up()
    assert progress.applied == 3
    assert progress.position == _last(app)
    assert {q2.id, q3.id} <= _in_graph(app, plan_id)
    assert q1.id not in _in_graph(app, plan_id)
    assert app.services.graph_maintenance.check().in_sync


def test_runs_of_upserts_are_written_in_batches(switchable: tuple[Application, SwitchableGraph]) -> None:
    """An imported plan is one run of task upserts and one of edge upserts: two graph calls."""
    app, graph = switchable
    plan_id, _ids = _import(app)
    tasks, edges = _expected(app, plan_id)
    assert [(name, set(ids)) for name, ids in graph.history] == [
        ("upsert_tasks", {t.task_id for t in tasks}),
        ("upsert_dependencies", {e.dependency_id for e in edges}),
    ]
    assert app.projector.pending() == 0
    assert _actual(app.graph, plan_id) == _expected(app, plan_id)


def test_runs_of_removals_are_written_in_batches(switchable: tuple[Application, SwitchableGraph]) -> None:
    """Removals queued while the graph was away: one call per run of task or edge removals."""
    app, graph = switchable
    plan_id, ids = _import(app)
    deps = app.services.dependencies.for_plans(ADMIN, [plan_id])
    keep = {ids["t0"], ids["t1"], ids["t2"]}
    graph.history.clear()
    graph.down = True
    # the dependencies first, so that deleting the tasks removes no dependency with them
    for dep in deps:
        app.services.dependencies.remove(RemoveDependency(dep.id), ADMIN)
    for title in ("t3", "t4", "t5"):
        app.services.tasks.delete(DeleteTask(ids[title]), ADMIN)
    graph.down = False
    app.projector.catch_up()
    assert [(name, set(found)) for name, found in graph.history] == [
        ("remove_dependencies", {d.id for d in deps}),
        ("remove_tasks", {ids["t3"], ids["t4"], ids["t5"]}),
    ]
    assert _actual(app.graph, plan_id) == _expected(app, plan_id)
    assert {t.task_id for t in _expected(app, plan_id)[0]} == keep
    assert _expected(app, plan_id)[1] == set()


def test_deleting_a_plan_removes_its_graph_and_only_its_graph(
    switchable: tuple[Application, SwitchableGraph],
) -> None:
    app, graph = switchable
    plan_id, _ids = _import(app)
    other_id, _ = _import(app, "Other")
    kept = _actual(app.graph, other_id)
    graph.history.clear()
    app.services.plans.delete(DeletePlan(plan_id), ADMIN)
    assert ("remove_plan", (plan_id,)) in graph.history
    assert app.projector.pending() == 0
    assert app.graph.plan_graph(plan_id).tasks == ()
    assert app.graph.plan_graph(plan_id).edges == ()
    assert plan_id not in app.graph.plan_ids()
    assert _actual(app.graph, other_id) == kept
    assert app.services.graph_maintenance.check().in_sync


def _graph_file(app: Application) -> Path:
    return Path(app.settings.graph_url.removeprefix("gremlite:"))


def test_a_lost_graph_file_heals_on_new_dependency_events_then_rebuilds(app: Application, settings) -> None:
    plan_id, ids = _import(app)
    high = _checkpoint(app)
    assert high == _last(app) > 0
    path = _graph_file(app)
    app.close()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    second = bootstrap(settings)
    try:
        assert second.graph.plan_graph(plan_id).tasks == ()
        assert _checkpoint(second) == high
        dep = second.services.dependencies.add(AddDependency(ids["t0"], ids["t5"], lag_days=1), ADMIN)
        # The projection did not block on the missing vertices: it healed them from the store.
        assert second.projector.pending() == 0
        tasks, edges = _actual(second.graph, plan_id)
        expected_tasks, expected_edges = _expected(second, plan_id)
        assert {t.task_id for t in tasks} == {ids["t0"], ids["t5"]}
        assert tasks <= expected_tasks
        assert {e.dependency_id for e in edges} == {dep.id}
        assert edges <= expected_edges
        # A later task change and a dependency between an old and a new task project too.
        made = second.services.tasks.create(CreateTask(plan_id, "after loss", duration_days=1), ADMIN)
        second.services.dependencies.add(AddDependency(ids["t2"], made.id), ADMIN)
        assert second.projector.pending() == 0
        drift = second.services.graph_maintenance.check()
        assert not drift.in_sync
        assert set(drift.missing_tasks) == {ids[k] for k in ("t1", "t3", "t4")}
        assert not drift.extra_tasks
        assert not drift.changed_tasks
        assert len(drift.missing_edges) == len(EDGES)
        counts = second.services.graph_maintenance.rebuild()
        assert counts == (len(TASKS) + 1, len(EDGES) + 2)
        drift = second.services.graph_maintenance.check()
        assert drift.in_sync, drift
        assert drift.pending_events == 0
        assert _actual(second.graph, plan_id) == _expected(second, plan_id)
    finally:
        second.close()


def test_rebuild_replaces_a_drifted_graph(app: Application) -> None:
    plan_id, ids = _import(app)
    other_id, _ = _import(app, "Other")
    # Drift of every kind: a stray vertex, a changed vertex, a lost vertex and edge.
    from planning.ports.graph import GraphTask

    app.graph.upsert_task(GraphTask("ghost", plan_id, "NOT_STARTED", 0, 1.0, 1.0, 1.0))
    changed = next(t for t in app.graph.plan_graph(plan_id).tasks if t.task_id == ids["t2"])
    app.graph.upsert_task(GraphTask(changed.task_id, plan_id, "COMPLETED", 100, 9.0, 9.0, 9.0))
    app.graph.remove_task(ids["t4"])
    drift = app.services.graph_maintenance.check()
    assert drift.extra_tasks == ("ghost",)
    assert drift.changed_tasks == (ids["t2"],)
    assert drift.missing_tasks == (ids["t4"],)
    assert len(drift.missing_edges) == 2
    assert drift.checked_plans == 2
    assert app.services.graph_maintenance.rebuild() == (2 * len(TASKS), 2 * len(EDGES))
    assert app.services.graph_maintenance.check().in_sync
    for pid in (plan_id, other_id):
        assert _actual(app.graph, pid) == _expected(app, pid)
    assert app.projector.pending() == 0


def test_event_impact_while_the_graph_is_behind_answers_unavailable(
    switchable: tuple[Application, SwitchableGraph],
) -> None:
    """An event naming a task the graph has not seen yet (the projection is behind).

    The graph lagging only delays answers: the impact says the graph is not ready (UNAVAILABLE,
    so the client retries), never fails as a fault ("Internal error") nor answers from the old
    graph; once the projection caught up, it is answered.
    """
    from planning.commands import IngestExternalEvent
    from planning.model import Severity

    app, graph = switchable
    plan_id, ids = _import(app)
    graph.down = True
    made = app.services.tasks.create(CreateTask(plan_id, "while down", duration_days=2), ADMIN)
    event = app.services.external_events.ingest(
        IngestExternalEvent(
            plan_id, "supplier_delay", Severity.HIGH, "late", delay_days=2, affected_task_ids=(made.id, ids["t1"])
        ),
        ADMIN,
    )
    assert app.projector.pending() > 0
    gql = _api(app)
    _unavailable(gql.raw(GRAPH, {"id": to_global_id("ExternalEvent", event.id)}, "EventImpact"))
    # Once caught up, the impact is answered.
    graph.down = False
    assert app.projector.catch_up().position == _last(app)
    impact = gql(GRAPH, {"id": to_global_id("ExternalEvent", event.id)}, "EventImpact")["node"]["impact"]
    assert impact["affectedTaskCount"] == 2
