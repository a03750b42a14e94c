import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_helpers import foundry_network

from simulation.cpm import _scalar_passes, critical_path_method
from simulation.network import Network


@st.composite
def random_dags(draw: st.DrawFn) -> tuple[Network, np.ndarray]:
    n = draw(st.integers(1, 14))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=30)) if pairs else []
    lags = draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5]), min_size=len(chosen), max_size=len(chosen)))
    durations = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 7.25]), min_size=n, max_size=n))
    perm = draw(st.permutations(range(n)))  # scramble indices so order != index
    pred = [perm[i] for i, _ in chosen]
    succ = [perm[j] for _, j in chosen]
    keys = [f"t{i}" for i in range(n)]
    return Network(keys, pred, succ, lags), np.array(durations, dtype=float)


def reference_schedule(net: Network, d: np.ndarray) -> dict[str, dict[int, float]]:
    """Independent dict-based CPM over a networkx graph."""
    g = nx.DiGraph()
    g.add_nodes_from(range(net.size))
    for p, s, lag in zip(net.pred.tolist(), net.succ.tolist(), net.lag.tolist(), strict=True):
        g.add_edge(p, s, lag=max(lag, g[p][s]["lag"]) if g.has_edge(p, s) else lag)
    es: dict[int, float] = {}
    ef: dict[int, float] = {}
    for v in nx.topological_sort(g):
        es[v] = max([ef[u] + g[u][v]["lag"] for u in g.predecessors(v)], default=0.0)
        ef[v] = es[v] + d[v]
    project = max(ef.values())
    lf: dict[int, float] = {}
    for v in reversed(list(nx.topological_sort(g))):
        lf[v] = min([lf[s] - d[s] - g[v][s]["lag"] for s in g.successors(v)], default=project)
    return {"es": es, "ef": ef, "lf": lf, "project": {0: project}}


def longest_path_length(net: Network, d: np.ndarray) -> float:
    g = nx.DiGraph()
    for v in range(net.size):
        g.add_edge("source", v, weight=float(d[v]))
        g.add_edge(v, "sink", weight=0.0)
    for p, s, lag in zip(net.pred.tolist(), net.succ.tolist(), net.lag.tolist(), strict=True):
        w = lag + float(d[s])
        if not g.has_edge(p, s) or g[p][s]["weight"] < w:
            g.add_edge(p, s, weight=w)
    return float(nx.dag_longest_path_length(g, weight="weight"))


@settings(max_examples=150, deadline=None)
@given(random_dags())
def test_cpm_matches_independent_computation(case: tuple[Network, np.ndarray]) -> None:
    net, d = case
    res = critical_path_method(net, d)
    ref = reference_schedule(net, d)
    for v in range(net.size):
        assert res.early_start[v] == pytest.approx(ref["es"][v])
        assert res.early_finish[v] == pytest.approx(ref["ef"][v])
        assert res.late_finish[v] == pytest.approx(ref["lf"][v])
        assert res.late_start[v] == pytest.approx(ref["lf"][v] - d[v])
        assert res.total_slack[v] == pytest.approx(ref["lf"][v] - ref["ef"][v], abs=1e-9)
        assert res.total_slack[v] >= -1e-9
        assert res.critical[v] == (abs(ref["lf"][v] - ref["ef"][v]) <= 1e-9)
    assert res.duration == pytest.approx(longest_path_length(net, d))


@settings(max_examples=150, deadline=None)
@given(random_dags())
def test_critical_path_is_a_zero_slack_path_of_project_length(
    case: tuple[Network, np.ndarray],
) -> None:
    net, d = case
    res = critical_path_method(net, d)
    path = res.critical_path.tolist()
    assert path, "there is always a critical path"
    edges = {}
    for p, s, lag in zip(net.pred.tolist(), net.succ.tolist(), net.lag.tolist(), strict=True):
        edges[(p, s)] = max(lag, edges.get((p, s), -np.inf))
    assert all(res.critical[v] for v in path)
    assert res.early_start[path[0]] == pytest.approx(0.0)
    length = res.early_start[path[0]] + d[path[0]]
    for u, v in itertools.pairwise(path):
        assert (u, v) in edges
        length += edges[(u, v)] + d[v]
    assert length == pytest.approx(res.duration)
    assert res.early_finish[path[-1]] == pytest.approx(res.duration)


@settings(max_examples=100, deadline=None)
@given(random_dags())
def test_scalar_and_level_passes_agree(case: tuple[Network, np.ndarray]) -> None:
    net, d = case
    res = critical_path_method(net, d)
    es, ef, ls, lf, project = _scalar_passes(net, d)
    assert np.allclose(es, res.early_start)
    assert np.allclose(ef, res.early_finish)
    assert np.allclose(ls, res.late_start)
    assert np.allclose(lf, res.late_finish)
    assert project == pytest.approx(res.duration)


def test_foundry_expected_times_critical_path() -> None:
    net, a, m, b = foundry_network()
    expected = (a + 4 * m + b) / 6  # A2 B3 C2 D4 E4 F3 G5 H2
    res = critical_path_method(net, expected)
    assert res.duration == pytest.approx(15.0)
    assert [net.keys[i] for i in res.critical_path] == ["A", "C", "E", "G", "H"]
    slack = dict(zip(net.keys, res.total_slack.tolist(), strict=True))
    assert slack["B"] == pytest.approx(1.0)
    assert slack["D"] == pytest.approx(1.0)
    assert slack["F"] == pytest.approx(6.0)


def test_tie_break_prefers_earliest_finish_then_lowest_index() -> None:
    # two equal critical branches: b (index 1) and c (index 2) both drive d
    net = Network.from_keys(["a", "b", "c", "d"], [("a", "b", 0), ("a", "c", 0), ("b", "d", 0), ("c", "d", 0)])
    res = critical_path_method(net, [1, 2, 2, 1])
    assert [net.keys[i] for i in res.critical_path] == ["a", "b", "d"]
    assert res.critical.tolist() == [True, True, True, True]


def test_deep_chain_uses_scalar_path_and_is_correct() -> None:
    n = 5000
    net = Network([str(i) for i in range(n)], np.arange(n - 1), np.arange(1, n))
    res = critical_path_method(net, np.full(n, 0.5))
    assert res.duration == pytest.approx(n * 0.5)
    assert res.critical.all()
    assert len(res.critical_path) == n


def test_relative_tolerance_scales_with_duration() -> None:
    big = 1e9
    net = Network.from_keys(["a", "b"], [])
    res = critical_path_method(net, [big, big * (1 - 1e-12)])
    assert res.critical.tolist() == [True, True]  # slack 1e-3 is "zero" at this scale
    res2 = critical_path_method(net, [1.0, 1.0 - 1e-6])
    assert res2.critical.tolist() == [True, False]


def test_rejects_bad_durations() -> None:
    net = Network.from_keys(["a"], [])
    with pytest.raises(ValueError, match="non-negative"):
        critical_path_method(net, [-1.0])
    with pytest.raises(ValueError, match="one duration per task"):
        critical_path_method(net, [1.0, 2.0])
