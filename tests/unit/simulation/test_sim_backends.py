"""The compiled (Numba) engine and the NumPy engine give the same numbers, bit for bit.

Each test runs both backends on the same inputs and compares whole results with ``==``
(every finish time, critical count and sensitivity value); the shapes cover what the kernels
handle differently from the level-wise passes: lags (negative ones too), fixed and zero
durations, done tasks, risks (a task named twice, a fixed task delayed), kept and regenerated
sensitivity cells, block and shard boundaries, and shards run in threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from test_sim_montecarlo import mixed_model
from test_sim_whatif import _plan

from simulation import backend
from simulation.montecarlo import (
    RiskSpec,
    ShardResult,
    SimulationModel,
    merge_shards,
    run_shard,
    simulate,
    spearman_sensitivity,
)
from simulation.network import Network
from simulation.streams import TASK_STREAM, stream_keys, uniform_bits
from simulation.whatif import Variant, compare


def random_model(tasks: int = 120, edges: int = 360, *, seed: int = 4, negative_lags: bool = False) -> SimulationModel:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, tasks, 3 * edges)
    b = rng.integers(0, tasks, 3 * edges)
    keep = a != b
    pairs = np.unique(np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], axis=1), axis=0)[:edges]
    lag = rng.choice([0.0, 0.0, 0.5, 2.0], pairs.shape[0])
    if negative_lags:
        lag[rng.random(pairs.shape[0]) < 0.3] = -1.5
    net = Network([f"t{i}" for i in range(tasks)], pairs[:, 0], pairs[:, 1], lag)
    low = rng.uniform(0, 5, tasks)
    mode = low + rng.uniform(0, 3, tasks)
    high = mode + rng.uniform(0, 6, tasks)
    fixed = rng.random(tasks) < 0.15
    high[fixed] = mode[fixed] = low[fixed]
    risks = [
        RiskSpec(0.35, 2.5, (1, 5, 5, 9)),  # a task named twice: delayed once
        RiskSpec(0.9, 1.25, tuple(np.flatnonzero(fixed)[:3].tolist())),
        RiskSpec(0.0, 4.0, (2,)),
        RiskSpec(0.5, 0.0, (3,)),
    ]
    done = rng.random(tasks) < 0.1
    return SimulationModel.build(net, low, mode, high, risks=risks, done=done)


MODELS = {
    "mixed": mixed_model,
    "random": random_model,
    "negative lags": lambda: random_model(negative_lags=True, seed=8),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numba_and_numpy_give_the_same_results(name: str) -> None:
    model = MODELS[name]()
    numpy_result = simulate(model, 3001, seed=19, backend="numpy")
    numba_result = simulate(model, 3001, seed=19, backend="numba")
    assert numba_result == numpy_result
    assert np.array_equal(numba_result.sensitivity, numpy_result.sensitivity)
    assert numpy_result.critical_counts.sum() > 0
    assert np.any(numpy_result.sensitivity != 0.0)


def test_blocks_shards_threads_and_regenerated_cells_do_not_change_the_numba_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import simulation.montecarlo as mc

    model = random_model(negative_lags=True, seed=3)
    ref = simulate(model, 2500, seed=5, backend="numpy")
    assert simulate(model, 2500, seed=5, backend="numba", block_size=7) == ref
    for shards, workers in ((2, 2), (3, 2), (5, 1)):
        assert simulate(model, 2500, seed=5, backend="numba", shards=shards, workers=workers) == ref
    monkeypatch.setattr(mc, "CELL_CACHE_BYTES", 0)  # the sensitivity pass draws its cells again
    assert simulate(model, 2500, seed=5, backend="numba", shards=2, block_size=300) == ref
    assert simulate(model, 2500, seed=5, backend="numpy", shards=2, block_size=300) == ref


def test_shards_of_either_backend_merge_to_the_single_run() -> None:
    model = random_model()
    single = simulate(model, 1500, seed=2, backend="numpy")
    shards = [
        run_shard(model, 1500, 2, k, 3, backend="numba" if k % 2 else "numpy", block_size=64 + k) for k in range(3)
    ]
    wire = [ShardResult.from_dict(json.loads(json.dumps(s.to_dict()))) for s in shards]
    assert merge_shards(wire, backend="numba") == single
    assert merge_shards(wire, backend="numpy") == single


def test_the_compiled_philox_draws_numpys_words() -> None:
    kernels = backend.kernels_for("numba")
    assert kernels is not None
    keys = np.ascontiguousarray(stream_keys(31, 6, TASK_STREAM))
    for start, stop in ((0, 1), (0, 777), (3, 4), (7, 9), (8, 16), (13, 200), (1_000_003, 1_000_050)):
        words = np.empty((6, stop - start), dtype=np.uint32)
        kernels.philox_words(keys, start, 0, words)
        expected = np.stack([uniform_bits(k, start, stop) for k in keys])
        assert np.array_equal(words, expected)
        cells = np.empty((6, stop - start), dtype=np.uint16)
        kernels.philox_words(keys, start, 20, cells)
        assert np.array_equal(cells, expected >> 20)


def test_sensitivity_sums_agree_between_backends() -> None:
    finish = np.random.default_rng(1).normal(10, 2, 4000).round(1)  # ties on purpose
    tasks = (0, 2, 3, 7)
    numpy_rho = spearman_sensitivity(finish, 9, 8, tasks, backend="numpy")
    numba_rho = spearman_sensitivity(finish, 9, 8, tasks, backend="numba")
    assert np.array_equal(numba_rho, numpy_rho)
    assert np.all(numpy_rho[[1, 4, 5, 6]] == 0.0)


def test_whatif_scores_agree_between_backends() -> None:
    plan = _plan()
    variants = [
        Variant(),
        Variant(estimates={"build": (4.8, 6.4, 11.2)}),
        Variant(estimates={"docs": (2, 2, 2)}),  # now fixed
        Variant(lags={("design", "build"): -1.5}),
    ]
    numpy_scores = compare(plan, variants, 3000, seed=7, backend="numpy")
    numba_scores = compare(plan, variants, 3000, seed=7, backend="numba")
    assert numba_scores == numpy_scores
    assert numpy_scores[1][1].mean_finish_days < numpy_scores[0].mean_finish_days


def test_the_backend_is_chosen_by_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    assert backend.resolve() == "numba"  # auto: numba is installed here
    assert backend.resolve(work=backend.AUTO_NUMBA_MIN_WORK) == "numba"
    assert backend.resolve("numpy") == "numpy"
    monkeypatch.setenv(backend.ENV_VAR, "NumPy")
    assert backend.resolve() == "numpy"
    assert backend.kernels_for() is None
    assert backend.resolve("numba") == "numba"
    monkeypatch.setenv(backend.ENV_VAR, "fortran")
    with pytest.raises(ValueError, match="PLANNER_ENGINE must be one of auto, numba, numpy"):
        backend.resolve()
    with pytest.raises(ValueError, match="backend must be one of"):
        simulate(mixed_model(), 10, seed=1, backend="gpu")


def test_an_exception_from_progress_stops_the_shard_threads() -> None:
    model = random_model()
    seen: list[int] = []

    class Stop(Exception):
        pass

    def progress(done: int, _total: int) -> None:
        seen.append(done)
        if done > 0:
            raise Stop

    before = threading.active_count()
    with pytest.raises(Stop):
        simulate(model, 200_000, seed=1, shards=2, workers=2, block_size=256, progress=progress)
    assert seen[-1] < 200_000
    assert threading.active_count() == before  # the pool is gone


def test_a_small_run_does_not_load_numba_and_a_big_one_does() -> None:
    code = (
        "import sys\n"
        "from simulation.montecarlo import SimulationModel, simulate\n"
        "from simulation.network import Network\n"
        "model = SimulationModel.build(Network(['a', 'b'], [0], [1]), [1, 2], [2, 3], [4, 5])\n"
        "small = simulate(model, 1000, seed=3)\n"
        "print('numba' in sys.modules)\n"
        "big = simulate(model, 600_000, seed=3)\n"
        "print('numba' in sys.modules, big.finish_times[:1000].tolist() == small.finish_times.tolist())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != backend.ENV_VAR}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "True", "True"]
