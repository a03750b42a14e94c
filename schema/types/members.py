from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from planning.model.membership import ActivityEntry
from planning.model.membership import ActivityKind as DomainActivityKind
from planning.model.membership import PlanRole as DomainPlanRole
from resolvers import members as resolve
from resolvers import plans as plan_resolve
from resolvers.ids import to_global_id
from schema.arguments import graphql_args
from schema.scalars import JSON
from schema.types.common import Connection, First, UserError

if TYPE_CHECKING:
    from schema.types.plans import PlanType

PlanRef = Annotated["PlanType", strawberry.lazy("schema.types.plans")]

PlanRole = strawberry.enum(
    DomainPlanRole,
    name="PlanRole",
    description="A member's role on a plan: a VIEWER reads it; an EDITOR also changes its tasks, dependencies, "
    "external events and simulations; an OWNER also manages its members, reads its activity, and changes or "
    "deletes the plan.",
)
PlanActivityKind = strawberry.enum(
    DomainActivityKind, name="PlanActivityKind", description="What a plan's activity entry records."
)


@strawberry.type(name="PlanMember", description="Someone who may see a plan, and what else its role allows.")
class PlanMemberType:
    user_id: str = strawberry.field(description="The user id as tokens carry it (compared exactly).")
    role: PlanRole  # type: ignore[valid-type]
    added_at: datetime
    added_by: str = strawberry.field(description="Who made the user a member.")


@strawberry.type(
    name="PlanActivity",
    description="One change of who may see a plan, or one the Microsoft Planner sync made over local "
    "work (PLANNER_*): who, when, before and after.",
)
class PlanActivityType:
    occurred_at: datetime
    actor: str = strawberry.field(description="Who made the change.")
    kind: PlanActivityKind  # type: ignore[valid-type]
    subject: str = strawberry.field(
        description="The user id whose membership changed; for ACTION_* entries the action's id, for "
        "ACTION_CHANGE the task or dependency the applied action changed; for PLANNER_* entries the task's (raw) id."
    )
    before: JSON | None = strawberry.field(
        description="{userId, role} before the change; null when added. The changed values for ACTION_* entries; "
        "PLANNER_OVERWRITE: the local values Planner overwrote; PLANNER_TASK_DELETED: the task as it was."
    )
    after: JSON | None = strawberry.field(
        description="{userId, role} after the change; null when removed. The changed values for ACTION_* entries; "
        "PLANNER_OVERWRITE: Planner's values."
    )

    @strawberry.field
    def id(self, root: strawberry.Parent[ActivityEntry]) -> strawberry.ID:
        return strawberry.ID(to_global_id("PlanActivity", root.id))


@strawberry.type(name="Me", description="Who the API takes the caller to be.")
class MeType:
    id: str = strawberry.field(description="The caller's user id; `anonymous` without credentials.")
    groups: list[str] = strawberry.field(description="admin, planner, viewer; none for an anonymous caller.")

    @strawberry.field(description="The plans the caller may read, oldest first: the same list as `plans`.")
    async def plans(
        self,
        root: strawberry.Parent[resolve.Me],
        info: strawberry.Info,
        first: First = plan_resolve.DEFAULT_PLANS,
        after: str | None = None,
    ) -> Connection[PlanRef]:
        return await resolve.my_plans(info.context, root, graphql_args(first=first, after=after))  # type: ignore[return-value]


@strawberry.input
class AddPlanMemberInput:
    plan_id: strawberry.ID
    user_id: str = strawberry.field(description="The user id as its tokens carry it (compared exactly).")
    role: PlanRole  # type: ignore[valid-type]


@strawberry.input
class UpdatePlanMemberInput:
    plan_id: strawberry.ID
    user_id: str
    role: PlanRole  # type: ignore[valid-type]


@strawberry.input
class RemovePlanMemberInput:
    plan_id: strawberry.ID
    user_id: str


@strawberry.type
class PlanMemberPayload:
    plan: PlanRef | None = strawberry.field(description="The plan as the caller now sees it (null once it left).")
    member: PlanMemberType | None = strawberry.field(
        description="The membership after the change; for removePlanMember, as it was."
    )
    user_errors: list[UserError]
