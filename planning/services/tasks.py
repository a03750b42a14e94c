from __future__ import annotations

from collections.abc import Sequence

from planning.commands import CreateTask, DeleteTask, UpdateTask
from planning.errors import DomainError, ErrorCode, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import Dependency, DependencyType, Task, TaskStatus
from planning.model.task import clean_assignees, implied_percent, implied_status
from planning.ports import TaskFilter, UnitOfWork
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps, ordered
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
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def create(self, cmd: CreateTask, principal: Principal) -> Task:
        principal.require_write()
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            if uow.plans.lock(cmd.plan_id) is None:
                raise not_found("plan", cmd.plan_id, "input", "planId")
            task = self.new_task(cmd, uow)
            uow.tasks.add(task)
            uow.outbox.append(PlanEvent(task.plan_id, PlanEventKind.TASK_CREATED, task.id, now, task_snapshot(task)))
            for dep in self._initial_dependencies(task, cmd.depends_on, uow):
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

    def _initial_dependencies(self, task: Task, predecessor_ids: Sequence[str], uow: UnitOfWork) -> list[Dependency]:
        unique = list(dict.fromkeys(predecessor_ids))
        found = {t.id: t for t in uow.tasks.get_many(unique)}
        deps = []
        for pred_id in unique:
            pred = found.get(pred_id)
            if pred is None:
                raise not_found("task", pred_id, "input", "dependsOn")
            if pred.plan_id != task.plan_id:
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

    def update(self, cmd: UpdateTask, principal: Principal) -> Task:
        principal.require_write()
        unknown = set(cmd.changes) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            task = uow.tasks.get(cmd.task_id)
            if task is None:
                raise not_found("task", cmd.task_id, "input", "id")
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
            updated = task.changed(changes, at=now, expected_version=cmd.expected_version)
            if not uow.tasks.update(updated):
                if uow.tasks.get(task.id) is None:
                    raise not_found("task", cmd.task_id, "input", "id")
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    "the task was changed by someone else; reload it and try again",
                    ("input", "expectedVersion"),
                )
            uow.outbox.append(
                PlanEvent(updated.plan_id, PlanEventKind.TASK_UPDATED, updated.id, now, task_snapshot(updated))
            )
            uow.commit()
        return updated

    def delete(self, cmd: DeleteTask, principal: Principal) -> Task:
        """Delete the task and the dependencies that touch it."""
        principal.require_write()
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            task = uow.tasks.get(cmd.task_id)
            if task is None:
                raise not_found("task", cmd.task_id, "input", "id")
            if cmd.expected_version is not None and cmd.expected_version != task.version:
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    f"the task is at version {task.version}, not {cmd.expected_version}; reload it and try again",
                    ("input", "expectedVersion"),
                )
            uow.plans.lock(task.plan_id)
            for dep in uow.dependencies.touching([task.id]):
                uow.dependencies.delete(dep.id)
                uow.outbox.append(
                    PlanEvent(task.plan_id, PlanEventKind.DEPENDENCY_REMOVED, dep.id, now, dependency_snapshot(dep))
                )
            if not uow.tasks.delete(task.id, cmd.expected_version):
                if uow.tasks.get(task.id) is None:
                    raise not_found("task", cmd.task_id, "input", "id")
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    "the task was changed by someone else; reload it and try again",
                    ("input", "expectedVersion"),
                )
            uow.outbox.append(PlanEvent(task.plan_id, PlanEventKind.TASK_DELETED, task.id, now, task_snapshot(task)))
            uow.commit()
        return task

    # Reads

    def get_many(self, task_ids: Sequence[str]) -> list[Task | None]:
        with self._deps.uow() as uow:
            return ordered(task_ids, uow.tasks.get_many(task_ids))

    def page(self, plan_id: str, task_filter: TaskFilter, after: str | None, limit: int) -> Page[Task]:
        with self._deps.uow() as uow:
            return Page.of(uow.tasks.page(plan_id, task_filter, after, limit + 1), limit)

    def count(self, plan_id: str, task_filter: TaskFilter) -> int:
        with self._deps.uow() as uow:
            return uow.tasks.count(plan_id, task_filter)

    def for_plan(self, plan_id: str) -> list[Task]:
        with self._deps.uow() as uow:
            return uow.tasks.for_plan(plan_id)
