from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from planning.access import Caller, Permission, access_in, access_of, principal_of, require_in
from planning.commands import AddDependency, RemoveDependency
from planning.errors import DomainError, ErrorCode, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import Dependency, Task
from planning.model.dag import path_between
from planning.model.limits import check_days
from planning.ports import UnitOfWork
from planning.services.base import ServiceDeps
from planning.snapshots import dependency_snapshot


class DependencyService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def add(self, cmd: AddDependency, caller: Caller) -> Dependency:
        """Editors and owners of the plan (and admins) may; a task of a plan the caller may not
        read is NOT_FOUND, as a missing one is."""
        principal = principal_of(caller)
        check_days(cmd.lag_days, "lagDays", negative=True)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            ends = [cmd.predecessor_id, cmd.successor_id]
            access = access_in(uow, principal)
            readable = access.readable(t.plan_id for t in uow.tasks.get_many(ends))
            for plan_id in sorted(readable):
                # Lock first, then read: neither task can be deleted and no other edge added meanwhile.
                uow.plans.lock(plan_id)
            tasks = {t.id: t for t in uow.tasks.get_many(ends) if t.plan_id in readable}
            pred = tasks.get(cmd.predecessor_id)
            succ = tasks.get(cmd.successor_id)
            if pred is None:
                raise not_found("task", cmd.predecessor_id, "input", "predecessorId")
            if succ is None:
                raise not_found("task", cmd.successor_id, "input", "successorId")
            for plan_id in dict.fromkeys([pred.plan_id, succ.plan_id]):
                access.require(plan_id, Permission.EDIT, not_found("plan", plan_id))
            if pred.id == succ.id:
                raise DomainError(ErrorCode.SELF_DEPENDENCY, "a task cannot depend on itself", ("input", "successorId"))
            if pred.plan_id != succ.plan_id:
                raise DomainError(
                    ErrorCode.CROSS_PLAN,
                    "both tasks of a dependency must belong to the same plan",
                    ("input", "successorId"),
                )
            existing = uow.dependencies.for_plan(pred.plan_id)
            if any(d.predecessor_id == pred.id and d.successor_id == succ.id for d in existing):
                raise DomainError(
                    ErrorCode.DUPLICATE,
                    f"{succ.title!r} already depends on {pred.title!r}",
                    ("input", "predecessorId"),
                )
            cycle = path_between([(d.predecessor_id, d.successor_id) for d in existing], succ.id, pred.id)
            if cycle is not None:
                raise DomainError(ErrorCode.CYCLE, _cycle_message(cycle, uow.tasks.get_many(cycle)), ("input",))
            dep = Dependency(
                id=self._deps.ids.new_id(),
                plan_id=pred.plan_id,
                predecessor_id=pred.id,
                successor_id=succ.id,
                type=cmd.type,
                lag_days=cmd.lag_days,
                created_at=now,
            )
            uow.dependencies.add(dep)
            uow.outbox.append(
                PlanEvent(dep.plan_id, PlanEventKind.DEPENDENCY_ADDED, dep.id, now, dependency_snapshot(dep))
            )
            uow.commit()
        return dep

    def remove(self, cmd: RemoveDependency, caller: Caller) -> Dependency:
        """Editors and owners of the plan (and admins) may."""
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("dependency", cmd.dependency_id, "input", "id")
            dep = uow.dependencies.get(cmd.dependency_id)
            if dep is None:
                raise missing
            require_in(uow, principal_of(caller), dep.plan_id, Permission.EDIT, missing)
            uow.dependencies.delete(dep.id)
            uow.outbox.append(
                PlanEvent(dep.plan_id, PlanEventKind.DEPENDENCY_REMOVED, dep.id, now, dependency_snapshot(dep))
            )
            uow.commit()
        return dep

    def store_lag_change(self, uow: UnitOfWork, dep: Dependency, lag_days: float, *, at: datetime) -> Dependency:
        """Give the link another lag in the caller's unit of work: the dependency is replaced by
        one with a new id (DEPENDENCY_REMOVED, then DEPENDENCY_ADDED), as removing and adding it
        would. The caller has checked access and commits. How an approved action changes a lag."""
        check_days(lag_days, "lagDays", negative=True)
        uow.dependencies.delete(dep.id)
        uow.outbox.append(
            PlanEvent(dep.plan_id, PlanEventKind.DEPENDENCY_REMOVED, dep.id, at, dependency_snapshot(dep))
        )
        changed = Dependency(
            id=self._deps.ids.new_id(),
            plan_id=dep.plan_id,
            predecessor_id=dep.predecessor_id,
            successor_id=dep.successor_id,
            type=dep.type,
            lag_days=lag_days,
            created_at=at,
        )
        uow.dependencies.add(changed)
        uow.outbox.append(
            PlanEvent(changed.plan_id, PlanEventKind.DEPENDENCY_ADDED, changed.id, at, dependency_snapshot(changed))
        )
        return changed

    # Reads: only what the caller may read (``planning.access``); the rest is as if it did not exist.

    def get(self, caller: Caller, dependency_id: str) -> Dependency | None:
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            dep = uow.dependencies.get(dependency_id)
        return access.visible([dep], lambda d: d.plan_id)[0]

    def touching(self, caller: Caller, task_ids: Sequence[str]) -> list[Dependency]:
        """Edges whose predecessor or successor is one of ``task_ids``."""
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = uow.dependencies.touching(task_ids)
        return [d for d in access.visible(found, lambda d: d.plan_id) if d is not None]

    def for_plans(self, caller: Caller, plan_ids: Sequence[str]) -> list[Dependency]:
        readable = access_of(caller, self._deps.uow).readable(plan_ids)
        with self._deps.uow() as uow:
            return uow.dependencies.for_plans(sorted(readable))


def _cycle_message(path: list[str], tasks: list[Task]) -> str:
    titles = {t.id: t.title for t in tasks}
    loop = " -> ".join(repr(titles.get(i, i)) for i in [*path, path[0]])
    return f"this dependency would close a cycle: {loop}"
