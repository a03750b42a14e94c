from __future__ import annotations

from collections.abc import Sequence

from planning.commands import CreatePlan
from planning.errors import DomainError, ErrorCode
from planning.events import PlanEvent, PlanEventKind
from planning.model import Plan
from planning.principal import Principal
from planning.services.base import Page, ServiceDeps, ordered


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
            if plan.planner_plan_id and uow.plans.find_by_planner_id(plan.planner_plan_id):
                raise DomainError(
                    ErrorCode.DUPLICATE,
                    f"a plan for Planner plan {plan.planner_plan_id} exists already",
                    ("input", "plannerPlanId"),
                )
            uow.plans.add(plan)
            uow.outbox.append(
                PlanEvent(plan.id, PlanEventKind.PLAN_CREATED, plan.id, now, {"id": plan.id, "name": plan.name})
            )
            uow.commit()
        return plan

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
