from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from planning import model
from resolvers import dependencies as resolve
from resolvers.ids import to_global_id
from schema.types.common import Node, UserError
from schema.types.enums import DependencyType as DependencyKind

if TYPE_CHECKING:
    from schema.types.tasks import TaskType

TaskRef = Annotated["TaskType", strawberry.lazy("schema.types.tasks")]


@strawberry.type(name="Dependency", description="The successor starts after the predecessor finishes, plus lag.")
class DependencyType(Node):
    type: DependencyKind  # type: ignore[valid-type]
    lag_days: float = strawberry.field(description="Working days between the predecessor's finish and the start.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, model.Dependency)

    @strawberry.field
    def id(self, root: strawberry.Parent[model.Dependency]) -> strawberry.ID:
        return strawberry.ID(to_global_id("Dependency", root.id))

    @strawberry.field
    async def predecessor(self, root: strawberry.Parent[model.Dependency], info: strawberry.Info) -> TaskRef:
        return await resolve.predecessor(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field
    async def successor(self, root: strawberry.Parent[model.Dependency], info: strawberry.Info) -> TaskRef:
        return await resolve.successor(info.context, root, {})  # type: ignore[return-value]


@strawberry.input
class AddDependencyInput:
    predecessor_id: strawberry.ID
    successor_id: strawberry.ID
    type: DependencyKind | None = UNSET  # type: ignore[valid-type]
    lag_days: float | None = UNSET


@strawberry.input
class RemoveDependencyInput:
    id: strawberry.ID


@strawberry.type
class AddDependencyPayload:
    dependency: DependencyType | None
    user_errors: list[UserError]


@strawberry.type
class RemoveDependencyPayload:
    removed_dependency_id: strawberry.ID | None
    user_errors: list[UserError]
