from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import strawberry

from planning.errors import ErrorCode as DomainErrorCode
from planning.services.base import MAX_PAGE_SIZE
from resolvers import pagination

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode", description="Why a mutation was refused.")

FIRST_DESCRIPTION = f"How many items to return, at most {MAX_PAGE_SIZE}."


@strawberry.interface(description="Any object with a global id; fetch it again with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type(description="An expected failure of a mutation: the input path, what went wrong, and a code.")
class UserError:
    field: list[str] | None
    message: str
    code: ErrorCode  # type: ignore[valid-type]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description=f"A page of a list; page with `first` (at most {MAX_PAGE_SIZE}) and `after`.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @strawberry.field(description="How many items the whole list holds.")
    async def total_count(self, root: strawberry.Parent[pagination.Connection[object]]) -> int:
        return await root.total_count()


First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
