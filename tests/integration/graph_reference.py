"""An independent schedule for graph tests: networkx and plain Python, no project code.

Durations are most-likely working days; COMPLETED tasks have none left, IN_PROGRESS tasks the
``(100 - percent)%`` share, NOT_STARTED tasks all of it. Times are working-day offsets from the
start of the first working day (Mon-Fri, no holidays) on or after today; a task occupying
``[s, s + d)`` ends at the end of workday ``ceil(s + d) - 1`` (see simulation/calendar.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import networkx as nx

EPS = 1e-6


@dataclass(frozen=True)
class RefTask:
    key: str
    most_likely: float
    status: str = "NOT_STARTED"
    percent: int = 0

    @property
    def remaining(self) -> float:
        if self.status == "COMPLETED":
            return 0.0
        if self.status == "IN_PROGRESS":
            return self.most_likely * (100 - self.percent) / 100.0
        return self.most_likely


@dataclass
class RefSchedule:
    graph: nx.DiGraph
    duration: float
    es: dict[str, float] = field(default_factory=dict)
    ef: dict[str, float] = field(default_factory=dict)
    ls: dict[str, float] = field(default_factory=dict)
    lf: dict[str, float] = field(default_factory=dict)

    def slack(self, key: str) -> float:
        return self.lf[key] - self.ef[key]

    def critical(self, key: str) -> bool:
        """Zero slack and work left: a completed task is never critical."""
        if self.graph.nodes[key]["task"].status == "COMPLETED":
            return False
        return self.slack(key) <= 1e-9 * max(self.duration, 1.0)

    def lag(self, pred: str, succ: str) -> float:
        return float(self.graph.edges[pred, succ]["lag"])


def build_graph(tasks: list[RefTask], edges: list[tuple[str, str, float]]) -> nx.DiGraph:
    g = nx.DiGraph()
    for t in tasks:
        g.add_node(t.key, d=t.remaining, task=t)
    for p, s, lag in edges:
        g.add_edge(p, s, lag=float(lag))
    assert nx.is_directed_acyclic_graph(g)
    return g


def reference_schedule(
    tasks: list[RefTask], edges: list[tuple[str, str, float]], delays: dict[str, float] | None = None
) -> RefSchedule:
    """Forward and backward pass; ``delays`` adds working days to tasks that are not completed."""
    g = build_graph(tasks, edges)
    for key, extra in (delays or {}).items():
        if g.nodes[key]["task"].status != "COMPLETED":
            g.nodes[key]["d"] += extra
    ref = RefSchedule(graph=g, duration=0.0)
    order = list(nx.topological_sort(g))
    for v in order:
        start = max([ref.ef[p] + g.edges[p, v]["lag"] for p in g.predecessors(v)], default=0.0)
        ref.es[v] = start
        ref.ef[v] = start + g.nodes[v]["d"]
    ref.duration = max(ref.ef.values(), default=0.0)
    # Cross-check the project length with networkx's longest path on an augmented DAG.
    aug = nx.DiGraph()
    aug.add_nodes_from(["^", "$"])
    for v in g.nodes:
        aug.add_edge("^", v, w=0.0)
        aug.add_edge(v, "$", w=g.nodes[v]["d"])
    for p, s, data in g.edges(data=True):
        aug.add_edge(p, s, w=g.nodes[p]["d"] + data["lag"])
    if g.nodes:
        assert abs(nx.dag_longest_path_length(aug, weight="w") - ref.duration) < EPS
    for v in reversed(order):
        finish = min([ref.ls[s] - g.edges[v, s]["lag"] for s in g.successors(v)], default=ref.duration)
        ref.lf[v] = finish
        ref.ls[v] = finish - g.nodes[v]["d"]
    return ref


# Working days -----------------------------------------------------------------------------


def today() -> date:
    return datetime.now(UTC).date()


def origin(as_of: date | None = None) -> date:
    day = as_of or today()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def workday(index: int, as_of: date | None = None) -> date:
    day = origin(as_of)
    left = index
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def finish_index(t: float) -> int:
    return max(math.ceil(t - 1e-9 * max(abs(t), 1.0)) - 1, 0)


def finish_date(t: float) -> date:
    return workday(finish_index(t))


# Documents --------------------------------------------------------------------------------


def plan_document(name: str, tasks: list[RefTask], edges: list[tuple[str, str, float]]) -> dict[str, Any]:
    """A plan document whose task titles are the keys (so tests can map ids back)."""
    entries = []
    for t in tasks:
        entry: dict[str, Any] = {
            "key": t.key,
            "title": t.key,
            "status": t.status,
            "estimate": {
                "optimisticDays": max(t.most_likely - 1, 0.5),
                "mostLikelyDays": t.most_likely,
                "pessimisticDays": t.most_likely + 2,
            },
        }
        if t.status == "IN_PROGRESS":
            entry["percentComplete"] = t.percent
        entries.append(entry)
    return {
        "name": name,
        "tasks": entries,
        "dependencies": [{"predecessor": p, "successor": s, "lagDays": lag} for p, s, lag in edges],
    }


def risk_score(ref: RefSchedule, key: str) -> float:
    """The documented formula: 100 * tightness * (0.5 + 0.5 * reach); 0 when completed."""
    g = ref.graph
    if g.nodes[key]["task"].status == "COMPLETED":
        return 0.0
    others = max(g.number_of_nodes() - 1, 1)
    reach = len(nx.descendants(g, key)) / others
    tightness = 1.0 / (1.0 + max(ref.slack(key), 0.0) / 5.0)
    return 100.0 * tightness * (0.5 + 0.5 * reach)


def check_critical_chain(ref: RefSchedule, path: list[str]) -> None:
    """``path`` is a chain of zero-slack tasks, each driven by the one before, from 0 to the finish.

    Completed tasks are never on it; being instants, they may join its steps (a completed task
    at the head of the plan drives the first task of the path from time 0).
    """
    g = ref.graph
    if not g.nodes:
        assert path == []
        return
    done = {k for k in g.nodes if g.nodes[k]["task"].status == "COMPLETED"}
    assert len(set(path)) == len(path)
    for key in path:
        assert key not in done, f"completed {key} is on the critical path"
        assert ref.critical(key), f"{key} on the critical path has slack {ref.slack(key)}"

    def joined(sources: list[str], target: Callable[[str], bool]) -> bool:
        """A driving chain leads from one of ``sources`` to a ``target`` task through completed tasks."""
        stack, seen = list(sources), set()
        while stack:
            u = stack.pop()
            if target(u):
                return True
            if u not in seen:
                seen.add(u)
                for s in g.successors(u):
                    if abs(ref.ef[u] + ref.lag(u, s) - ref.es[s]) < EPS and (s in done or target(s)):
                        stack.append(s)
        return False

    first = path[0] if path else None
    starts = [k for k in g.nodes if abs(ref.es[k]) < EPS and (k in done or k == first)]
    last = path[-1] if path else None
    steps: list[tuple[list[str], Callable[[str], bool]]] = [(starts, lambda k: k == first)] if path else []
    steps += [([a], lambda k, b=b: k == b) for a, b in itertools.pairwise(path)]
    finish = lambda k: (k in done or k == last) and abs(ref.ef[k] - ref.duration) < EPS  # noqa: E731
    steps.append(([last] if last else starts, finish))
    for sources, target in steps:
        assert joined(sources, target), f"no driving chain from {sources} through completed tasks"


def depths(g: nx.DiGraph, key: str, *, upstream: bool, max_depth: int | None = None) -> dict[str, int]:
    """Hop distance of every task reachable from ``key`` (excluded), upstream or downstream."""
    graph = g.reverse(copy=False) if upstream else g
    found = nx.single_source_shortest_path_length(graph, key, cutoff=max_depth)
    found.pop(key)
    return found
