from __future__ import annotations

from collections.abc import Sequence

from planning.commands import CreatePlan, DeletePlan, UpdatePlan
from planning.errors import DomainError, ErrorCode, not_found
from planning.events import PlanEvent, PlanEventKind
from planning.model import Plan
from planning.ports import UnitOfWork
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps, ordered
from planning.snapshots import plan_snapshot


class PlanService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    def create(self, cmd: CreatePlan, principal: Principal) -> Plan:
        principal.require_write()
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
            uow.commit()
        return plan

    def update(self, cmd: UpdatePlan, principal: Principal) -> Plan:
        """Change the fields in ``cmd.changes``; a change that changes nothing answers the plan as it is."""
        principal.require_write()
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
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
                raise DomainError(
                    ErrorCode.STALE_VERSION,
                    "the plan was changed by someone else; reload it and try again",
                    ("input", "expectedVersion"),
                )
            uow.outbox.append(
                PlanEvent(updated.id, PlanEventKind.PLAN_UPDATED, updated.id, now, plan_snapshot(updated))
            )
            uow.commit()
        return updated

    def delete(self, cmd: DeletePlan, principal: Principal) -> Plan:
        """Delete the plan with everything in it, in one transaction; answers the plan as it was.

        A simulation of the plan that a worker is running notices at its next progress write
        (its row is gone) and ends quietly; a queued one is skipped.
        """
        principal.require_write()
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            # The lock orders the delete after changes in flight that lock the plan (new tasks,
            # dependencies), and theirs after it: they then find no plan.
            plan = uow.plans.lock(cmd.plan_id)
            if plan is None or not uow.plans.delete(plan.id):
                raise not_found("plan", cmd.plan_id, "input", "id")
            uow.outbox.append(PlanEvent(plan.id, PlanEventKind.PLAN_DELETED, plan.id, now, plan_snapshot(plan)))
            uow.commit()
        return plan

    @staticmethod
    def _check_planner_id_free(uow: UnitOfWork, planner_plan_id: str | None) -> None:
        if planner_plan_id and uow.plans.find_by_planner_id(planner_plan_id):
            raise DomainError(
                ErrorCode.DUPLICATE,
                f"a plan for Planner plan {planner_plan_id} exists already",
                ("input", "plannerPlanId"),
            )

    def get_many(self, plan_ids: Sequence[str]) -> list[Plan | None]:
        with self._deps.uow() as uow:
            return ordered(plan_ids, uow.plans.get_many(plan_ids))

    def page(self, after: str | None, limit: int) -> Page[Plan]:
        with self._deps.uow() as uow:
            return Page.of(uow.plans.page(after, limit + 1), limit)

    def count(self) -> int:
        with self._deps.uow() as uow:
            return uow.plans.count()

    def task_counts(self, plan_ids: Sequence[str]) -> list[int]:
        with self._deps.uow() as uow:
            counts = uow.tasks.count_by_plan(plan_ids)
        return [counts.get(i, 0) for i in plan_ids]
