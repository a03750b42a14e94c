"""What mutations answer: the changed object, or user errors saying why there is none."""

from __future__ import annotations

from dataclasses import dataclass, field

from planning.model import Dependency, ExternalEvent, Plan, Task
from planning.model.membership import PlanMember
from planning.model.simulation import Simulation
from resolvers.errors import UserError


@dataclass(frozen=True, slots=True)
class CreatePlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeletePlanPayload:
    deleted_plan_id: str | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TaskPayload:
    task: Task | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeleteTaskPayload:
    deleted_task_id: str | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DependencyPayload:
    dependency: Dependency | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RemoveDependencyPayload:
    removed_dependency_id: str | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExternalEventPayload:
    external_event: ExternalEvent | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SimulationPayload:
    simulation: Simulation | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlanMemberPayload:
    """``member`` is the membership after the change (as it was, for a removal)."""

    plan: Plan | None = None
    member: PlanMember | None = None
    user_errors: list[UserError] = field(default_factory=list)
