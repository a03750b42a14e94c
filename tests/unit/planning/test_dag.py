"""path_between and reachable, by example and against networkx on random DAGs."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.model.dag import adjacency, path_between, reachable

CHAIN = [("a", "b"), ("b", "c"), ("c", "d")]
DIAMOND = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e")]


def test_path_between_follows_edge_direction() -> None:
    assert path_between(CHAIN, "a", "d") == ["a", "b", "c", "d"]
    assert path_between(CHAIN, "d", "a") is None
    assert path_between(CHAIN, "b", "c") == ["b", "c"]


def test_path_between_a_node_and_itself_is_that_node() -> None:
    assert path_between(CHAIN, "b", "b") == ["b"]
    assert path_between([], "x", "x") == ["x"]


def test_path_between_unknown_nodes_is_none() -> None:
    assert path_between(CHAIN, "a", "zz") is None
    assert path_between(CHAIN, "zz", "a") is None


def test_path_between_is_a_shortest_path() -> None:
    edges = [*CHAIN, ("a", "d")]
    assert path_between(edges, "a", "d") == ["a", "d"]
    path = path_between(DIAMOND, "a", "e")
    assert path in (["a", "b", "d", "e"], ["a", "c", "d", "e"])


def test_path_between_accepts_a_generator_and_cycles() -> None:
    edges = (e for e in [("a", "b"), ("b", "a"), ("b", "c")])
    assert path_between(edges, "a", "c") == ["a", "b", "c"]


def test_reachable_is_breadth_first_with_depths() -> None:
    succ = adjacency(DIAMOND)
    assert reachable(succ, "a") == [("b", 1), ("c", 1), ("d", 2), ("e", 3)]
    assert reachable(succ, "e") == []
    assert reachable(succ, "unknown") == []


def test_reachable_respects_max_depth() -> None:
    succ = adjacency(DIAMOND)
    assert reachable(succ, "a", max_depth=0) == []
    assert reachable(succ, "a", max_depth=1) == [("b", 1), ("c", 1)]
    assert reachable(succ, "a", max_depth=2) == [("b", 1), ("c", 1), ("d", 2)]
    assert reachable(succ, "a", max_depth=10) == reachable(succ, "a")


def test_reachable_visits_each_node_once_and_excludes_start_in_a_cycle() -> None:
    succ = adjacency([("a", "b"), ("b", "a"), ("b", "c"), ("a", "c")])
    assert reachable(succ, "a") == [("b", 1), ("c", 1)]


def test_adjacency_keeps_edge_order_and_parallel_edges() -> None:
    assert dict(adjacency([("a", "c"), ("a", "b"), ("b", "c")])) == {"a": ["c", "b"], "b": ["c"]}


@st.composite
def random_dags(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    """A DAG: edges only go from a lower to a higher index, in a random order."""
    n = draw(st.integers(1, 12))
    nodes = [f"n{i:02d}" for i in range(n)]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    perm = draw(st.permutations(nodes))  # so that ids order says nothing about topology
    return nodes, [(perm[i], perm[j]) for i, j in chosen]


def _graph(nodes: list[str], edges: list[tuple[str, str]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return graph


@settings(max_examples=150, deadline=None)
@given(dag=random_dags(), data=st.data())
def test_path_between_matches_networkx(dag: tuple[list[str], list[tuple[str, str]]], data: st.DataObject) -> None:
    nodes, edges = dag
    graph = _graph(nodes, edges)
    start = data.draw(st.sampled_from(nodes))
    goal = data.draw(st.sampled_from(nodes))
    path = path_between(edges, start, goal)
    if not nx.has_path(graph, start, goal):
        assert path is None
        return
    assert path is not None
    assert path[0] == start
    assert path[-1] == goal
    assert all(graph.has_edge(u, v) for u, v in itertools.pairwise(path))
    assert len(path) == nx.shortest_path_length(graph, start, goal) + 1


@settings(max_examples=150, deadline=None)
@given(
    dag=random_dags(),
    data=st.data(),
    max_depth=st.one_of(st.none(), st.integers(0, 6)),
)
def test_reachable_matches_networkx(
    dag: tuple[list[str], list[tuple[str, str]]], data: st.DataObject, max_depth: int | None
) -> None:
    nodes, edges = dag
    graph = _graph(nodes, edges)
    start = data.draw(st.sampled_from(nodes))
    found = reachable(adjacency(edges), start, max_depth=max_depth)
    names = [n for n, _ in found]
    assert len(names) == len(set(names))
    expected = nx.single_source_shortest_path_length(graph, start, cutoff=max_depth)
    expected.pop(start)
    assert dict(found) == expected
    if max_depth is None:
        assert set(names) == nx.descendants(graph, start)
    depths = [d for _, d in found]
    assert depths == sorted(depths)
