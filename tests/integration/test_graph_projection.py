"""The outbox projector on both stores: order, idempotence, an unreachable graph, healing, rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.graph import open_graph
from adapters.graph.confined import ThreadConfinedGraph
from adapters.sql import SqlUnitOfWork
from planning.commands import AddDependency, CreateTask, DeleteTask, RemoveDependency, UpdateTask
from planning.graph_projection import graph_edge, graph_task
from planning.principal import Principal
from planning.services.projection import GRAPH_CONSUMER, GraphProjector
from resolvers.ids import to_global_id
from tests.graphql_client import GraphQL, operation
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("t", frozenset({"admin"}))
PLANS = operation("plans.graphql")
GRAPH = operation("graph.graphql")

TASKS = [RefTask(f"t{i}", 1 + i % 4) for i in range(6)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 1), ("t0", "t3", 0), ("t3", "t4", 0), ("t2", "t5", 0), ("t4", "t5", 2)]


class GraphDown:
    """Stands in for the graph connection: every call fails as a lost connection does."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            self.calls += 1
            raise ConnectionError(f"graph unreachable ({name})")

        return fail


class FailAfter:
    """Passes the first ``allowed`` writes through to the real graph, then fails every call."""

    WRITES = frozenset({"upsert_task", "remove_task", "upsert_dependency", "remove_dependency"})

    def __init__(self, real: Any, allowed: int) -> None:
        self.real = real
        self.allowed = allowed
        self.passed = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.real, name)
        if name not in self.WRITES:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.passed >= self.allowed:
                raise ConnectionError("graph connection lost mid-batch")
            self.passed += 1
            return target(*args, **kwargs)

        return call


def _uow(app: Application) -> SqlUnitOfWork:
    return SqlUnitOfWork(app.engine)


def _checkpoint(app: Application) -> int:
    with _uow(app) as uow:
        return uow.outbox.checkpoint(GRAPH_CONSUMER)


def _last(app: Application) -> int:
    with _uow(app) as uow:
        return uow.outbox.last_position()


def _expected(app: Application, plan_id: str) -> tuple[set, set]:
    tasks = {graph_task(t) for t in app.services.tasks.for_plan(plan_id)}
    edges = {graph_edge(d) for d in app.services.dependencies.for_plans([plan_id])}
    return tasks, edges


def _actual(graph: Any, plan_id: str) -> tuple[set, set]:
    found = graph.plan_graph(plan_id)
    assert len(set(found.tasks)) == len(found.tasks)
    assert len(set(found.edges)) == len(found.edges)
    return set(found.tasks), set(found.edges)


def _import(app: Application, name: str = "Projected") -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document(name, TASKS, EDGES), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(plan.id)}


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
        projector = GraphProjector(lambda: SqlUnitOfWork(app.engine), fresh, batch_size=batch_size)
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


def test_writes_succeed_while_the_graph_is_down_and_the_projection_catches_up(app: Application) -> None:
    plan_id, ids = _import(app)
    assert app.projector.pending() == 0
    mark = _checkpoint(app)
    real = app.graph._graph
    down = GraphDown()
    app.graph._graph = down
    try:
        # Service writes and API writes both commit; only the projection falls behind.
        made = app.services.tasks.create(CreateTask(plan_id, "while down", duration_days=2), ADMIN)
        app.services.dependencies.add(AddDependency(ids["t5"], made.id), ADMIN)
        app.services.tasks.update(UpdateTask(ids["t0"], {"percent_complete": 30}), ADMIN)
        # No `with`: the lifespan would start the periodic projection and close the app on exit.
        gql = GraphQL(TestClient(create_asgi_app(app), raise_server_exceptions=False))
        data = gql(
            PLANS,
            {"input": {"planId": to_global_id("Plan", plan_id), "title": "api while down", "durationDays": 1}},
            "CreateTask",
        )
        assert data["createTask"]["userErrors"] == []
        # Graph questions cannot be answered: a clean top-level error, not a 5xx.
        answer = gql.raw(GRAPH, {"planId": to_global_id("Plan", plan_id)}, "CriticalPath")
        assert answer["errors"]
        assert "Internal error" not in answer["errors"][0]["message"]
        assert down.calls > 0
        assert _checkpoint(app) == mark
        assert app.projector.pending() > 0
        with pytest.raises(ConnectionError):
            app.projector.catch_up()
        assert _checkpoint(app) == mark
        assert len(app.services.tasks.for_plan(plan_id)) == len(TASKS) + 2
    finally:
        app.graph._graph = real
    drift = app.services.graph_maintenance.check()
    assert not drift.in_sync
    assert made.id in drift.missing_tasks
    assert ids["t0"] in drift.changed_tasks
    assert drift.missing_edges
    assert drift.pending_events == app.projector.pending() > 0
    progress = app.projector.catch_up()
    assert progress.applied > 0
    assert progress.position == _last(app)
    drift = app.services.graph_maintenance.check()
    assert drift.in_sync, drift
    assert drift.pending_events == 0
    assert _actual(app.graph, plan_id) == _expected(app, plan_id)


def test_a_failure_in_the_middle_of_a_batch_keeps_the_progress_before_it(app: Application) -> None:
    plan_id, _ids = _import(app)
    real = app.graph._graph
    app.graph._graph = GraphDown()
    try:
        for i in range(5):
            app.services.tasks.create(CreateTask(plan_id, f"queued {i}", duration_days=1), ADMIN)
    finally:
        app.graph._graph = real
    start = _checkpoint(app)
    with _uow(app) as uow:
        queued = uow.outbox.read_after(start, 100)
    assert len(queued) == 5
    flaky = FailAfter(real, allowed=3)
    app.graph._graph = flaky
    try:
        with pytest.raises(ConnectionError):
            app.projector.catch_up()
    finally:
        app.graph._graph = real
    assert _checkpoint(app) == queued[2].position
    assert app.projector.pending() == _last(app) - queued[2].position
    in_graph = {t.task_id for t in app.graph.plan_graph(plan_id).tasks}
    assert {m.event.entity_id for m in queued[:3]} <= in_graph
    assert not {m.event.entity_id for m in queued[3:]} & in_graph
    assert app.projector.catch_up().applied == 2
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


def test_event_impact_while_the_graph_is_behind_is_not_an_internal_error(app: Application) -> None:
    """An event naming a task the graph has not seen yet (the projection is behind).

    The graph lagging must only delay answers: the impact should either leave the unknown task
    out or say the graph is not ready, never fail as a fault ("Internal error").
    """
    from planning.commands import IngestExternalEvent
    from planning.model import Severity

    plan_id, ids = _import(app)
    real = app.graph._graph
    app.graph._graph = GraphDown()
    try:
        made = app.services.tasks.create(CreateTask(plan_id, "while down", duration_days=2), ADMIN)
        event = app.services.external_events.ingest(
            IngestExternalEvent(
                plan_id, "supplier_delay", Severity.HIGH, "late", delay_days=2, affected_task_ids=(made.id, ids["t1"])
            ),
            ADMIN,
        )
    finally:
        app.graph._graph = real
    assert app.projector.pending() > 0
    gql = GraphQL(TestClient(create_asgi_app(app), raise_server_exceptions=False))
    answer = gql.raw(GRAPH, {"id": to_global_id("ExternalEvent", event.id)}, "EventImpact")
    assert all("Internal error" not in e["message"] for e in answer.get("errors") or []), answer
    # Once caught up, the impact is answered.
    app.projector.catch_up()
    impact = gql(GRAPH, {"id": to_global_id("ExternalEvent", event.id)}, "EventImpact")["node"]["impact"]
    assert impact["affectedTaskCount"] == 2
