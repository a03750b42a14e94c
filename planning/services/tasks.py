from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from planning.access import Caller, Permission, access_of, principal_of, require_in
from planning.commands import CreateTask, DeleteTask, UpdateTask
from planning.errors import DomainError, ErrorCode, check_version, not_found, stale_version
from planning.events import PlanEvent, PlanEventKind
from planning.model import Dependency, DependencyType, Task, TaskStatus
from planning.model.task import clean_assignees, implied_percent, implied_status
from planning.ports import TaskFilter, UnitOfWork
from planning.ports.memo import Memo, NoMemo
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps, ordered
from planning.services.projection import GRAPH_EVENT_KINDS
from planning.snapshots import dependency_snapshot, task_snapshot

UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "status",
        "percent_complete",
        "start_date",
        "due_date",
        "duration_days",
        "estimate",
        "assignees",
        "planner_task_id",
    }
)


class TaskService:
    """``memo`` keeps plans' whole task lists between requests (``tasks_of_plan``); nothing is
    kept without it."""

    def __init__(self, deps: ServiceDeps, *, memo: Memo | None = None) -> None:
        self._deps = deps
        self._memo: Memo = memo if memo is not None else NoMemo()

    def create(self, cmd: CreateTask, caller: Caller) -> Task:
        """Editors and owners of the plan (and admins) may."""
        principal = principal_of(caller)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("plan", cmd.plan_id, "input", "planId")
            require_in(uow, principal, cmd.plan_id, Permission.EDIT, missing)
            if uow.plans.lock(cmd.plan_id) is None:
                raise missing
            task = self.new_task(cmd, uow)
            uow.tasks.add(task)
            uow.outbox.append(PlanEvent(task.plan_id, PlanEventKind.TASK_CREATED, task.id, now, task_snapshot(task)))
            for dep in self._initial_dependencies(task, cmd.depends_on, uow, principal):
                uow.dependencies.add(dep)
                uow.outbox.append(
                    PlanEvent(task.plan_id, PlanEventKind.DEPENDENCY_ADDED, dep.id, now, dependency_snapshot(dep))
                )
            uow.commit()
        return task

    def new_task(self, cmd: CreateTask, uow: UnitOfWork) -> Task:
        """Build (and validate) the task of ``cmd`` without storing it."""
        if cmd.planner_task_id and uow.tasks.find_by_planner_id(cmd.plan_id, cmd.planner_task_id):
            raise DomainError(
                ErrorCode.DUPLICATE,
                f"the plan has a task for Planner task {cmd.planner_task_id} already",
                ("plannerTaskId",),
            )
        status, percent = cmd.status, cmd.percent_complete
        if status is None and percent is None:
            status, percent = TaskStatus.NOT_STARTED, 0
        elif percent is None:
            assert status is not None
            percent = implied_percent(status, 0)
        elif status is None:
            status = implied_status(percent, TaskStatus.NOT_STARTED)
        return Task.new(
            id=self._deps.ids.new_id(),
            plan_id=cmd.plan_id,
            at=self._deps.clock.now(),
            title=cmd.title,
            status=status,
            percent_complete=percent,
            start_date=cmd.start_date,
            due_date=cmd.due_date,
            duration_days=cmd.duration_days,
            estimate=cmd.estimate,
            assignees=cmd.assignees,
            planner_task_id=cmd.planner_task_id,
        )

    def _initial_dependencies(
        self, task: Task, predecessor_ids: Sequence[str], uow: UnitOfWork, principal: Principal
    ) -> list[Dependency]:
        unique = list(dict.fromkeys(predecessor_ids))
        found = {t.id: t for t in uow.tasks.get_many(unique)}
        deps = []
        for pred_id in unique:
            pred = found.get(pred_id)
            missing = not_found("task", pred_id, "input", "dependsOn")
            if pred is None:
                raise missing
            if pred.plan_id != task.plan_id:
                # A task of a plan the caller may not read is one it cannot know of.
                require_in(uow, principal, pred.plan_id, Permission.READ, missing)
                raise DomainError(
                    ErrorCode.CROSS_PLAN, "a task in dependsOn belongs to another plan", ("input", "dependsOn")
                )
            deps.append(
                Dependency(
                    id=self._deps.ids.new_id(),
                    plan_id=task.plan_id,
                    predecessor_id=pred_id,
                    successor_id=task.id,
                    type=DependencyType.FINISH_TO_START,
                    lag_days=0.0,
                    created_at=task.created_at,
                )
            )
        return deps

    def update(self, cmd: UpdateTask, caller: Caller) -> Task:
        unknown = set(cmd.changes) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            task = self._editable(uow, principal_of(caller), cmd.task_id)
            changes = dict(cmd.changes)
            if "assignees" in changes:
                changes["assignees"] = clean_assignees(changes["assignees"])
            if "title" in changes:
                changes["title"] = changes["title"].strip()
            planner_id = changes.get("planner_task_id")
            if planner_id and planner_id != task.planner_task_id:
                other = uow.tasks.find_by_planner_id(task.plan_id, planner_id)
                if other is not None:
                    raise DomainError(
                        ErrorCode.DUPLICATE,
                        f"the plan has a task for Planner task {planner_id} already",
                        ("input", "plannerTaskId"),
                    )
            updated = self.store_update(uow, task, changes, at=now, expected_version=cmd.expected_version)
            uow.commit()
        return updated

    @staticmethod
    def store_update(
        uow: UnitOfWork, task: Task, changes: dict[str, Any], *, at: datetime, expected_version: int | None
    ) -> Task:
        """Change ``task`` in the caller's unit of work (version bump, TASK_UPDATED event); the
        caller has checked access and commits. Also how an approved action changes tasks."""
        updated = task.changed(changes, at=at, expected_version=expected_version)
        if not uow.tasks.update(updated):
            if uow.tasks.get(task.id) is None:
                raise not_found("task", task.id, "input", "id")
            raise stale_version("task")
        uow.outbox.append(
            PlanEvent(updated.plan_id, PlanEventKind.TASK_UPDATED, updated.id, at, task_snapshot(updated))
        )
        return updated

    def delete(self, cmd: DeleteTask, caller: Caller) -> Task:
        """Delete the task and the dependencies that touch it."""
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            task = self._editable(uow, principal_of(caller), cmd.task_id)
            check_version("task", task.version, cmd.expected_version)
            uow.plans.lock(task.plan_id)
            for dep in uow.dependencies.touching([task.id]):
                uow.dependencies.delete(dep.id)
                uow.outbox.append(
                    PlanEvent(task.plan_id, PlanEventKind.DEPENDENCY_REMOVED, dep.id, now, dependency_snapshot(dep))
                )
            if not uow.tasks.delete(task.id, cmd.expected_version):
                if uow.tasks.get(task.id) is None:
                    raise not_found("task", cmd.task_id, "input", "id")
                raise stale_version("task")
            uow.outbox.append(PlanEvent(task.plan_id, PlanEventKind.TASK_DELETED, task.id, now, task_snapshot(task)))
            uow.commit()
        return task

    @staticmethod
    def _editable(uow: UnitOfWork, principal: Principal, task_id: str) -> Task:
        """The task, once the caller may change its plan (editors, owners, admins)."""
        missing = not_found("task", task_id, "input", "id")
        task = uow.tasks.get(task_id)
        if task is None:
            raise missing
        require_in(uow, principal, task.plan_id, Permission.EDIT, missing)
        return task

    # Reads: only what the caller may read (``planning.access``); the rest is as if it did not exist.

    def get_many(self, caller: Caller, task_ids: Sequence[str]) -> list[Task | None]:
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = ordered(task_ids, uow.tasks.get_many(task_ids))
        return access.visible(found, lambda t: t.plan_id)

    def tasks_of_plan(self, caller: Caller, plan_id: str) -> Mapping[str, Task]:
        """Every task of the plan by id (none when the caller may not read it), read once per
        change of the plan: what the lists a plan's graph answers with (a critical path, a task's
        reach) are made of.

        The answer is kept in ``memo`` under the plan's last outbox position among
        ``GRAPH_EVENT_KINDS``, read in the same transaction before and after the tasks. Every
        write of a task appends a TASK_* event of its plan in its own transaction (the SQL unit
        of work refuses to commit one that does not), and outbox positions become visible in
        commit order, so two snapshots with the same position hold the same tasks: an entry can
        never be stale, in this process or across processes. That position is also the plan
        graph's freshness key (``FreshPlanGraphs``): a request that reads both asks for it once.
        """
        if not access_of(caller, self._deps.uow).can(plan_id):
            return MappingProxyType({})
        with self._deps.uow() as uow:
            position = uow.outbox.last_position_of(plan_id, GRAPH_EVENT_KINDS)
            key = ("plan-tasks", plan_id, position)
            held: Mapping[str, Task] | None = self._memo.get(key)
            if held is None:
                held = MappingProxyType({t.id: t for t in uow.tasks.for_plan(plan_id)})
                # Kept only when nothing changed the plan since the position was read: a unit of
                # work whose statements each see their own moment (not a query's snapshot, whose
                # outbox answers this again from what it read) may have read later tasks.
                if uow.outbox.last_position_of(plan_id, GRAPH_EVENT_KINDS) == position:
                    self._memo.put(key, held, weight=len(held))
        return held

    def page(self, caller: Caller, plan_id: str, task_filter: TaskFilter, after: str | None, limit: int) -> Page[Task]:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return Page((), False)
        with self._deps.uow() as uow:
            return Page.of(uow.tasks.page(plan_id, task_filter, after, limit + 1), limit)

    def count(self, caller: Caller, plan_id: str, task_filter: TaskFilter) -> int:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return 0
        with self._deps.uow() as uow:
            return uow.tasks.count(plan_id, task_filter)

    def for_plan(self, caller: Caller, plan_id: str) -> list[Task]:
        if not access_of(caller, self._deps.uow).can(plan_id):
            return []
        with self._deps.uow() as uow:
            return uow.tasks.for_plan(plan_id)
