"""Tasks whose work is done are never critical: in CPM, on the path, and in Monte Carlo."""

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import DependencyInput, PlanInput, TaskInput, schedule_plan, simulate_plan
from simulation.cpm import critical_mask, critical_path_method
from simulation.montecarlo import ShardResult, SimulationModel, merge_shards, run_shard, simulate
from simulation.network import Network


def keys_of(net: Network, path: np.ndarray) -> list[str]:
    return [net.keys[i] for i in path.tolist()]


# --- CPM -----------------------------------------------------------------------------------


def test_done_head_of_the_chain_is_not_critical_nor_on_the_path() -> None:
    net = Network.from_keys(["d", "a", "b", "c"], [("d", "a", 0), ("a", "b", 1), ("a", "c", 0)])
    durations = [0.0, 3.0, 2.0, 1.0]
    without = critical_path_method(net, durations)
    assert without.critical.tolist() == [True, True, True, False]
    assert keys_of(net, without.critical_path) == ["d", "a", "b"]
    res = critical_path_method(net, durations, done=[True, False, False, False])
    assert res.critical.tolist() == [False, True, True, False]
    assert keys_of(net, res.critical_path) == ["a", "b"]
    # Only criticality changes: the times and slacks are those of the same network.
    for name in ("early_start", "early_finish", "late_start", "late_finish", "total_slack"):
        assert np.array_equal(getattr(res, name), getattr(without, name)), name
    assert res.duration == without.duration == 6.0


def test_done_tasks_inside_or_at_the_end_of_the_chain_are_left_off_the_path() -> None:
    net = Network.from_keys(["a", "m", "b", "z"], [("a", "m", 0), ("m", "b", 0), ("b", "z", 0)])
    res = critical_path_method(net, [2.0, 0.0, 4.0, 0.0], done=[False, True, False, True])
    assert keys_of(net, res.critical_path) == ["a", "b"]
    assert res.critical.tolist() == [True, False, True, False]


def test_all_done_plan_has_no_critical_task_and_an_empty_path() -> None:
    net = Network.from_keys(["a", "b"], [("a", "b", 0)])
    res = critical_path_method(net, [0.0, 0.0], done=[True, True])
    assert res.duration == 0.0
    assert not res.critical.any()
    assert res.critical_path.tolist() == []


def test_no_done_task_gives_the_result_without_a_mask() -> None:
    net = Network.from_keys(["a", "b", "c"], [("a", "c", 1), ("b", "c", 0)])
    plain = critical_path_method(net, [1.0, 2.0, 3.0])
    masked = critical_path_method(net, [1.0, 2.0, 3.0], done=[False, False, False])
    assert np.array_equal(plain.critical, masked.critical)
    assert np.array_equal(plain.critical_path, masked.critical_path)


def test_done_flags_must_match_the_tasks() -> None:
    net = Network.from_keys(["a", "b"], [])
    with pytest.raises(ValueError, match="one done flag per task"):
        critical_path_method(net, [1.0, 2.0], done=[True])


def test_critical_mask_broadcasts_over_iterations() -> None:
    slack = np.array([[0.0, 1.0], [0.0, 0.0], [2.0, 0.0]])
    tol = np.array([1e-9, 1e-9])
    assert critical_mask(slack, tol).tolist() == [[True, False], [True, True], [False, True]]
    done = np.array([False, True, False])
    assert critical_mask(slack, tol, done).tolist() == [[True, False], [False, False], [False, True]]


@st.composite
def dags_with_done(draw: st.DrawFn) -> tuple[Network, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=25)) if pairs else []
    lags = draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5]), min_size=len(chosen), max_size=len(chosen)))
    durations = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.5]), min_size=n, max_size=n)))
    done = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    durations[done] = 0.0  # done tasks have no work left
    net = Network([f"t{i}" for i in range(n)], [i for i, _ in chosen], [j for _, j in chosen], lags)
    return net, durations, done


def joined_through_done(net: Network, es: np.ndarray, ef: np.ndarray, done: np.ndarray, path: list[int]) -> bool:
    """Whether done tasks can be put back into ``path`` to give a driving chain from time 0 to the finish."""
    project = float(ef.max())
    edges: dict[int, list[tuple[int, float]]] = {}
    for p, s, g in zip(net.pred.tolist(), net.succ.tolist(), net.lag.tolist(), strict=True):
        edges.setdefault(p, []).append((s, g))

    def reaches(sources: list[int], target: int | None) -> bool:
        stack, seen = list(sources), set()
        while stack:
            u = stack.pop()
            if (u == target) if target is not None else abs(ef[u] - project) < 1e-9:
                return True
            if u in seen:
                continue
            seen.add(u)
            for s, g in edges.get(u, []):
                if abs(ef[u] + g - es[s]) < 1e-9 and (done[s] or s == target):
                    stack.append(s)
        return False

    starts = [v for v in range(net.size) if done[v] and es[v] < 1e-9]
    stops = [*path, None]
    first = stops[0]
    if not reaches(starts + ([first] if first is not None and es[first] < 1e-9 else []), first):
        return False
    return all(reaches([a], b) for a, b in zip(path, stops[1:], strict=True))


@settings(max_examples=200, deadline=None)
@given(dags_with_done())
def test_done_rule_on_random_networks(case: tuple[Network, np.ndarray, np.ndarray]) -> None:
    net, durations, done = case
    plain = critical_path_method(net, durations)
    res = critical_path_method(net, durations, done=done)
    assert np.array_equal(res.critical, plain.critical & ~done)
    path = res.critical_path.tolist()
    assert not done[path].any()
    assert res.critical[path].all()
    # With the done tasks (instants) put back, the path is a driving chain from 0 to the finish.
    assert joined_through_done(net, res.early_start, res.early_finish, done, path)
    if not done.any():
        assert path == plain.critical_path.tolist()


def test_the_path_prefers_tasks_with_work_left() -> None:
    # "late" (done) finishes last too, driven through a lag by another done task; "x" has work left.
    net = Network.from_keys(["late", "x", "early"], [("early", "late", 3.0)])
    res = critical_path_method(net, [0.0, 3.0, 0.0], done=[True, False, True])
    assert keys_of(net, res.critical_path) == ["x"]
    # Two driving predecessors of "b": the done one has the lower index, the open one is chosen.
    net = Network.from_keys(["d", "a", "b"], [("d", "b", 2.0), ("a", "b", 0.0)])
    res = critical_path_method(net, [0.0, 2.0, 1.0], done=[True, False, False])
    assert keys_of(net, res.critical_path) == ["a", "b"]
    assert keys_of(net, critical_path_method(net, [0.0, 2.0, 1.0]).critical_path) == ["d", "b"]


# --- Monte Carlo ---------------------------------------------------------------------------


def head_done_models() -> tuple[SimulationModel, SimulationModel]:
    """The same network with and without its head task marked done (it has no work left)."""
    keys = ["done", "a", "b", "c", "d"]
    edges = [("done", "a", 0.0), ("done", "b", 0.0), ("a", "c", 0.0), ("b", "c", 1.0), ("c", "d", 0.0)]
    net = Network.from_keys(keys, edges)
    low, mode, high = [0, 1, 1, 2, 0.5], [0, 3, 2, 3, 1], [0, 6, 7, 5, 2]
    plain = SimulationModel.build(net, low, mode, high)
    done = SimulationModel.build(net, low, mode, high, done=[True, False, False, False, False])
    return plain, done


def test_done_task_has_criticality_zero_and_nothing_else_changes() -> None:
    plain, done = head_done_models()
    assert done.done == (0,)
    before = simulate(plain, 3000, seed=5)
    after = simulate(done, 3000, seed=5)
    assert before.criticality[0] == 1.0  # a zero-duration head is always on the longest chain
    assert after.criticality[0] == 0.0
    assert np.array_equal(after.critical_counts[1:], before.critical_counts[1:])
    assert np.array_equal(after.finish_times, before.finish_times)
    assert np.array_equal(after.sensitivity, before.sensitivity)
    assert after.criticality[3] == after.criticality[4] == 1.0


@pytest.mark.parametrize("k", [2, 5])
def test_shards_with_done_tasks_merge_exactly(k: int) -> None:
    _plain, model = head_done_models()
    single = simulate(model, 1501, seed=8)
    shards = [run_shard(model, 1501, 8, i, k, block_size=64 + i) for i in range(k)]
    wire = [ShardResult.from_dict(json.loads(json.dumps(s.to_dict()))) for s in shards]
    assert merge_shards(wire) == single
    assert single.critical_counts[0] == 0


def test_done_tasks_are_part_of_the_fingerprint() -> None:
    plain, done = head_done_models()
    assert plain.fingerprint != done.fingerprint
    mixed = [run_shard(plain, 100, 1, 0, 2), run_shard(done, 100, 1, 1, 2)]
    with pytest.raises(ValueError, match="different runs"):
        merge_shards(mixed)


def test_no_done_task_keeps_the_model_and_its_fingerprint() -> None:
    plain, _done = head_done_models()
    net, d = plain.network, plain.durations
    again = SimulationModel.build(net, d.low, d.mode, d.high, done=[False] * net.size)
    assert again.done == ()
    assert again.fingerprint == plain.fingerprint


# --- the date-level facade -----------------------------------------------------------------

AS_OF = dt.date(2026, 11, 21)  # a Saturday: time 0 is Monday 23rd


def test_completed_tasks_in_the_plan_schedule_and_simulation() -> None:
    plan = PlanInput(
        tasks=(
            TaskInput("kickoff", 1, 2, 3, "COMPLETED", 100),
            TaskInput("build", 2, 4, 6, "IN_PROGRESS", 50),
            TaskInput("test", 1, 2, 3),
            TaskInput("signoff", 1, 1, 1, "COMPLETED", 100),
        ),
        dependencies=(
            DependencyInput("kickoff", "build"),
            DependencyInput("build", "test"),
            DependencyInput("test", "signoff"),
        ),
        as_of=AS_OF,
    )
    schedule = schedule_plan(plan)
    assert schedule.critical_path == ("build", "test")
    assert {k: t.is_critical for k, t in schedule.tasks.items()} == {
        "kickoff": False,
        "build": True,
        "test": True,
        "signoff": False,
    }
    assert {k for k, t in schedule.tasks.items() if t.is_done} == {"kickoff", "signoff"}
    assert schedule.finish_date == dt.date(2026, 11, 26)  # 2 + 2 working days from Monday 23rd
    report = simulate_plan(plan, 500, seed=3)
    assert report.task_criticality == {"kickoff": 0.0, "build": 1.0, "test": 1.0, "signoff": 0.0}
