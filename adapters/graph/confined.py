from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from planning.ports.graph import DependencyGraph, GraphEdge, GraphTask, PlanGraph

R = TypeVar("R")


class ThreadConfinedGraph:
    """Runs every call of a graph on one dedicated thread.

    A graph connection belongs to one thread (gremlite's SQLite connection insists, and one
    Neptune connection per process is the plan), while the API calls from a pool of worker
    threads. Calls are serialised; each returns or raises as the wrapped call did.

    A caller waits at most ``read_timeout_s`` for a read and ``write_timeout_s`` for a
    projection write (queueing behind other calls included), then gets TimeoutError, which
    callers treat as the graph being unavailable. A call that had not started by then is
    cancelled; one that had keeps running on the graph thread (it cannot be interrupted).
    ``clear`` and ``bulk_load`` (a rebuild) wait as long as they take.
    """

    def __init__(
        self,
        graph: DependencyGraph,
        close: Callable[[], None] | None = None,
        *,
        read_timeout_s: float | None = 10.0,
        write_timeout_s: float | None = 240.0,
    ) -> None:
        self._graph = graph
        self._close = close
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph")
        self._closed = False
        self.read_timeout_s = read_timeout_s
        self.write_timeout_s = write_timeout_s

    def _run(self, call: Callable[[], R], timeout_s: float | None = None) -> R:
        future = self._thread.submit(call)
        done, _ = wait([future], timeout=timeout_s)
        if not done:
            started = not future.cancel()
            raise TimeoutError(
                f"the graph did not answer within {timeout_s:g} s"
                + (" (the call still runs)" if started else " (it was queued behind slower calls)")
            )
        return future.result()

    def _write(self, call: Callable[[], None]) -> None:
        self._run(call, self.write_timeout_s)

    def upsert_task(self, task: GraphTask) -> None:
        self._write(lambda: self._graph.upsert_task(task))

    def remove_task(self, task_id: str) -> None:
        self._write(lambda: self._graph.remove_task(task_id))

    def upsert_dependency(self, edge: GraphEdge) -> None:
        self._write(lambda: self._graph.upsert_dependency(edge))

    def remove_dependency(self, dependency_id: str) -> None:
        self._write(lambda: self._graph.remove_dependency(dependency_id))

    def upsert_tasks(self, tasks: Sequence[GraphTask]) -> None:
        self._write(lambda: self._graph.upsert_tasks(tasks))

    def upsert_dependencies(self, edges: Sequence[GraphEdge]) -> None:
        self._write(lambda: self._graph.upsert_dependencies(edges))

    def remove_tasks(self, task_ids: Sequence[str]) -> None:
        self._write(lambda: self._graph.remove_tasks(task_ids))

    def remove_dependencies(self, dependency_ids: Sequence[str]) -> None:
        self._write(lambda: self._graph.remove_dependencies(dependency_ids))

    def remove_plan(self, plan_id: str) -> None:
        self._write(lambda: self._graph.remove_plan(plan_id))

    def plan_graph(self, plan_id: str) -> PlanGraph:
        return self._run(lambda: self._graph.plan_graph(plan_id), self.read_timeout_s)

    def plan_ids(self) -> list[str]:
        return self._run(self._graph.plan_ids, self.read_timeout_s)

    def clear(self) -> None:
        self._run(self._graph.clear)

    def bulk_load(self, tasks: Sequence[GraphTask], edges: Sequence[GraphEdge]) -> None:
        self._run(lambda: self._graph.bulk_load(tasks, edges))

    def close(self) -> None:
        """Close the connection on its own thread; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        if self._close is not None:
            self._run(self._close)
        self._thread.shutdown(wait=True)
