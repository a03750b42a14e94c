"""Batched graph writes on gremlite: the same graph as one element per traversal, fewer round trips.

A load is not one transaction (see ``GremlinDependencyGraph.bulk_load``): it is retried
idempotently, which the failure tests below show for a batch whose outcome the client never
learnt and for a load that stopped part-way.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graph_factories import edge, task
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.traversal import Direction, T
from gremlite import SQLiteConnection

from adapters.graph import GremlinDependencyGraph, RetryingExecutor, RetryPolicy
from adapters.graph.remotes import GremliteRemote
from planning.ports.graph import GraphEdge, GraphTask

BATCH = 7
#: Two plans, more tasks and edges than one batch holds, absent durations, lags, repeated ids.
TASKS = [
    task(
        f"t{i:02d}",
        "p1" if i % 3 else "p2",
        status=("NOT_STARTED", "IN_PROGRESS", "DONE")[i % 3],
        percent_complete=(i * 7) % 101,
        optimistic_days=None if i % 5 == 0 else float(i),
        most_likely_days=float(i) + 0.5,
        pessimistic_days=None if i % 4 == 0 else float(2 * i + 1),
    )
    for i in range(23)
] + [task("t05", "p1", status="DONE")]  # a repeated id: the last value wins
EDGES = [
    edge(f"d{i:02d}-{j}", f"t{i - j - 1:02d}", f"t{i:02d}", "p1" if i % 3 else "p2", lag=(i % 4) / 2)
    for i in range(3, 23)
    for j in range(2)
] + [edge("d10-0", "t01", "t10", "p1", lag=3.0)]  # a repeated dependency id, moved: last wins
#: What the graph held before the load: stale values, an edge to be moved, one the load leaves.
BEFORE_TASKS = [task("t00", "p2", status="OLD", optimistic_days=9.0), task("t01"), task("t02"), task("t09")]
BEFORE_EDGES = [edge("d10-0", "t02", "t09", lag=5.0), edge("old", "t00", "t01")]


class FailingRemote:
    """A gremlite remote whose ``fail_on``-th commit (counted across reconnects) fails.

    ``after_commit``: the batch is made durable and then the failure is raised, which is what a
    dropped connection looks like when the server committed (the client cannot tell).
    Otherwise the batch is rolled back by the executor, as a server error would leave it.
    """

    def __init__(self, path: Path, commits: list[int], fail_on: int, error: Exception, *, after_commit: bool) -> None:
        self._remote = GremliteRemote(path)
        self._commits = commits
        self._fail_on = fail_on
        self._error = error
        self._after_commit = after_commit

    @property
    def g(self) -> Any:
        return self._remote.g

    def commit(self) -> None:
        self._commits.append(1)
        failing = len(self._commits) == self._fail_on
        if failing and not self._after_commit:
            raise self._error
        self._remote.commit()
        if failing:
            raise self._error

    def rollback(self) -> None:
        self._remote.rollback()

    def close(self) -> None:
        self._remote.close()


def _graph(connect: Callable[[], Any], batch_size: int) -> GremlinDependencyGraph:
    executor = RetryingExecutor(connect, RetryPolicy(max_attempts=3), sleep=lambda _s: None)
    return GremlinDependencyGraph(executor, batch_size=batch_size)


def _gremlite(path: Path, batch_size: int) -> GremlinDependencyGraph:
    return _graph(lambda: GremliteRemote(path), batch_size)


def _load(path: Path, batch_size: int, tasks: list[GraphTask], edges: list[GraphEdge]) -> None:
    graph = _gremlite(path, batch_size)
    try:
        graph.bulk_load(tasks, edges)
    finally:
        graph.close()


def _freeze(row: dict[Any, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(k), v) for k, v in row.items()))


def dump(path: Path) -> tuple[Counter[Any], Counter[Any]]:
    """Every vertex and every edge with every property (edges by their ends' task ids), as
    multisets: read straight from the file, so a duplicate or a stray property shows."""
    con = SQLiteConnection(str(path))
    try:
        g = traversal().with_remote(con)
        vertices = g.V().element_map().to_list()
        task_of = {v[T.id]: v.get("task_id") for v in vertices}
        edges = g.E().element_map().to_list()
    finally:
        con.close()
    vertex_rows = Counter(_freeze({k: v for k, v in row.items() if k is not T.id}) for row in vertices)
    edge_rows = Counter(
        _freeze(
            {
                **{k: v for k, v in row.items() if k not in (T.id, Direction.OUT, Direction.IN)},
                "out": task_of[row[Direction.OUT][T.id]],
                "in": task_of[row[Direction.IN][T.id]],
            }
        )
        for row in edges
    )
    return vertex_rows, edge_rows


@pytest.fixture
def seeded(tmp_path: Path) -> Callable[[str], Path]:
    """A new graph file holding ``BEFORE_*``, written element by element."""

    def make(name: str) -> Path:
        path = tmp_path / f"{name}.db"
        _load(path, 1, BEFORE_TASKS, BEFORE_EDGES)
        return path

    return make


def test_batched_load_writes_exactly_what_one_element_per_traversal_writes(
    seeded: Callable[[str], Path],
) -> None:
    one_by_one, batched = seeded("one_by_one"), seeded("batched")
    _load(one_by_one, 1, TASKS, EDGES)
    _load(batched, BATCH, TASKS, EDGES)

    vertices, edges = dump(batched)
    assert (vertices, edges) == dump(one_by_one)
    assert sum(vertices.values()) == 23  # 23 distinct tasks, none twice
    assert sum(edges.values()) == 40 + 1  # 40 distinct dependencies, and "old" left as it was
    moved = [dict(e) for e in edges if dict(e)["dependency_id"] == "d10-0"]
    assert moved == [
        {"T.label": "depends_on", "dependency_id": "d10-0", "in": "t01", "out": "t10", "lag_days": 3.0, "plan_id": "p1"}
    ]
    stale = [dict(v) for v in vertices if dict(v)["task_id"] == "t00"]
    assert stale[0]["status"] == "NOT_STARTED"
    assert "optimistic_days" not in stale[0]  # an absent duration is dropped, not kept


@pytest.mark.parametrize("batch_size", [1, BATCH, 100])
def test_a_load_takes_one_round_trip_per_batch(tmp_path: Path, batch_size: int) -> None:
    graph = _gremlite(tmp_path / "g.db", batch_size)
    try:
        graph.bulk_load(TASKS, EDGES)
        distinct_tasks, distinct_edges = 23, 40
        assert graph.round_trips == math.ceil(distinct_tasks / batch_size) + math.ceil(distinct_edges / batch_size)
    finally:
        graph.close()


@pytest.mark.parametrize("fail_on", [2, 5, 10])  # a task batch, the first edge batch, the last one
def test_a_batch_whose_outcome_was_lost_is_resubmitted_without_duplicates(
    seeded: Callable[[str], Path], fail_on: int
) -> None:
    reference, path = seeded("reference"), seeded("flaky")
    _load(reference, 1, TASKS, EDGES)
    commits: list[int] = []

    def connect() -> FailingRemote:
        error = ConnectionResetError("connection reset after the server committed")
        return FailingRemote(path, commits, fail_on, error, after_commit=True)

    graph = _graph(connect, BATCH)
    try:
        graph.bulk_load(TASKS, EDGES)
        assert graph.round_trips == math.ceil(23 / BATCH) + math.ceil(40 / BATCH) + 1  # one re-submission
    finally:
        graph.close()
    assert dump(path) == dump(reference)


def test_a_load_that_failed_part_way_is_repaired_by_loading_again(seeded: Callable[[str], Path]) -> None:
    reference, path = seeded("reference"), seeded("broken")
    _load(reference, 1, TASKS, EDGES)
    commits: list[int] = []

    def connect() -> FailingRemote:
        return FailingRemote(path, commits, 6, RuntimeError("the server refused the batch"), after_commit=False)

    graph = _graph(connect, BATCH)
    try:
        with pytest.raises(RuntimeError, match="refused"):
            graph.bulk_load(TASKS, EDGES)
    finally:
        graph.close()
    vertices, edges = dump(path)
    # the 4 task batches and the first edge batch were written, the failing one was rolled back
    assert sum(vertices.values()) == 23
    assert sum(edges.values()) < 41
    assert dump(path) != dump(reference)

    _load(path, BATCH, TASKS, EDGES)
    assert dump(path) == dump(reference)


def test_removals_take_one_round_trip_per_batch_and_drop_the_edges_of_removed_tasks(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    _load(path, BATCH, TASKS, EDGES)
    graph = _gremlite(path, BATCH)
    try:
        gone_tasks = [f"t{i:02d}" for i in range(0, 23, 2)]  # 12 tasks: 2 batches
        gone_edges = [e.dependency_id for e in EDGES[:9]] + ["never-existed"]  # 10 ids: 2 batches
        graph.remove_dependencies(gone_edges + gone_edges[:3])  # a repeated id counts once
        graph.remove_tasks(gone_tasks)
        assert graph.round_trips == 2 + 2
    finally:
        graph.close()
    vertices, edges = dump(path)
    assert {dict(v)["task_id"] for v in vertices} == {f"t{i:02d}" for i in range(1, 23, 2)}
    kept = {
        e.dependency_id
        for e in {e.dependency_id: e for e in EDGES}.values()
        if e.dependency_id not in gone_edges and {e.successor_id, e.predecessor_id}.isdisjoint(gone_tasks)
    }
    assert {dict(e)["dependency_id"] for e in edges} == kept
    assert sum(edges.values()) == len(kept)
