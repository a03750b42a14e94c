import json

import numpy as np
import pytest
from sim_helpers import foundry_network

from simulation.distributions import pert_shape
from simulation.montecarlo import (
    RiskSpec,
    ShardResult,
    SimulationModel,
    merge_shards,
    run_shard,
    simulate,
)
from simulation.network import Network

Z80 = 0.8416212335729143  # standard normal 80th percentile


def beta_pert_samples(rng: np.random.Generator, a: float, m: float, b: float, n: int) -> np.ndarray:
    """Independent reference sampler: numpy's Beta generator."""
    if b == a:
        return np.full(n, a)
    alpha, beta = pert_shape(a, m, b)
    return a + (b - a) * rng.beta(alpha, beta, n)


def chain_network(n: int) -> Network:
    return Network([f"c{i}" for i in range(n)], np.arange(n - 1), np.arange(1, n))


def mixed_model() -> SimulationModel:
    """Network with lags, a fixed task, a zero task and two risks."""
    keys = ["a", "b", "c", "d", "e", "f", "g"]
    edges = [
        ("a", "c", 0.0),
        ("b", "c", 1.5),
        ("b", "d", 0.0),
        ("c", "e", 0.0),
        ("d", "e", 0.0),
        ("d", "f", 2.0),
        ("e", "g", 0.0),
        ("f", "g", 0.0),
    ]
    net = Network.from_keys(keys, edges)
    low = [1, 2, 0.5, 3, 0, 2, 1]
    mode = [2, 3, 1.0, 3, 0, 4, 1]
    high = [4, 5, 3.0, 3, 0, 9, 2]
    risks = [RiskSpec(0.3, 2.0, (0, 5)), RiskSpec(0.8, 1.0, (2,))]
    return SimulationModel.build(net, low, mode, high, distribution="pert", risks=risks)


# --- against independent computations -------------------------------------------------


def test_serial_chain_matches_sum_of_pert_samples() -> None:
    est = [(1, 2, 4), (2, 3, 7), (0.5, 1, 1.5), (3, 5, 12), (1, 1, 1)]
    net = chain_network(len(est))
    a, m, b = (np.array(x, dtype=float) for x in zip(*est, strict=True))
    n = 100_000
    res = simulate(SimulationModel.build(net, a, m, b), n, seed=11)
    rng = np.random.default_rng(12345)
    ref = sum(beta_pert_samples(rng, *e, n) for e in est)
    sd = ref.std()
    assert abs(res.mean_finish - ref.mean()) < 5 * sd * np.sqrt(2 / n)
    assert res.mean_finish == pytest.approx(float(np.sum((a + 4 * m + b) / 6)), abs=0.03)
    for q in (10, 50, 80, 90):
        assert res.percentile(q) == pytest.approx(np.percentile(ref, q), abs=0.04 * sd)
    # Kolmogorov-Smirnov distance between the two samples
    grid = np.linspace(ref.min(), ref.max(), 200)
    ks = np.max(np.abs(np.searchsorted(np.sort(res.finish_times), grid) / n - np.searchsorted(np.sort(ref), grid) / n))
    assert ks < 1.95 * np.sqrt(2 / n) * 1.5
    assert np.all(res.criticality == 1.0)


def test_parallel_chains_show_merge_bias() -> None:
    chains, length = 5, 4
    a, m, b = 2.0, 4.0, 9.0
    n_tasks = chains * length
    pred = [c * length + i for c in range(chains) for i in range(length - 1)]
    succ = [p + 1 for p in pred]
    net = Network([f"t{i}" for i in range(n_tasks)], pred, succ)
    res = simulate(SimulationModel.build(net, [a] * n_tasks, [m] * n_tasks, [b] * n_tasks), 20_000, seed=3)
    mu = length * (a + 4 * m + b) / 6
    sigma = np.sqrt(length) * (b - a) / 6
    analytic_p80 = mu + Z80 * sigma
    assert res.percentile(80) > analytic_p80 + 0.5 * sigma
    assert res.mean_finish > mu + 0.5 * sigma
    # every chain is critical about 1/5 of the time
    assert np.allclose(res.criticality, 0.2, atol=0.02)


def test_general_foundry() -> None:
    net, a, m, b = foundry_network()
    n = 200_000
    res = simulate(SimulationModel.build(net, a, m, b), n, seed=2024)
    # published simulation values: mean ~15.24 weeks, P(T <= 16) ~ 0.690
    # (the textbook's analytic 0.72 ignores merge bias)
    p16 = res.probability_by(16.0)
    se = np.sqrt(p16 * (1 - p16) / n)
    assert p16 == pytest.approx(0.690, abs=0.005 + 4 * se)
    assert p16 < 0.72 - 0.02
    assert res.mean_finish == pytest.approx(15.24, abs=0.03)
    # independent reference simulation with numpy's Beta sampler
    rng = np.random.default_rng(99)
    d = {k: beta_pert_samples(rng, a[i], m[i], b[i], n) for i, k in enumerate(net.keys)}
    ef_a, ef_b = d["A"], d["B"]
    ef_c = ef_a + d["C"]
    ef_d = np.maximum(ef_a, ef_b) + d["D"]
    ef_e = ef_c + d["E"]
    ef_f = ef_c + d["F"]
    ef_g = np.maximum(ef_d, ef_e) + d["G"]
    ref = np.maximum(ef_f, ef_g) + d["H"]
    assert res.mean_finish == pytest.approx(ref.mean(), abs=5 * ref.std() * np.sqrt(2 / n))
    assert p16 == pytest.approx(np.mean(ref <= 16), abs=5 * np.sqrt(2 * 0.25 / n))
    crit = dict(zip(net.keys, res.criticality.tolist(), strict=True))
    assert crit["H"] == 1.0
    assert crit["G"] > 0.95
    assert crit["F"] < 0.05
    assert crit["A"] + crit["B"] == pytest.approx(1.0, abs=0.01)


# --- reproducibility, blocks and shards ------------------------------------------------


def test_same_seed_same_result_and_different_seed_differs() -> None:
    model = mixed_model()
    r1 = simulate(model, 3000, seed=5)
    r2 = simulate(model, 3000, seed=5)
    r3 = simulate(model, 3000, seed=6)
    assert r1 == r2
    assert not np.array_equal(r1.finish_times, r3.finish_times)


def test_block_size_does_not_change_results() -> None:
    model = mixed_model()
    ref = simulate(model, 2500, seed=9)
    for block in (1, 7, 64, 1000, 5000):
        assert simulate(model, 2500, seed=9, block_size=block) == ref


def test_prefix_of_longer_run_is_identical() -> None:
    model = mixed_model()
    short = simulate(model, 1000, seed=9)
    long = simulate(model, 1700, seed=9)
    assert np.array_equal(long.finish_times[:1000], short.finish_times)


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_shards_merge_to_the_single_run_exactly(k: int) -> None:
    model = mixed_model()
    n = 2003
    single = simulate(model, n, seed=17)
    shards = [run_shard(model, n, 17, i, k, block_size=100 + i) for i in range(k)]
    # round trip through JSON as the Lambda fan-out would
    wire = [ShardResult.from_dict(json.loads(json.dumps(s.to_dict()))) for s in shards]
    merged = merge_shards(list(reversed(wire)))
    assert merged == single
    assert np.array_equal(merged.sensitivity, single.sensitivity)
    assert np.array_equal(merged.criticality, single.criticality)
    assert merged.mean_finish == single.mean_finish
    assert simulate(model, n, seed=17, shards=k) == single


def test_merge_rejects_incomplete_or_mixed_shards() -> None:
    model = mixed_model()
    s0 = run_shard(model, 100, 1, 0, 2)
    s1 = run_shard(model, 100, 1, 1, 2)
    other = run_shard(model, 100, 2, 1, 2)
    with pytest.raises(ValueError, match="every shard index"):
        merge_shards([s0])
    with pytest.raises(ValueError, match="different runs"):
        merge_shards([s0, other])
    with pytest.raises(ValueError, match="every shard index"):
        merge_shards([s0, s0])
    assert merge_shards([s1, s0]).iterations == 100


def test_progress_reports_monotone_to_total() -> None:
    calls: list[tuple[int, int]] = []
    simulate(mixed_model(), 1000, seed=1, shards=3, block_size=128, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (1000, 1000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# --- outputs ---------------------------------------------------------------------------


def test_criticality_and_sensitivity_properties() -> None:
    model = mixed_model()
    res = simulate(model, 4000, seed=21)
    assert np.all((res.criticality >= 0) & (res.criticality <= 1))
    assert np.all(np.abs(res.sensitivity) <= 1)
    fixed = np.flatnonzero(~model.durations.variable)
    assert fixed.size == 2
    assert np.all(res.sensitivity[fixed] == 0.0)
    assert res.criticality[6] == 1.0  # g is the only sink


def test_single_chain_is_fully_critical_and_sensitive() -> None:
    net = chain_network(4)
    res = simulate(SimulationModel.build(net, [1] * 4, [2] * 4, [5] * 4), 5000, seed=4)
    assert np.all(res.criticality == 1.0)
    # four i.i.d. summands: each rank-correlates with the sum at about 0.5
    assert np.allclose(res.sensitivity, 0.49, atol=0.05)


def test_sensitivity_equals_sample_spearman_of_durations() -> None:
    from simulation.montecarlo import _BlockSampler

    model = mixed_model()
    n = 3000
    res = simulate(model, n, seed=8)
    d = _BlockSampler(model, 8, 0).next(n)
    # remove the risk delays: sensitivity is about the sampled duration
    risk_free = SimulationModel.build(model.network, model.durations.low, model.durations.mode, model.durations.high)
    d_free = _BlockSampler(risk_free, 8, 0).next(n)
    assert not np.array_equal(d, d_free)

    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="stable")
        r = np.empty(n)
        r[order] = np.arange(n)
        return r

    for j in np.flatnonzero(model.durations.variable):
        sample_rho = np.corrcoef(ranks(d_free[j]), ranks(res.finish_times))[0, 1]
        assert res.sensitivity[j] == pytest.approx(sample_rho, abs=0.02)


def test_relative_tolerance_for_criticality() -> None:
    # two parallel fixed tasks whose durations differ by far less than a day
    # at a huge scale: both are critical under a relative tolerance
    net = Network(["a", "b"], [], [])
    big = 1e8
    res = simulate(SimulationModel.build(net, [big, big - 1e-3], [big, big - 1e-3], [big, big - 1e-3]), 10, seed=1)
    assert res.criticality.tolist() == [1.0, 1.0]


# --- risks and inputs ------------------------------------------------------------------


def test_risk_probability_zero_one_and_half() -> None:
    net = Network(["x", "y"], [0], [1])
    fixed = ([1.0, 1.0], [1.0, 1.0], [1.0, 1.0])
    n = 20_000
    base = simulate(SimulationModel.build(net, *fixed), n, seed=2).finish_times
    assert np.all(base == 2.0)
    never = simulate(SimulationModel.build(net, *fixed, risks=[RiskSpec(0.0, 3.0, (0, 1))]), n, 2)
    assert np.array_equal(never.finish_times, base)
    always = simulate(SimulationModel.build(net, *fixed, risks=[RiskSpec(1.0, 3.0, (0, 1))]), n, 2)
    assert np.all(always.finish_times == 8.0)
    half = simulate(SimulationModel.build(net, *fixed, risks=[RiskSpec(0.5, 3.0, (0, 1))]), n, 2)
    # one draw per iteration shared by both tasks: 2 or 8, never 5
    assert set(np.unique(half.finish_times).tolist()) == {2.0, 8.0}
    share = np.mean(half.finish_times == 8.0)
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / n)


def test_zero_and_fixed_durations() -> None:
    net = Network(["a", "b", "c"], [0, 1], [1, 2], [0.0, 2.0])
    res = simulate(SimulationModel.build(net, [0, 3, 1], [0, 3, 1], [0, 3, 1]), 50, seed=0)
    assert np.all(res.finish_times == 6.0)


def test_invalid_inputs() -> None:
    net = Network(["a"], [], [])
    with pytest.raises(ValueError, match="estimates must satisfy"):
        SimulationModel.build(net, [2], [1], [3])
    with pytest.raises(ValueError, match="unknown distribution"):
        SimulationModel.build(net, [1], [2], [3], distribution="lognormal")
    model = SimulationModel.build(net, [1], [2], [3])
    with pytest.raises(ValueError, match="iterations"):
        simulate(model, 0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        simulate(model, 10, seed=-1)
    with pytest.raises(ValueError, match="probability"):
        RiskSpec(1.5, 1.0, (0,))


@pytest.mark.parametrize("dist", ["triangular", "uniform"])
def test_other_distributions_have_their_means(dist: str) -> None:
    net = chain_network(3)
    a, m, b = np.array([1.0, 2.0, 0.0]), np.array([2.0, 2.5, 4.0]), np.array([6.0, 3.0, 5.0])
    n = 40_000
    res = simulate(SimulationModel.build(net, a, m, b, distribution=dist), n, seed=1)
    mean = np.sum((a + m + b) / 3) if dist == "triangular" else np.sum((a + b) / 2)
    assert res.mean_finish == pytest.approx(mean, abs=5 * 2.0 / np.sqrt(n))


def test_cell_chunks_and_cache_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import simulation.montecarlo as mc

    model = mixed_model()
    ref = simulate(model, 1500, seed=13)
    # no kept cells (regenerating sensitivity pass) and tiny look-ahead chunks,
    # so chunks end inside blocks and cells are carried over
    monkeypatch.setattr(mc, "CELL_CACHE_BYTES", 0)
    monkeypatch.setattr(mc, "_CELL_CHUNK_BYTES", 2 * 5 * 7)
    for block in (1, 5, 7, 64, 2000):
        assert simulate(model, 1500, seed=13, block_size=block, shards=2) == ref


def test_quantile_table_rows_have_the_distribution_means() -> None:
    a, m, b = np.array([1.0, 2.0, 0.0, 3.0]), np.array([1.0, 2.5, 4.0, 3.0]), np.array([6.0, 9.0, 5.0, 3.0])
    expected = {
        "pert": (a + 4 * m + b) / 6,
        "triangular": (a + m + b) / 3,
        "uniform": (a + b) / 2,
    }
    for dist, means in expected.items():
        dm = SimulationModel.build(chain_network(4), a, m, b, distribution=dist).durations
        cells = np.arange(4096, dtype=np.uint16)
        rows = dm.sample_block(np.broadcast_to(cells, (4, 4096)))
        assert np.all(np.diff(rows, axis=1) >= 0)  # monotone in the cell
        assert np.all(rows[3] == 3.0)  # fixed task exact
        assert np.allclose(rows.mean(axis=1), means, atol=2e-4 * (b - a + 1))
