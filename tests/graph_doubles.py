"""Test doubles of the DependencyGraph port, injected through ``bootstrap(wrap_graph=...)``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from planning.ports.graph import DependencyGraph, GraphEdge, GraphTask, PlanGraph

WRITES = frozenset(
    {
        "upsert_task",
        "upsert_tasks",
        "remove_task",
        "upsert_dependency",
        "upsert_dependencies",
        "remove_dependency",
        "remove_plan",
        "remove_tasks",
        "remove_dependencies",
    }
)


def _ids(args: tuple[Any, ...]) -> tuple[str, ...]:
    """The ids a call names: task and dependency ids, or the id passed as is."""
    found: list[str] = []
    for arg in args:
        items = arg if isinstance(arg, (list, tuple)) else [arg]
        for item in items:
            if isinstance(item, GraphTask):
                found.append(item.task_id)
            elif isinstance(item, GraphEdge):
                found.append(item.dependency_id)
            elif isinstance(item, str):
                found.append(item)
    return tuple(found)


class SwitchableGraph:
    """The real graph, with faults switched on and off by the test.

    ``down``: every call fails as a lost connection does. ``writes_allowed``: that many more
    writes pass, then writes fail. ``gate``: when set, the calls named in ``gate_calls``
    (the writes, unless the test says otherwise) wait for it, at most ``gate_timeout_s`` (a
    slow graph); ``entered`` is set when a call starts waiting and ``waiting`` counts the calls
    held at the gate right now, so a test can prove that something returned while a graph call
    was still blocked. ``calls`` counts calls made while faulty.

    ``history`` records every write that reached the real graph, as ``(name, ids)`` in the
    order they were made; pass one list to several doubles (one per Application) to see the
    order across them.
    """

    def __init__(self, real: DependencyGraph, *, history: list[tuple[str, tuple[str, ...]]] | None = None) -> None:
        self.real = real
        self.down = False
        self.writes_allowed: int | None = None
        self.gate: threading.Event | None = None
        self.gate_calls: frozenset[str] = WRITES
        self.gate_timeout_s = 30.0
        self.entered = threading.Event()
        self.waiting = 0
        self.calls = 0
        self.history: list[tuple[str, tuple[str, ...]]] = [] if history is None else history
        self._count = threading.Lock()

    def _call(self, name: str, *args: Any) -> Any:
        if self.down:
            self.calls += 1
            raise ConnectionError(f"graph unreachable ({name})")
        if name in WRITES and self.writes_allowed is not None:
            if self.writes_allowed <= 0:
                self.calls += 1
                raise ConnectionError("graph connection lost mid-batch")
            self.writes_allowed -= 1
        gate = self.gate
        if gate is not None and name in self.gate_calls:
            with self._count:
                self.waiting += 1
            self.entered.set()
            try:
                gate.wait(self.gate_timeout_s)
            finally:
                with self._count:
                    self.waiting -= 1
        method: Callable[..., Any] = getattr(self.real, name)
        result = method(*args)
        if name in WRITES:
            self.history.append((name, _ids(args)))
        return result

    def upsert_task(self, task: GraphTask) -> None:
        self._call("upsert_task", task)

    def upsert_tasks(self, tasks: Sequence[GraphTask]) -> None:
        self._call("upsert_tasks", tasks)

    def remove_task(self, task_id: str) -> None:
        self._call("remove_task", task_id)

    def upsert_dependency(self, edge: GraphEdge) -> None:
        self._call("upsert_dependency", edge)

    def upsert_dependencies(self, edges: Sequence[GraphEdge]) -> None:
        self._call("upsert_dependencies", edges)

    def remove_dependency(self, dependency_id: str) -> None:
        self._call("remove_dependency", dependency_id)

    def remove_tasks(self, task_ids: Sequence[str]) -> None:
        self._call("remove_tasks", task_ids)

    def remove_dependencies(self, dependency_ids: Sequence[str]) -> None:
        self._call("remove_dependencies", dependency_ids)

    def remove_plan(self, plan_id: str) -> None:
        self._call("remove_plan", plan_id)

    def plan_graph(self, plan_id: str) -> PlanGraph:
        result: PlanGraph = self._call("plan_graph", plan_id)
        return result

    def plan_ids(self) -> list[str]:
        result: list[str] = self._call("plan_ids")
        return result

    def clear(self) -> None:
        self._call("clear")

    def bulk_load(self, tasks: Sequence[GraphTask], edges: Sequence[GraphEdge]) -> None:
        self._call("bulk_load", tasks, edges)


class GatedNoGraph:
    """A graph that holds nothing; ``upsert_task`` waits for ``gate`` (a call the graph never
    finishes), counting the calls that started. Usable from any thread."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.upserts = 0

    def upsert_task(self, task: GraphTask) -> None:
        self.upserts += 1
        self.entered.set()
        self.gate.wait(30)

    def plan_graph(self, plan_id: str) -> PlanGraph:
        return PlanGraph((), ())

    def plan_ids(self) -> list[str]:
        return []
