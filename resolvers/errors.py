from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from planning.errors import DomainError, ErrorCode, StoreConflict
from planning.model.limits import clipped


class BadRequest(Exception):
    """A malformed query argument (not a mutation input): a top-level error shown to the client."""


@dataclass(frozen=True, slots=True)
class UserError:
    field: list[str] | None
    message: str
    code: ErrorCode


def user_error(exc: DomainError) -> UserError:
    field = list(exc.field) if exc.field else None
    if field and field[0] != "input":
        field = ["input", *field]
    return UserError(field=field, message=clipped(exc.message), code=exc.code)


P = TypeVar("P")


async def payload_or_errors(run: Callable[[], Awaitable[P]], failed: Callable[[list[UserError]], P]) -> P:
    """Run a mutation; an expected failure becomes the payload's ``userErrors``."""
    try:
        return await run()
    except DomainError as exc:
        return failed([user_error(exc)])
    except StoreConflict:
        # Another request changed the same rows first (a uniqueness or reference rule).
        return failed(
            [
                UserError(
                    field=None,
                    message="the plan changed at the same time; reload and try again",
                    code=ErrorCode.CONFLICT,
                )
            ]
        )


class Unavailable(Exception):
    """A backing service (such as the dependency graph) cannot answer now; the client may retry."""
