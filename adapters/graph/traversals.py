"""``GremlinDependencyGraph``: the ``DependencyGraph`` port in gremlinpython bytecode traversals.

The same traversals run on Neptune and on gremlite 0.1.2, so they keep to the steps both
support. Steps deliberately not used (checked against ``gremlite/steps.py``, whose step table
is ``all_known_initial_producer_steps``):

* ``mergeV``/``mergeE``: not in gremlite; upserts use ``fold().coalesce(unfold(), addV(...))``.
* ``dedup``: not in gremlite; ``plan_ids`` removes repeats client side.
* ``group``/``groupCount``: not in gremlite; ``plan_graph`` reads flat rows.
* ``inject``: not in gremlite; a batch starts from :func:`_one_traverser` (the fold of a lookup
  that finds nothing) and runs one ``union()`` branch per element instead.
* ``property(T.id, ...)``: gremlite rejects non-string keys (see ``schema``).
* ``discard`` (gremlinpython 3.8's name for ``none``): gremlite rejects it; we pin 3.7, whose
  ``iterate()`` appends ``none()``, which both targets accept.
* ``repeat()`` path enumeration: never used; the whole plan is read flat and the caller
  builds the graph in memory.
* ``property(k, None)``: Neptune does not store nulls; an absent duration is dropped with
  ``sideEffect(properties(k).drop())`` and read back as ``None``.

Vertex properties are written with ``Cardinality.single``: Neptune's default vertex
cardinality is ``set``, where a plain ``property(k, v)`` would add a second value instead of
replacing the first. Edge properties take no cardinality.

Writes look elements up with ``has(key, value).hasLabel(label)``, not ``has(label, key, value)``:
gremlite plans the latter as a scan of every vertex (or edge) with the label, filtered by the
property (about 2 ms per lookup in a 2,000-task graph), the former as one index lookup on
(property, value) (about 0.3 ms, and none at all for a value the graph has never stored). On
Neptune both are the same index lookup.

Writes of many elements go in batches of ``batch_size`` elements per traversal, one
``union()`` branch per element (:func:`_upsert_tasks_traversal`, :func:`_upsert_edges_traversal`):
gremlite evaluates a chain of steps recursively, so chaining the upserts one after another
would reach Python's recursion limit at about 50 elements, while union branches run one after
the other at a constant depth. Neptune advises 50-100 elements per request. A batch of edges
looks each dependency id up with a mid-traversal ``E()`` (TinkerPop 3.7, as pinned; gremlite
has it too).

Each method submits whole traversals through the :class:`~.resilience.RetryingExecutor`;
every traversal is idempotent, so a retry after an unknown outcome is safe.
``round_trips`` counts submissions (retries included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

from gremlin_python.process.graph_traversal import (
    GraphTraversal,
    GraphTraversalSource,
    __,
)
from gremlin_python.process.traversal import Cardinality, Direction, P, T

from planning.ports.graph import GraphEdge, GraphTask, PlanGraph

from . import schema as s
from .errors import MissingEndpointError
from .resilience import RetryingExecutor

R = TypeVar("R")
#: Where a chained step is appended: ``g`` (a GraphTraversalSource) or a GraphTraversal. gremlinpython
#: is untyped (both are ``Any`` to mypy), hence the plain alias.
Source: TypeAlias = Any

#: Elements (task upserts or edge upserts) per traversal in batched writes: what Neptune advises
#: for batched writes (50-100 per request, one transaction each), and the point past which
#: gremlite gains nothing (its cost is per element; see the module docstring).
DEFAULT_BATCH_SIZE = 100
#: Vertices dropped per traversal by clear(): Neptune drops big graphs faster (and without
#: hitting the evaluation timeout) in slices.
DEFAULT_CLEAR_BATCH_SIZE = 500


def _last_wins(items: Sequence[Any], key: Callable[[Any], str]) -> list[Any]:
    """Items with a repeated key collapsed to the last one, in order of last appearance."""
    latest = {key(item): item for item in items}
    return list(latest.values())


def _chunks(items: Sequence[R], size: int) -> list[Sequence[R]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _vertex(t: Source, task_id: str) -> GraphTraversal:
    """The task's vertex, found by one index lookup on gremlite and Neptune (module docstring)."""
    return t.V().has(s.TASK_ID, task_id).has_label(s.TASK)


#: A task id that no task has (the domain's ids are never empty).
_NO_TASK_ID = ""


def _one_traverser(g: GraphTraversalSource) -> GraphTraversal:
    """Exactly one traverser (an empty list) to start a batch's ``union()`` from.

    The portable stand-in for ``g.inject(0)``, which gremlite lacks: ``fold()`` of an index
    lookup that finds nothing (gremlite skips even that while no property holds ``""``).
    """
    return g.V().has(s.TASK_ID, _NO_TASK_ID).fold()


def _upsert_task_step(t: Source, task: GraphTask) -> GraphTraversal:
    """Append the upsert of one task vertex; leaves exactly one traverser (the vertex)."""
    out = (
        _vertex(t, task.task_id)
        .fold()
        .coalesce(__.unfold(), __.add_v(s.TASK).property(Cardinality.single, s.TASK_ID, task.task_id))
        .property(Cardinality.single, s.PLAN_ID, task.plan_id)
        .property(Cardinality.single, s.STATUS, task.status)
        .property(Cardinality.single, s.PERCENT_COMPLETE, int(task.percent_complete))
    )
    durations = (task.optimistic_days, task.most_likely_days, task.pessimistic_days)
    for key, value in zip(s.DURATION_KEYS, durations, strict=True):
        if value is None:
            out = out.side_effect(__.properties(key).drop())
        else:
            out = out.property(Cardinality.single, key, float(value))
    return out


def _upsert_edge_step(t: Source, edge: GraphEdge, label: str) -> GraphTraversal:
    """Append the upsert of one edge (successor -> predecessor).

    Leaves one traverser (the edge) when both vertices exist, none otherwise. The edge is
    found by its dependency id among the predecessor's incoming edges; an edge with that id
    between other vertices was already dropped by :func:`_drop_moved_edge`.
    """
    return (
        _vertex(t, edge.successor_id)
        .as_(label)
        .V()
        .has(s.TASK_ID, edge.predecessor_id)
        .has_label(s.TASK)
        .coalesce(
            __.in_e(s.DEPENDS_ON).has(s.DEPENDENCY_ID, edge.dependency_id),
            __.add_e(s.DEPENDS_ON).from_(label).property(s.DEPENDENCY_ID, edge.dependency_id),
        )
        .property(s.PLAN_ID, edge.plan_id)
        .property(s.LAG_DAYS, float(edge.lag_days))
    )


def _drop_moved_edge(edge: GraphEdge) -> GraphTraversal:
    """Drop an edge carrying this dependency id but joining other vertices (leaves nothing).

    Lets an upsert change a dependency's endpoints; an edge already in place is kept. Its
    own lookup per edge, not one ``within()`` lookup per batch: telling each found edge's
    endpoints apart by dependency id in one traversal would test every found edge against
    every edge of the batch.
    """
    in_place = __.and_(
        __.out_v().has(s.TASK_ID, edge.successor_id),
        __.in_v().has(s.TASK_ID, edge.predecessor_id),
    )
    return __.E().has(s.DEPENDENCY_ID, edge.dependency_id).has_label(s.DEPENDS_ON).not_(in_place).drop()


def _upsert_tasks_traversal(g: GraphTraversalSource, tasks: Sequence[GraphTask]) -> GraphTraversal:
    """One traversal upserting ``tasks``; it yields one traverser per task."""
    return _one_traverser(g).union(*(_upsert_task_step(__, task) for task in tasks))


def _upsert_edges_traversal(g: GraphTraversalSource, edges: Sequence[GraphEdge]) -> GraphTraversal:
    """One traversal upserting ``edges``; it yields one traverser per edge whose vertices exist.

    The moved-edge drops come first: ``union()`` runs its branches in order for its one
    traverser (TinkerPop's semantics, and gremlite's), so each edge's stale copy is gone
    before its upsert looks for the edge among its predecessor's incoming edges.
    """
    drops = (_drop_moved_edge(edge) for edge in edges)
    upserts = (_upsert_edge_step(__, edge, f"s{i}") for i, edge in enumerate(edges))
    return _one_traverser(g).union(*drops, *upserts)


class GremlinDependencyGraph:
    """The dependency graph on Neptune or gremlite, through one :class:`RetryingExecutor`."""

    def __init__(
        self,
        executor: RetryingExecutor,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clear_batch_size: int = DEFAULT_CLEAR_BATCH_SIZE,
    ) -> None:
        if batch_size < 1 or clear_batch_size < 1:
            raise ValueError("batch sizes must be positive")
        self._executor = executor
        self.batch_size = batch_size
        self.clear_batch_size = clear_batch_size
        self.round_trips = 0

    # -- plumbing -----------------------------------------------------------------------

    def _submit(self, build: Callable[[GraphTraversalSource], R]) -> R:
        """Submit one traversal (``build`` must end it with a terminal step), with retries."""

        def counted(g: GraphTraversalSource) -> R:
            self.round_trips += 1
            return build(g)

        return self._executor.run(counted)

    def close(self) -> None:
        self._executor.close()

    # -- writes -------------------------------------------------------------------------

    def upsert_task(self, task: GraphTask) -> None:
        self._upsert_tasks([task])

    def _upsert_tasks(self, tasks: Sequence[GraphTask]) -> None:
        """One traversal for up to ``batch_size`` tasks."""
        self._submit(lambda g: _upsert_tasks_traversal(g, tasks).iterate())

    def remove_task(self, task_id: str) -> None:
        # Dropping a vertex drops its incident edges (Neptune, TinkerPop and gremlite alike).
        self._submit(lambda g: _vertex(g, task_id).drop().iterate())

    def upsert_dependency(self, edge: GraphEdge) -> None:
        self._upsert_edges([edge])

    def _upsert_edges(self, edges: Sequence[GraphEdge]) -> None:
        """One traversal for up to ``batch_size`` edges, counting the edges it wrote.

        An edge whose vertex is missing is skipped by its branch while the others are written;
        a short count costs one more round trip to name the missing vertices.
        """
        written = self._submit(lambda g: int(_upsert_edges_traversal(g, edges).count().next()))
        if written < len(edges):
            self._raise_missing_endpoints(edges)

    def _raise_missing_endpoints(self, edges: Sequence[GraphEdge]) -> None:
        wanted = {e.successor_id for e in edges} | {e.predecessor_id for e in edges}
        present = set(
            self._submit(
                lambda g: g.V().has(s.TASK_ID, P.within(sorted(wanted))).has_label(s.TASK).values(s.TASK_ID).to_list()
            )
        )
        missing = wanted - present
        failing = [e.dependency_id for e in edges if e.successor_id in missing or e.predecessor_id in missing]
        raise MissingEndpointError(failing, missing)

    def remove_dependency(self, dependency_id: str) -> None:
        self._submit(lambda g: g.E().has(s.DEPENDENCY_ID, dependency_id).has_label(s.DEPENDS_ON).drop().iterate())

    def upsert_tasks(self, tasks: Sequence[GraphTask]) -> None:
        for chunk in _chunks(_last_wins(tasks, lambda t: t.task_id), self.batch_size):
            self._upsert_tasks(chunk)

    def upsert_dependencies(self, edges: Sequence[GraphEdge]) -> None:
        for chunk in _chunks(_last_wins(edges, lambda e: e.dependency_id), self.batch_size):
            self._upsert_edges(chunk)

    def remove_tasks(self, task_ids: Sequence[str]) -> None:
        """Drop the tasks' vertices (and so their edges), ``batch_size`` ids per traversal."""
        for chunk in _chunks(sorted(set(task_ids)), self.batch_size):
            ids = list(chunk)
            self._submit(lambda g, ids=ids: g.V().has(s.TASK_ID, P.within(ids)).has_label(s.TASK).drop().iterate())

    def remove_dependencies(self, dependency_ids: Sequence[str]) -> None:
        """Drop the edges, ``batch_size`` dependency ids per traversal."""
        for chunk in _chunks(sorted(set(dependency_ids)), self.batch_size):
            ids = list(chunk)
            self._submit(
                lambda g, ids=ids: g.E().has(s.DEPENDENCY_ID, P.within(ids)).has_label(s.DEPENDS_ON).drop().iterate()
            )

    def remove_plan(self, plan_id: str) -> None:
        """Drop the plan's vertices (and so its edges), a slice per traversal."""
        size = self.clear_batch_size
        while True:
            dropped = self._submit(
                lambda g: (
                    g.V().has(s.PLAN_ID, plan_id).has_label(s.TASK).limit(size).side_effect(__.drop()).count().next()
                )
            )
            if dropped < size:
                return

    def clear(self) -> None:
        """Drop every vertex (and so every edge), a slice per traversal."""
        size = self.clear_batch_size
        while True:
            dropped = self._submit(lambda g: g.V().limit(size).side_effect(__.drop()).count().next())
            if dropped < size:
                return

    def bulk_load(self, tasks: Sequence[GraphTask], edges: Sequence[GraphEdge]) -> None:
        """Upsert all tasks, then all edges, ``batch_size`` elements per traversal.

        ``ceil(tasks / batch_size) + ceil(edges / batch_size)`` round trips (a repeated task or
        dependency id counts once, with its last value). A load is not one transaction (Neptune
        runs each request in its own, and a large one would time out): a failure part-way leaves
        the batches before it written. Every batch is idempotent, so the executor re-submits a
        batch whose outcome is unknown (a dropped connection, a write conflict) without
        duplicating anything, and a load that failed for good is repaired by running it again
        (``planner graph rebuild`` clears the graph and loads it again).
        """
        self.upsert_tasks(tasks)
        self.upsert_dependencies(edges)

    # -- reads --------------------------------------------------------------------------

    def plan_graph(self, plan_id: str) -> PlanGraph:
        """Two round trips: the plan's vertices, then its edges, both as ``elementMap()`` rows.

        An edge's row names its end vertices by vertex id, which the vertex rows translate to
        task ids; that is over twice as fast as asking each edge for its ends' task ids. An end
        outside the plan's vertices (the domain never makes one) costs a third round trip.
        """
        task_rows = self._submit(lambda g: g.V().has(s.TASK, s.PLAN_ID, plan_id).element_map(*s.TASK_KEYS).to_list())
        edge_rows = self._submit(
            lambda g: (
                g.E()
                .has(s.DEPENDS_ON, s.PLAN_ID, plan_id)
                .element_map(s.DEPENDENCY_ID, s.PLAN_ID, s.LAG_DAYS)
                .to_list()
            )
        )
        task_of_vertex = {row[T.id]: str(row[s.TASK_ID]) for row in task_rows}
        strangers = {
            row[end][T.id] for row in edge_rows for end in (Direction.OUT, Direction.IN)
        } - task_of_vertex.keys()
        if strangers:
            found = self._submit(lambda g: g.V(*sorted(strangers, key=str)).element_map(s.TASK_ID).to_list())
            task_of_vertex.update((r[T.id], str(r[s.TASK_ID])) for r in found)
        tasks = sorted((s.task_from_row(r) for r in task_rows), key=lambda t: t.task_id)
        edges = sorted(
            (
                GraphEdge(
                    dependency_id=str(row[s.DEPENDENCY_ID]),
                    plan_id=str(row[s.PLAN_ID]),
                    # depends_on runs from the successor (OUT) to its predecessor (IN).
                    successor_id=task_of_vertex[row[Direction.OUT][T.id]],
                    predecessor_id=task_of_vertex[row[Direction.IN][T.id]],
                    lag_days=float(row.get(s.LAG_DAYS, 0.0)),
                )
                for row in edge_rows
            ),
            key=lambda e: e.dependency_id,
        )
        return PlanGraph(tasks=tuple(tasks), edges=tuple(edges))

    def plan_ids(self) -> list[str]:
        # dedup() is missing from gremlite 0.1.2: read one value per task, dedupe here.
        values = self._submit(lambda g: g.V().has_label(s.TASK).values(s.PLAN_ID).to_list())
        return sorted(set(values))
