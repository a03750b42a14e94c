import numpy as np
import pytest

from simulation.network import CycleError, Network


def test_topological_order_and_levels() -> None:
    net = Network.from_keys(["a", "b", "c", "d"], [("a", "b", 0), ("b", "d", 0), ("a", "c", 0), ("c", "d", 1)])
    pos = {int(v): i for i, v in enumerate(net.order)}
    for p, s in zip(net.pred, net.succ, strict=True):
        assert pos[int(p)] < pos[int(s)]
    assert net.level.tolist() == [0, 1, 1, 2]
    assert net.depth == 3


def test_cycle_is_reported_in_order() -> None:
    keys = ["start", "x", "y", "z", "end"]
    edges = [("start", "x", 0), ("x", "y", 0), ("y", "z", 0), ("z", "x", 0), ("z", "end", 0)]
    with pytest.raises(CycleError) as info:
        Network.from_keys(keys, edges)
    cycle = info.value.cycle
    assert sorted(cycle) == ["x", "y", "z"]
    edge_set = {(p, s) for p, s, _ in edges}
    for i, k in enumerate(cycle):
        assert (k, cycle[(i + 1) % len(cycle)]) in edge_set
    assert "x" in str(info.value)


def test_self_loop_is_a_cycle() -> None:
    with pytest.raises(CycleError) as info:
        Network.from_keys(["a"], [("a", "a", 0)])
    assert info.value.cycle == ("a",)


def test_unknown_key_and_duplicates_rejected() -> None:
    with pytest.raises(ValueError, match="unknown task key 'q'"):
        Network.from_keys(["a"], [("a", "q", 0)])
    with pytest.raises(ValueError, match="unique"):
        Network(["a", "a"], [], [])


def test_wide_and_narrow_rounds_agree() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    a, b = rng.integers(0, n, 9000), rng.integers(0, n, 9000)
    keep = a != b
    net = Network([str(i) for i in range(n)], np.minimum(a, b)[keep], np.maximum(a, b)[keep])
    expected = np.zeros(n, dtype=int)
    for v in range(n):  # edges go from low to high index, so index order is topological
        preds = np.minimum(a, b)[keep][np.maximum(a, b)[keep] == v]
        if preds.size:
            expected[v] = expected[preds].max() + 1
    assert np.array_equal(net.level, expected)
