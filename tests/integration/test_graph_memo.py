"""A plan's graph and schedule are read once per change of the plan, not once per request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from planning.commands import UpdateTask
from planning.ports.graph import DependencyGraph, PlanGraph
from planning.ports.scheduling import Delay
from planning.principal import Principal
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("t", frozenset({"admin"}))
TASKS = [RefTask(f"t{i}", 1 + i % 3) for i in range(4)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 0), ("t0", "t3", 0)]


class CountingGraph:
    """The real graph; counts the plan reads that reach it."""

    def __init__(self, real: DependencyGraph) -> None:
        self.real = real
        self.plan_reads = 0

    def plan_graph(self, plan_id: str) -> PlanGraph:
        self.plan_reads += 1
        return self.real.plan_graph(plan_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def counted(settings: Settings) -> Iterator[tuple[Application, CountingGraph]]:
    doubles: list[CountingGraph] = []

    def wrap(real: DependencyGraph) -> CountingGraph:
        doubles.append(CountingGraph(real))
        return doubles[-1]

    application = bootstrap(settings, wrap_graph=wrap)
    yield application, doubles[0]
    application.close()


def _import(app: Application) -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document("Memo", TASKS, EDGES), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)}


def test_an_unchanged_plan_is_read_from_the_graph_once(counted: tuple[Application, CountingGraph]) -> None:
    app, graph = counted
    plan_id, _ = _import(app)
    first = app.services.graph.plan_graph(ADMIN, plan_id)
    again = app.services.graph.plan_graph(ADMIN, plan_id)
    assert graph.plan_reads == 1
    assert again is first
    assert {t.task_id for t in first.tasks} == {t.task_id for t in again.tasks}


def test_a_change_of_the_plan_is_read_afresh(counted: tuple[Application, CountingGraph]) -> None:
    app, graph = counted
    plan_id, ids = _import(app)
    before = app.services.graph.plan_graph(ADMIN, plan_id)
    app.services.tasks.update(UpdateTask(ids["t3"], {"percent_complete": 40}), ADMIN)
    after = app.services.graph.plan_graph(ADMIN, plan_id)
    assert graph.plan_reads == 2
    assert {t.task_id: t.percent_complete for t in after.tasks}[ids["t3"]] == 40
    assert {t.task_id: t.percent_complete for t in before.tasks}[ids["t3"]] == 0


def test_a_change_of_another_plan_keeps_what_was_read(counted: tuple[Application, CountingGraph]) -> None:
    app, graph = counted
    plan_id, _ = _import(app)
    _other, other_ids = _import(app)
    app.services.graph.plan_graph(ADMIN, plan_id)
    app.services.tasks.update(UpdateTask(other_ids["t3"], {"percent_complete": 40}), ADMIN)
    app.services.graph.plan_graph(ADMIN, plan_id)
    assert graph.plan_reads == 1


def test_a_rebuild_forgets_what_was_read_before_it(counted: tuple[Application, CountingGraph]) -> None:
    app, graph = counted
    plan_id, _ = _import(app)
    app.services.graph.plan_graph(ADMIN, plan_id)
    app.services.graph_maintenance.rebuild()
    app.services.graph.plan_graph(ADMIN, plan_id)
    assert graph.plan_reads == 2


def test_a_rebuild_in_another_process_forgets_what_this_one_read(
    counted: tuple[Application, CountingGraph], settings: Settings
) -> None:
    app, graph = counted
    plan_id, _ = _import(app)
    app.services.graph.plan_graph(ADMIN, plan_id)
    other = bootstrap(settings)
    try:
        other.services.graph_maintenance.rebuild()
    finally:
        other.close()
    app.services.graph.plan_graph(ADMIN, plan_id)
    assert graph.plan_reads == 2


def test_a_schedule_of_an_unchanged_plan_is_computed_once(counted: tuple[Application, CountingGraph]) -> None:
    app, _ = counted
    plan_id, ids = _import(app)
    (plan,) = app.services.plans.get_many(ADMIN, [plan_id])
    assert plan is not None
    graph = app.services.graph.plan_graph(ADMIN, plan_id)
    first = app.services.graph.schedule(plan, graph)
    assert app.services.graph.schedule(plan, graph) is first
    # Other delays are another question.
    delayed = app.services.graph.schedule(plan, graph, (Delay((ids["t0"],), 5.0),))
    assert delayed is not first
    assert delayed.duration_days == first.duration_days + 5


def test_without_a_memo_every_request_reads_the_graph(settings: Settings) -> None:
    doubles: list[CountingGraph] = []

    def wrap(real: DependencyGraph) -> CountingGraph:
        doubles.append(CountingGraph(real))
        return doubles[-1]

    app = bootstrap(replace(settings, graph_memo_size=0), wrap_graph=wrap)
    try:
        plan_id, _ = _import(app)
        app.services.graph.plan_graph(ADMIN, plan_id)
        app.services.graph.plan_graph(ADMIN, plan_id)
        assert doubles[0].plan_reads == 2
    finally:
        app.close()
