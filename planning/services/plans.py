from __future__ import annotations

from collections.abc import Sequence

from planning.access import (
    Caller,
    Permission,
    access_of,
    forget,
    listing_scope,
    principal_of,
    require_create,
    require_in,
)
from planning.commands import CreatePlan, DeletePlan, UpdatePlan
from planning.errors import DomainError, ErrorCode, not_found, stale_version
from planning.events import PlanEvent, PlanEventKind
from planning.model import Plan
from planning.ports import UnitOfWork
from planning.services.base import Page, ServiceDeps, ordered
from planning.services.members import enrol_owner
from planning.snapshots import plan_snapshot


class PlanService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def create(self, cmd: CreatePlan, caller: Caller) -> Plan:
        """Whoever creates a plan owns it (group admin or planner may)."""
        principal = principal_of(caller)
        require_create(principal)
        now = self._deps.clock.now()
        plan = Plan(
            id=self._deps.ids.new_id(),
            name=cmd.name.strip(),
            planner_plan_id=cmd.planner_plan_id or None,
            event_date=cmd.event_date,
            calendar=cmd.calendar,
            created_at=now,
            updated_at=now,
        )
        plan.check_input()
        with self._deps.uow() as uow:
            self._check_planner_id_free(uow, plan.planner_plan_id)
            uow.plans.add(plan)
            uow.outbox.append(
                PlanEvent(plan.id, PlanEventKind.PLAN_CREATED, plan.id, now, {"id": plan.id, "name": plan.name})
            )
            enrol_owner(uow, self._deps.ids, plan_id=plan.id, user_id=principal.user_id, by=principal.user_id, at=now)
            uow.commit()
        forget(caller, plan.id)
        return plan

    def update(self, cmd: UpdatePlan, caller: Caller) -> Plan:
        """Change the fields in ``cmd.changes``; a change that changes nothing answers the plan as it is.

        Owners (and admins) may.
        """
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("plan", cmd.plan_id, "input", "id")
            require_in(uow, principal_of(caller), cmd.plan_id, Permission.MANAGE, missing)
            plan = uow.plans.get(cmd.plan_id)
            if plan is None:
                raise not_found("plan", cmd.plan_id, "input", "id")
            updated = plan.changed(cmd.changes, at=now, expected_version=cmd.expected_version)
            if updated is plan:
                return plan
            if updated.planner_plan_id != plan.planner_plan_id:
                self._check_planner_id_free(uow, updated.planner_plan_id)
            if not uow.plans.update(updated):
                if uow.plans.get(plan.id) is None:
                    raise not_found("plan", cmd.plan_id, "input", "id")
                raise stale_version("plan")
            uow.outbox.append(
                PlanEvent(updated.id, PlanEventKind.PLAN_UPDATED, updated.id, now, plan_snapshot(updated))
            )
            uow.commit()
        return updated

    def delete(self, cmd: DeletePlan, caller: Caller) -> Plan:
        """Delete the plan with everything in it, in one transaction; answers the plan as it was.

        A simulation of the plan that a worker is running notices at its next progress write
        (its row is gone) and ends quietly; a queued one is skipped. Owners (and admins) may.
        """
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            missing = not_found("plan", cmd.plan_id, "input", "id")
            require_in(uow, principal_of(caller), cmd.plan_id, Permission.MANAGE, missing)
            # The lock orders the delete after changes in flight that lock the plan (new tasks,
            # dependencies), and theirs after it: they then find no plan.
            plan = uow.plans.lock(cmd.plan_id)
            if plan is None or not uow.plans.delete(plan.id):
                raise missing
            uow.outbox.append(PlanEvent(plan.id, PlanEventKind.PLAN_DELETED, plan.id, now, plan_snapshot(plan)))
            uow.commit()
        forget(caller, plan.id)
        return plan

    @staticmethod
    def _check_planner_id_free(uow: UnitOfWork, planner_plan_id: str | None) -> None:
        if planner_plan_id and uow.plans.find_by_planner_id(planner_plan_id):
            raise DomainError(
                ErrorCode.DUPLICATE,
                f"a plan for Planner plan {planner_plan_id} exists already",
                ("input", "plannerPlanId"),
            )

    # Reads: only what the caller may read (``planning.access``); the rest is as if it did not exist.

    def get_many(self, caller: Caller, plan_ids: Sequence[str]) -> list[Plan | None]:
        access = access_of(caller, self._deps.uow)
        with self._deps.uow() as uow:
            found = ordered(plan_ids, uow.plans.get_many(plan_ids))
        return access.visible(found, lambda p: p.id)

    def page(self, caller: Caller, after: str | None, limit: int) -> Page[Plan]:
        """The plans the caller may read, oldest first."""
        scope = listing_scope(principal_of(caller))
        with self._deps.uow() as uow:
            return Page.of(uow.plans.page(after, limit + 1, member_id=scope), limit)

    def page_with_task_counts(self, caller: Caller, after: str | None, limit: int) -> tuple[Page[Plan], list[int]]:
        """``page``, and the number of tasks of each of its plans, read with it."""
        scope = listing_scope(principal_of(caller))
        with self._deps.uow() as uow:
            found = uow.plans.page_with_task_counts(after, limit + 1, member_id=scope)
        page = Page.of([plan for plan, _count in found], limit)
        return page, [count for _plan, count in found[: len(page.items)]]

    def count(self, caller: Caller) -> int:
        scope = listing_scope(principal_of(caller))
        with self._deps.uow() as uow:
            return uow.plans.count(member_id=scope)

    def task_counts(self, caller: Caller, plan_ids: Sequence[str]) -> list[int]:
        readable = access_of(caller, self._deps.uow).readable(plan_ids)
        with self._deps.uow() as uow:
            counts = uow.tasks.count_by_plan(sorted(readable))
        return [counts.get(i, 0) for i in plan_ids]
