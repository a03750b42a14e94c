"""Per-request DataLoaders, one class per access pattern.

Each batch runs its service call in a worker thread (the stores are synchronous) and answers
every key of the batch from one or two SQL statements, so the statements a query costs do not
grow with the number of rows it returns. Every call is made with the request's ``Access``: what
the caller may not read is not there (None, or left out), decided by the services.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from planning.access import Access
from planning.model import Dependency, ExternalEvent, Plan, Task
from planning.model.membership import PlanMember, PlanRole
from planning.model.simulation import Simulation
from planning.ports import GraphUnavailable
from planning.ports.planner import PlannerSyncState
from planning.services.registry import PlanningServices
from resolvers.errors import Unavailable
from resolvers.graph_views import PlanScheduleView


class PlanByIdLoader(DataLoader[str, Plan | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[Plan | None]:
            return await asyncio.to_thread(services.plans.get_many, access, ids)

        super().__init__(load_fn=load)


class TaskByIdLoader(DataLoader[str, Task | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[Task | None]:
            return await asyncio.to_thread(services.tasks.get_many, access, ids)

        super().__init__(load_fn=load)


class TaskListLoader(DataLoader[tuple[str, tuple[str, ...]], list[Task]]):
    """Lists of tasks of one plan by their ids (a critical path, a task's reach), keyed by
    ``(plan_id, ids)``: readable ones only, in order.

    One future per list rather than per task (a critical path of 500 tasks is one key). Tasks that
    ``tasks`` (the request's task loader) holds are taken from there; for the rest, each plan's
    whole task list is read once (``TaskService.tasks_of_plan``, kept between requests until the
    plan changes), and what the lists take from it is primed in ``tasks`` for later fields.
    """

    def __init__(self, services: PlanningServices, access: Access, tasks: TaskByIdLoader) -> None:
        async def load(lists: list[tuple[str, tuple[str, ...]]]) -> Sequence[list[Task]]:
            held: dict[str, Task | None] = {}
            missing: dict[str, list[str]] = {}
            for plan_id, ids in lists:
                for task_id in ids:
                    if task_id in held:
                        continue
                    task = known(tasks, task_id)
                    if task is UNKNOWN:
                        missing.setdefault(plan_id, []).append(task_id)
                    held[task_id] = None if task is UNKNOWN else task

            def read() -> dict[str, Task | None]:
                found: dict[str, Task | None] = {}
                for plan_id, task_ids in missing.items():
                    of_plan = services.tasks.tasks_of_plan(access, plan_id)
                    found.update((i, of_plan.get(i)) for i in task_ids)
                return found

            if missing:
                found = await asyncio.to_thread(read)
                tasks.prime_many(found)
                held.update(found)
            return [[task for i in ids if (task := held[i]) is not None] for _plan_id, ids in lists]

        super().__init__(load_fn=load)


class TaskCountByPlanLoader(DataLoader[str, int]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[int]:
            return await asyncio.to_thread(services.plans.task_counts, access, ids)

        super().__init__(load_fn=load)


def dependencies_by_task(ids: Sequence[str], found: Sequence[Dependency]) -> dict[str, list[Dependency]]:
    """``found`` grouped by each of ``ids`` they touch (as predecessor or successor), in their order."""
    by_task: dict[str, list[Dependency]] = {i: [] for i in ids}
    for dep in found:
        for end in (dep.predecessor_id, dep.successor_id):
            edges = by_task.get(end)
            if edges is not None:
                edges.append(dep)
    return by_task


class DependenciesByTaskLoader(DataLoader[str, list[Dependency]]):
    """Every dependency in which the task is the predecessor or the successor."""

    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[list[Dependency]]:
            found = await asyncio.to_thread(services.dependencies.touching, access, ids)
            by_task = dependencies_by_task(ids, found)
            return [by_task[i] for i in ids]

        super().__init__(load_fn=load)


class DependenciesByPlanLoader(DataLoader[str, list[Dependency]]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[list[Dependency]]:
            found = await asyncio.to_thread(services.dependencies.for_plans, access, ids)
            by_plan: dict[str, list[Dependency]] = defaultdict(list)
            for dep in found:
                by_plan[dep.plan_id].append(dep)
            return [by_plan.get(i, []) for i in ids]

        super().__init__(load_fn=load)


class ExternalEventByIdLoader(DataLoader[str, ExternalEvent | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[ExternalEvent | None]:
            return await asyncio.to_thread(services.external_events.get_many, access, ids)

        super().__init__(load_fn=load)


class ExternalEventsByTaskLoader(DataLoader[str, list[ExternalEvent]]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[list[ExternalEvent]]:
            return await asyncio.to_thread(services.external_events.affecting, access, ids)

        super().__init__(load_fn=load)


class ScheduleByPlanLoader(DataLoader[str, PlanScheduleView | None]):
    """A plan's dependency graph (one or two round trips) and its forecast.

    The forecast is the critical-path schedule from today with the delays of the plan's OPEN
    certain external events; every graph field of the request answers from it. Plans that
    ``plans`` (the request's plan loader) holds already are not read again.
    """

    def __init__(self, services: PlanningServices, access: Access, plans: PlanByIdLoader) -> None:
        def read(ids: list[str], held: dict[str, Plan | None]) -> list[PlanScheduleView | None]:
            missing = [i for i in ids if i not in held]
            found = dict(held, **dict(zip(missing, services.plans.get_many(access, missing), strict=True)))
            views: list[PlanScheduleView | None] = []
            for plan in (found[i] for i in ids):
                if plan is None:
                    views.append(None)
                    continue
                delays = services.graph.forecast_delays_of(access, plan.id)  # before the graph (see there)
                try:
                    graph = services.graph.plan_graph(access, plan.id)
                except (GraphUnavailable, ConnectionError, OSError, TimeoutError) as exc:
                    # Only an unreachable graph is the client's to retry; anything else is a fault.
                    raise Unavailable("the dependency graph cannot be read right now; try again shortly") from exc
                schedule = services.graph.schedule(plan, graph, delays) if graph.tasks else None
                views.append(PlanScheduleView(plan, graph, schedule))
            return views

        async def load(ids: list[str]) -> Sequence[PlanScheduleView | None]:
            held = {i: plan for i in ids if (plan := known(plans, i)) is not UNKNOWN}
            return await asyncio.to_thread(read, ids, held)

        super().__init__(load_fn=load)


class SimulationByIdLoader(DataLoader[str, Simulation | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[Simulation | None]:
            return await asyncio.to_thread(services.simulations.get_many, access, ids)

        super().__init__(load_fn=load)


class LatestSimulationByPlanLoader(DataLoader[str, Simulation | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[Simulation | None]:
            return await asyncio.to_thread(services.simulations.latest, access, ids)

        super().__init__(load_fn=load)


class MembersByPlanLoader(DataLoader[str, list[PlanMember]]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[list[PlanMember]]:
            return await asyncio.to_thread(services.members.for_plans, access, ids)

        super().__init__(load_fn=load)


class MyRoleByPlanLoader(DataLoader[str, PlanRole | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[PlanRole | None]:
            return await asyncio.to_thread(services.members.roles, access, ids)

        super().__init__(load_fn=load)


class PlannerSyncByPlanLoader(DataLoader[str, PlannerSyncState | None]):
    def __init__(self, services: PlanningServices, access: Access) -> None:
        async def load(ids: list[str]) -> Sequence[PlannerSyncState | None]:
            service = services.planner_sync
            if service is None:
                return [None for _ in ids]
            return await asyncio.to_thread(service.states, access, ids)

        super().__init__(load_fn=load)


class Loaders:
    def __init__(self, services: PlanningServices, access: Access) -> None:
        self.plan_by_id = PlanByIdLoader(services, access)
        self.task_by_id = TaskByIdLoader(services, access)
        self.task_lists = TaskListLoader(services, access, self.task_by_id)
        self.task_count_by_plan = TaskCountByPlanLoader(services, access)
        self.dependencies_by_task = DependenciesByTaskLoader(services, access)
        self.dependencies_by_plan = DependenciesByPlanLoader(services, access)
        self.external_event_by_id = ExternalEventByIdLoader(services, access)
        self.external_events_by_task = ExternalEventsByTaskLoader(services, access)
        self.schedule_by_plan = ScheduleByPlanLoader(services, access, self.plan_by_id)
        self.simulation_by_id = SimulationByIdLoader(services, access)
        self.latest_simulation_by_plan = LatestSimulationByPlanLoader(services, access)
        self.members_by_plan = MembersByPlanLoader(services, access)
        self.my_role_by_plan = MyRoleByPlanLoader(services, access)
        self.planner_sync_by_plan = PlannerSyncByPlanLoader(services, access)
        #: A prefetched page's tasks' readable neighbours by (task id, predecessors?): ``prime_neighbours``.
        self.neighbours: dict[tuple[str, bool], list[Task]] = {}
        #: A page of plans' task counts, read with the page (``Query.plans``): no future per plan.
        self.task_counts: dict[str, int] = {}

    def forget_members(self, plan_id: str) -> None:
        """The plan's members changed: what this request read of them (and of the caller's role) is stale."""
        for loader in (self.members_by_plan, self.my_role_by_plan):
            with contextlib.suppress(KeyError):  # not read yet
                loader.clear(plan_id)

    def prime_tasks(self, tasks: Sequence[Task]) -> None:
        """Tasks a page has just read need no second read when their neighbours are resolved."""
        self.task_by_id.prime_many({t.id: t for t in tasks})

    def prime_neighbours(self, page: Sequence[Task], neighbours: Neighbours) -> None:
        """What a page prefetched for its tasks' ``dependsOn`` and ``dependents`` (``read_neighbours``):
        in the loaders, and as each task's lists of neighbours, which those fields answer at once."""
        self.dependencies_by_task.prime_many(neighbours.edges)
        self.task_by_id.prime_many(neighbours.tasks)
        held: dict[str, Task | None] = {t.id: t for t in page}
        held.update(neighbours.tasks)
        for task_id, edges in neighbours.edges.items():
            for predecessors in (True, False):
                ends = far_ends(edges, task_id, predecessors=predecessors)
                self.neighbours[task_id, predecessors] = [t for i in ends if (t := held.get(i)) is not None]


#: ``known``'s answer for a key a loader has not read.
UNKNOWN: Any = object()


def known(loader: DataLoader[Any, Any], key: Any) -> Any:
    """What ``loader`` already holds for ``key`` (primed, or loaded earlier in the request), with
    no await; ``UNKNOWN`` when it would have to read."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return UNKNOWN
    return future.result()


@dataclass(frozen=True, slots=True)
class Neighbours:
    """A page's dependencies by task id, and the tasks at their other ends (None: not readable)."""

    edges: dict[str, list[Dependency]]
    tasks: dict[str, Task | None]


def far_ends(edges: Sequence[Dependency], task_id: str, *, predecessors: bool) -> list[str]:
    """The tasks at the other ends of ``edges``: those ``task_id`` waits for (``predecessors``), else
    those that wait for it, in the order the dependencies were made."""
    if predecessors:
        return [d.predecessor_id for d in edges if d.successor_id == task_id]
    return [d.successor_id for d in edges if d.predecessor_id == task_id]


def read_neighbours(
    services: PlanningServices, access: Access, page: Sequence[Task], *, whole_plan: str | None = None
) -> Neighbours:
    """The dependencies touching ``page``'s tasks and the tasks at their far ends that the page
    does not hold: at most two statements, whatever the page's size (in a worker thread). When
    the page is the whole of plan ``whole_plan``, the plan's dependencies are those, and are read
    by plan rather than by a list of every task's id."""
    ids = [t.id for t in page]
    if not ids:
        found: list[Dependency] = []
    elif whole_plan is not None:
        found = services.dependencies.for_plans(access, [whole_plan])
    else:
        found = services.dependencies.touching(access, ids)
    held = set(ids)
    missing = sorted({end for d in found for end in (d.predecessor_id, d.successor_id)} - held)
    others = services.tasks.get_many(access, missing) if missing else []
    return Neighbours(dependencies_by_task(ids, found), dict(zip(missing, others, strict=True)))
