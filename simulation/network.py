"""Validated task network: index space, edges, topological order, levels.

Tasks are identified by their position ``0..n-1``.  Every edge is
finish-to-start with a lag in working days.  The *level* of a task is the
number of edges on the longest chain of predecessors leading to it, so all
predecessors of a level-``k`` task sit on levels ``< k``.  Both schedulers
(:mod:`simulation.cpm` and :mod:`simulation.montecarlo`) process whole levels
at once with numpy, which is what makes them fast; :class:`LevelPlan` holds
the precomputed edge permutations and segment boundaries for that.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


#: Rounds releasing more edges than this are processed with numpy.
_WIDE_ROUND = 64


class CycleError(ValueError):
    """The dependencies contain a cycle; ``cycle`` lists its task keys in order."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        path = " -> ".join((*self.cycle, self.cycle[0])) if self.cycle else ""
        super().__init__(f"dependency cycle: {path}")


@dataclass(frozen=True)
class Level:
    """Edges into (forward pass) or out of (backward pass) one level's tasks.

    ``nodes`` are the level's tasks that have such edges, sorted by edge count
    (descending, then index).  ``columns[k]`` / ``lags[k]`` hold the far end
    and lag of the ``k``-th edge of the first ``len(columns[k])`` nodes, so a
    pass reduces column by column over a *prefix* of ``nodes`` with in-place
    ``np.maximum`` / ``np.minimum`` (much faster than ``ufunc.reduceat`` over
    2-D blocks).  ``free`` are the level's tasks without such edges.
    """

    nodes: IntArray
    columns: tuple[IntArray, ...]
    lags: tuple[FloatArray | None, ...]
    free: IntArray


@dataclass(frozen=True)
class LevelPlan:
    forward: tuple[Level, ...]
    backward: tuple[Level, ...]


class Network:
    """An acyclic task network with validated finish-to-start edges."""

    def __init__(
        self,
        keys: Sequence[str],
        pred: npt.ArrayLike,
        succ: npt.ArrayLike,
        lag: npt.ArrayLike | None = None,
    ) -> None:
        self.keys: tuple[str, ...] = tuple(keys)
        n = len(self.keys)
        if len(set(self.keys)) != n:
            raise ValueError("task keys must be unique")
        self.pred: IntArray = np.asarray(pred, dtype=np.int64).reshape(-1)
        self.succ: IntArray = np.asarray(succ, dtype=np.int64).reshape(-1)
        if lag is None:
            self.lag: FloatArray = np.zeros(self.pred.shape, dtype=np.float64)
        else:
            self.lag = np.asarray(lag, dtype=np.float64).reshape(-1)
        if not (self.pred.shape == self.succ.shape == self.lag.shape):
            raise ValueError("pred, succ and lag must have the same length")
        if self.pred.size and (min(self.pred.min(), self.succ.min()) < 0 or max(self.pred.max(), self.succ.max()) >= n):
            raise ValueError("edge endpoint out of range")
        if not np.all(np.isfinite(self.lag)):
            raise ValueError("lags must be finite")
        self.index: dict[str, int] = {k: i for i, k in enumerate(self.keys)}
        self.order, self.level = self._topological_levels()
        self.has_negative_lag = bool(np.any(self.lag < 0))

    @classmethod
    def from_keys(cls, keys: Sequence[str], edges: Sequence[tuple[str, str, float]]) -> Network:
        """Build from task keys and ``(predecessor, successor, lag)`` triples."""
        index = {k: i for i, k in enumerate(keys)}
        pred, succ, lag = [], [], []
        for p, s, g in edges:
            for k in (p, s):
                if k not in index:
                    raise ValueError(f"dependency refers to unknown task key {k!r}")
            pred.append(index[p])
            succ.append(index[s])
            lag.append(float(g))
        return cls(keys, pred, succ, lag)

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def depth(self) -> int:
        """Number of levels."""
        return int(self.level.max()) + 1 if self.size else 0

    def _topological_levels(self) -> tuple[IntArray, IntArray]:
        """Kahn's algorithm in rounds; the round number is the level.

        Wide rounds are processed with numpy, narrow ones (deep graphs) with a
        plain loop, so both shapes of graph cost O(n + m) with small constants.
        Raises :class:`CycleError` when some tasks are never released.
        """
        n = self.size
        by_pred = np.argsort(self.pred, kind="stable")
        ptr = np.searchsorted(self.pred[by_pred], np.arange(n + 1)).astype(np.int64)
        out = self.succ[by_pred]
        ptr_list: list[int] = ptr.tolist()
        out_list: list[int] = out.tolist()
        indeg = np.bincount(self.succ, minlength=n).astype(np.int64)
        level = np.zeros(n, dtype=np.int64)
        frontier = np.flatnonzero(indeg == 0).astype(np.int64)
        rounds: list[IntArray] = []
        depth = 0
        while frontier.size:
            rounds.append(frontier)
            starts = ptr[frontier]
            counts = ptr[frontier + 1] - starts
            total = int(counts.sum())
            if total > _WIDE_ROUND:
                offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
                targets = out[offsets + np.arange(total)]
                released, dec = np.unique(targets, return_counts=True)
                indeg[released] -= dec
                nxt = released[indeg[released] == 0]
            else:
                ready: list[int] = []
                for u in frontier.tolist():
                    for v in out_list[ptr_list[u] : ptr_list[u + 1]]:
                        left = int(indeg[v]) - 1
                        indeg[v] = left
                        if left == 0:
                            ready.append(v)
                nxt = np.asarray(sorted(ready), dtype=np.int64)
            depth += 1
            level[nxt] = depth
            frontier = nxt
        order = np.concatenate(rounds) if rounds else np.zeros(0, dtype=np.int64)
        if order.size < n:
            done = np.zeros(n, dtype=bool)
            done[order] = True
            raise CycleError(self._find_cycle(set(np.flatnonzero(~done).tolist())))
        return order, level

    def _find_cycle(self, remaining: set[int]) -> list[str]:
        graph: nx.DiGraph[int] = nx.DiGraph()
        for p, s in zip(self.pred.tolist(), self.succ.tolist(), strict=True):
            if p in remaining and s in remaining:
                graph.add_edge(p, s)
        start = min(remaining)
        try:
            edges = nx.find_cycle(graph, source=start)
        except nx.NetworkXNoCycle:  # pragma: no cover - Kahn guarantees one exists
            edges = nx.find_cycle(graph)
        return [self.keys[u] for u, _v in edges]

    @functools.cached_property
    def plan(self) -> LevelPlan:
        """Per-level edge groupings for the vectorised passes (built on first use)."""
        depth = self.depth
        forward = self._levels(target=self.succ, source=self.pred, depth=depth)
        backward = self._levels(target=self.pred, source=self.succ, depth=depth)
        return LevelPlan(forward=forward, backward=tuple(reversed(backward)))

    def _levels(self, target: IntArray, source: IntArray, depth: int) -> tuple[Level, ...]:
        """Group edges by the level of ``target`` into per-position columns."""
        n = self.size
        degree = np.bincount(target, minlength=n)
        node_level = self.level
        # Tasks of each level with edges: by level, then degree desc, then index.
        node_perm = np.lexsort((np.arange(n), -degree, node_level))
        rank = np.empty(n, dtype=np.int64)
        rank[node_perm] = np.arange(n)
        # Position of each edge among its target's edges (stable by source).
        e_perm = np.lexsort((source, target))
        t_sorted = target[e_perm]
        first = np.searchsorted(t_sorted, t_sorted, side="left")
        pos = np.empty(target.size, dtype=np.int64)
        pos[e_perm] = np.arange(target.size) - first
        e_level = node_level[target]
        # Edges ordered by (level, position, target rank): each (level, position)
        # group is a prefix of that level's node list.
        order = np.lexsort((rank[target], pos, e_level))
        lvl_o, pos_o, src_o, lag_o = e_level[order], pos[order], source[order], self.lag[order]
        group_key = lvl_o * (int(pos.max()) + 1 if pos.size else 1) + pos_o
        if order.size:
            cuts = np.flatnonzero(np.r_[True, group_key[1:] != group_key[:-1]])
            cuts_end = np.r_[cuts[1:], order.size]
        else:
            cuts = cuts_end = np.zeros(0, dtype=np.int64)
        node_bounds = np.searchsorted(node_level[node_perm], np.arange(depth + 1))
        cols: list[list[IntArray]] = [[] for _ in range(depth)]
        lags: list[list[FloatArray | None]] = [[] for _ in range(depth)]
        for c0, c1 in zip(cuts.tolist(), cuts_end.tolist(), strict=True):
            k = int(lvl_o[c0])
            cols[k].append(src_o[c0:c1].astype(np.int64))
            g = lag_o[c0:c1].astype(np.float64)
            lags[k].append(g if g.any() else None)
        levels = []
        for k in range(depth):
            members = node_perm[node_bounds[k] : node_bounds[k + 1]]
            with_edges = degree[members] > 0
            levels.append(
                Level(
                    nodes=members[with_edges].astype(np.int64),
                    columns=tuple(cols[k]),
                    lags=tuple(lags[k]),
                    free=np.sort(members[~with_edges]).astype(np.int64),
                )
            )
        return tuple(levels)
