"""Every traversal of GremlinDependencyGraph against a real gremlite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_factories import RawCounts, edge, task

from adapters.graph import GremlinDependencyGraph, MissingEndpointError, open_graph
from planning.ports.graph import PlanGraph


def test_upsert_task_twice_is_once(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    t = task("a")
    graph.upsert_task(t)
    graph.upsert_task(t)
    assert raw.vertices() == 1
    assert graph.plan_graph("p1") == PlanGraph(tasks=(t,), edges=())


def test_upsert_task_replaces_every_property(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.upsert_task(task("a"))
    changed = task(
        "a",
        plan_id="p1",
        status="DONE",
        percent_complete=100,
        optimistic_days=None,
        most_likely_days=3,
        pessimistic_days=None,
    )
    graph.upsert_task(changed)
    assert raw.vertices() == 1
    (read,) = graph.plan_graph("p1").tasks
    assert read == changed
    assert read.most_likely_days == 3.0
    assert isinstance(read.most_likely_days, float)
    assert read.optimistic_days is None
    assert read.pessimistic_days is None
    # a duration that comes back after having been dropped
    graph.upsert_task(task("a", optimistic_days=0.5))
    assert graph.plan_graph("p1").tasks[0].optimistic_days == 0.5


def test_task_moved_to_another_plan_leaves_the_first(graph: GremlinDependencyGraph) -> None:
    graph.upsert_task(task("a", "p1"))
    graph.upsert_task(task("a", "p2"))
    assert graph.plan_graph("p1").tasks == ()
    assert [t.task_id for t in graph.plan_graph("p2").tasks] == ["a"]


def test_upsert_dependency_twice_is_once(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.bulk_load([task("a"), task("b")], [])
    graph.upsert_dependency(edge("d1", "a", "b", lag=1.0))
    graph.upsert_dependency(edge("d1", "a", "b", lag=2.5))
    assert raw.edges() == 1
    assert graph.plan_graph("p1").edges == (edge("d1", "a", "b", lag=2.5),)


def test_edge_points_from_successor_to_predecessor(graph: GremlinDependencyGraph, db_path: Path) -> None:
    graph.bulk_load([task("pred"), task("succ")], [edge("d1", "pred", "succ")])
    from gremlin_python.process.anonymous_traversal import traversal
    from gremlite import SQLiteConnection

    con = SQLiteConnection(str(db_path))
    try:
        g = traversal().with_remote(con)
        assert g.V().has("Task", "task_id", "succ").out("depends_on").values("task_id").to_list() == ["pred"]
        assert g.V().has("Task", "task_id", "pred").out("depends_on").to_list() == []
    finally:
        con.close()


def test_upsert_dependency_can_move_its_endpoints(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.bulk_load([task("a"), task("b"), task("c")], [edge("d1", "a", "b")])
    graph.upsert_dependency(edge("d1", "c", "b"))  # new predecessor
    graph.upsert_dependency(edge("d1", "c", "a"))  # new successor
    assert raw.edges() == 1
    assert graph.plan_graph("p1").edges == (edge("d1", "c", "a"),)


def test_dependency_with_missing_vertex_raises(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.upsert_task(task("a"))
    with pytest.raises(MissingEndpointError) as info:
        graph.upsert_dependency(edge("d1", "a", "ghost"))
    assert info.value.missing_task_ids == ("ghost",)
    assert info.value.dependency_ids == ("d1",)
    assert raw.edges() == 0


def test_remove_task_twice_is_fine_and_drops_its_edges(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.bulk_load(
        [task("a"), task("b"), task("c")],
        [edge("d1", "a", "b"), edge("d2", "b", "c"), edge("d3", "a", "c")],
    )
    graph.remove_task("b")
    graph.remove_task("b")
    graph.remove_task("never-existed")
    assert raw.vertices() == 2
    assert raw.edges() == 1
    plan = graph.plan_graph("p1")
    assert [t.task_id for t in plan.tasks] == ["a", "c"]
    assert plan.edges == (edge("d3", "a", "c"),)


def test_remove_dependency_twice_is_fine(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.bulk_load([task("a"), task("b")], [edge("d1", "a", "b"), edge("d2", "b", "a")])
    graph.remove_dependency("d1")
    graph.remove_dependency("d1")
    graph.remove_dependency("nope")
    assert raw.edges() == 1
    assert raw.vertices() == 2
    assert graph.plan_graph("p1").edges == (edge("d2", "b", "a"),)


def test_plan_graph_returns_exactly_one_plan(graph: GremlinDependencyGraph) -> None:
    p1_tasks = [task("a", "p1"), task("b", "p1", status="IN_PROGRESS", percent_complete=40)]
    p2_tasks = [task("x", "p2"), task("y", "p2", optimistic_days=None)]
    p1_edges = [edge("d1", "a", "b", "p1", lag=1.5)]
    p2_edges = [edge("d2", "x", "y", "p2"), edge("d3", "y", "x", "p2", lag=-1.0)]
    graph.bulk_load(p1_tasks + p2_tasks, p1_edges + p2_edges)
    assert graph.plan_graph("p1") == PlanGraph(tasks=tuple(p1_tasks), edges=tuple(p1_edges))
    assert graph.plan_graph("p2") == PlanGraph(tasks=tuple(p2_tasks), edges=tuple(p2_edges))
    assert graph.plan_graph("p3") == PlanGraph(tasks=(), edges=())


def test_plan_ids(graph: GremlinDependencyGraph) -> None:
    assert graph.plan_ids() == []
    graph.bulk_load([task("a", "p2"), task("b", "p1"), task("c", "p2")], [])
    assert graph.plan_ids() == ["p1", "p2"]
    graph.remove_task("b")
    assert graph.plan_ids() == ["p2"]


def test_clear_removes_everything_in_slices(db_path: Path, raw: RawCounts) -> None:
    with open_graph(f"gremlite://{db_path}") as graph:
        graph.clear_batch_size = 3
        graph.bulk_load([task(f"t{i}") for i in range(10)], [edge(f"d{i}", f"t{i}", f"t{i + 1}") for i in range(9)])
        before = graph.round_trips
        graph.clear()
        assert graph.round_trips - before == 4  # 3 + 3 + 3 + 1 vertices
        assert raw.vertices() == 0
        assert raw.edges() == 0
        assert graph.plan_ids() == []
        graph.clear()  # clearing an empty graph is fine
        assert raw.vertices() == 0


def test_bulk_load_batches_and_is_idempotent(db_path: Path, raw: RawCounts) -> None:
    tasks = [task(f"t{i}", percent_complete=i) for i in range(23)]
    edges = [edge(f"d{i}", f"t{i}", f"t{i + 1}", lag=i / 2) for i in range(22)]
    with open_graph(f"gremlite://{db_path}", batch_size=5) as graph:
        graph.bulk_load(tasks, edges)
        # one traversal per batch: ceil(23 / 5) task batches and ceil(22 / 5) edge batches
        assert graph.round_trips == 5 + 5
        graph.bulk_load(tasks, edges)
        assert raw.vertices() == 23
        assert raw.edges() == 22
        assert graph.plan_graph("p1") == PlanGraph(
            tasks=tuple(sorted(tasks, key=lambda t: t.task_id)),
            edges=tuple(sorted(edges, key=lambda e: e.dependency_id)),
        )


def test_bulk_load_last_value_wins_for_repeated_ids(graph: GremlinDependencyGraph, raw: RawCounts) -> None:
    graph.bulk_load(
        [task("a", status="OLD"), task("b"), task("a", status="NEW")],
        [edge("d1", "a", "b", lag=1), edge("d1", "b", "a", lag=2)],
    )
    assert raw.vertices() == 2
    assert raw.edges() == 1
    plan = graph.plan_graph("p1")
    assert plan.tasks[0].status == "NEW"
    assert plan.edges == (edge("d1", "b", "a", lag=2),)


def test_plan_graph_reads_2000_tasks_in_two_round_trips(graph: GremlinDependencyGraph) -> None:
    tasks = [task(f"t{i:04d}", percent_complete=i % 101) for i in range(2000)]
    edges = [edge(f"d{i:04d}", f"t{i:04d}", f"t{i + 1:04d}") for i in range(0, 1999, 2)]  # 1,000 edges
    graph.bulk_load(tasks, edges)
    graph.upsert_task(task("other", "p2"))
    before = graph.round_trips
    plan = graph.plan_graph("p1")
    assert graph.round_trips - before <= 2
    assert plan.tasks == tuple(tasks)
    assert plan.edges == tuple(edges)


def test_data_survives_reopening_the_file(db_path: Path) -> None:
    with open_graph(f"gremlite://{db_path}") as graph:
        graph.bulk_load([task("a"), task("b")], [edge("d1", "a", "b")])
    with open_graph(f"gremlite://{db_path}") as reopened:
        assert len(reopened.plan_graph("p1").tasks) == 2
        assert len(reopened.plan_graph("p1").edges) == 1


def test_relative_gremlite_url_creates_parent_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANNER_GRAPH_URL", "gremlite:.planner/nested/graph.db")
    with open_graph() as graph:
        graph.upsert_task(task("a"))
    assert (tmp_path / ".planner" / "nested" / "graph.db").is_file()
