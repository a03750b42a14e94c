"""Random sequences of writes, applied to gremlite and to an in-memory model, read back alike."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.graph import GremlinDependencyGraph, MissingEndpointError, open_graph
from planning.ports.graph import GraphEdge, GraphTask, PlanGraph

TASK_IDS = ["t1", "t2", "t3", "t4"]
DEP_IDS = ["d1", "d2", "d3"]
PLANS = ["p1", "p2"]

durations = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 3)))

tasks = st.builds(
    GraphTask,
    task_id=st.sampled_from(TASK_IDS),
    plan_id=st.sampled_from(PLANS),
    status=st.sampled_from(["NOT_STARTED", "IN_PROGRESS", "DONE"]),
    percent_complete=st.integers(0, 100),
    optimistic_days=durations,
    most_likely_days=durations,
    pessimistic_days=durations,
)
edges = st.builds(
    GraphEdge,
    dependency_id=st.sampled_from(DEP_IDS),
    plan_id=st.sampled_from(PLANS),
    predecessor_id=st.sampled_from(TASK_IDS),
    successor_id=st.sampled_from(TASK_IDS),
    lag_days=st.floats(min_value=-5, max_value=5, allow_nan=False).map(lambda x: round(x, 2)),
)
ops = st.one_of(
    st.tuples(st.just("upsert_task"), tasks),
    st.tuples(st.just("remove_task"), st.sampled_from(TASK_IDS)),
    st.tuples(st.just("upsert_dependency"), edges),
    st.tuples(st.just("upsert_dependency"), edges),
    st.tuples(st.just("remove_dependency"), st.sampled_from(DEP_IDS)),
    st.tuples(st.just("bulk_load"), st.tuples(st.lists(tasks, max_size=4), st.lists(edges, max_size=3))),
)


@dataclass
class Model:
    tasks: dict[str, GraphTask] = field(default_factory=dict)
    edges: dict[str, GraphEdge] = field(default_factory=dict)

    def upsert_task(self, t: GraphTask) -> None:
        self.tasks[t.task_id] = t

    def remove_task(self, task_id: str) -> None:
        self.tasks.pop(task_id, None)
        self.edges = {k: e for k, e in self.edges.items() if task_id not in (e.predecessor_id, e.successor_id)}

    def upsert_dependency(self, e: GraphEdge) -> bool:
        """False where the adapter must raise MissingEndpointError."""
        old = self.edges.get(e.dependency_id)
        if old and (old.predecessor_id, old.successor_id) != (e.predecessor_id, e.successor_id):
            del self.edges[e.dependency_id]  # a moved edge is dropped before the endpoints are looked up
        if e.predecessor_id not in self.tasks or e.successor_id not in self.tasks:
            return False
        self.edges[e.dependency_id] = e
        return True

    def remove_dependency(self, dep_id: str) -> None:
        self.edges.pop(dep_id, None)

    def plan_graph(self, plan_id: str) -> PlanGraph:
        return PlanGraph(
            tasks=tuple(sorted((t for t in self.tasks.values() if t.plan_id == plan_id), key=lambda t: t.task_id)),
            edges=tuple(
                sorted((e for e in self.edges.values() if e.plan_id == plan_id), key=lambda e: e.dependency_id)
            ),
        )


def _apply_bulk(model: Model, bulk_tasks: list[GraphTask], bulk_edges: list[GraphEdge]) -> bool:
    for t in bulk_tasks:
        model.upsert_task(t)
    # every edge is applied (no short-circuit): the adapter drops all moved edges of a batch first
    results = [model.upsert_dependency(e) for e in {e.dependency_id: e for e in bulk_edges}.values()]
    return all(results)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tasks, min_size=2, max_size=4, unique_by=lambda t: t.task_id), st.lists(ops, max_size=18))
def test_graph_matches_model(initial: list[GraphTask], sequence: list[tuple[str, Any]]) -> None:
    model = Model()
    with tempfile.TemporaryDirectory() as tmp, open_graph(f"gremlite://{Path(tmp) / 'g.db'}") as graph:
        graph.bulk_load(initial, [])
        for t in initial:
            model.upsert_task(t)
        for name, arg in sequence:
            _apply(graph, model, name, arg)
            for plan in PLANS:
                assert graph.plan_graph(plan) == model.plan_graph(plan)
        assert graph.plan_ids() == sorted({t.plan_id for t in model.tasks.values()})


def _apply(graph: GremlinDependencyGraph, model: Model, name: str, arg: Any) -> None:
    """Apply one operation to both, checking the adapter raises where the model says it must."""
    if name == "upsert_task":
        graph.upsert_task(arg)
        model.upsert_task(arg)
    elif name == "remove_task":
        graph.remove_task(arg)
        model.remove_task(arg)
    elif name == "upsert_dependency":
        if model.upsert_dependency(arg):
            graph.upsert_dependency(arg)
        else:
            with pytest.raises(MissingEndpointError):
                graph.upsert_dependency(arg)
    elif name == "remove_dependency":
        graph.remove_dependency(arg)
        model.remove_dependency(arg)
    else:
        bulk_tasks, bulk_edges = arg
        before = dict(model.edges)
        if _apply_bulk(model, bulk_tasks, bulk_edges):
            graph.bulk_load(bulk_tasks, bulk_edges)
        else:
            with pytest.raises(MissingEndpointError):
                graph.bulk_load(bulk_tasks, bulk_edges)
            _resync_edges(model, graph, bulk_edges, before)


def _resync_edges(
    model: Model, graph: GremlinDependencyGraph, bulk_edges: list[GraphEdge], before: dict[str, GraphEdge]
) -> None:
    """A batch that failed part-way: the edges of the batch are either written or as before.

    The edges whose vertices exist are written, those of earlier batches too; the graph tells which.
    """
    batch_ids = {e.dependency_id for e in bulk_edges}
    written = {e.dependency_id: e for p in PLANS for e in graph.plan_graph(p).edges if e.dependency_id in batch_ids}
    for dep_id in batch_ids:
        model.edges.pop(dep_id, None)
    for dep_id, e in written.items():
        assert e in bulk_edges or e == before.get(dep_id)
        assert e.predecessor_id in model.tasks
        assert e.successor_id in model.tasks
        model.edges[dep_id] = e
