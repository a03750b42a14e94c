"""Reading GraphQL arguments whether a GraphQL server parsed them or AppSync sent them raw."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar

from planning.errors import DomainError, invalid
from planning.model import ThreePointEstimate
from planning.model.limits import check_storable, shown, storable_problem
from resolvers.errors import BadRequest

E = TypeVar("E", bound=Enum)
MISSING: Any = object()


def as_date(value: Any, *field: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid(f"expected a date such as 2025-02-04, got {shown(value)}", *field)


def as_datetime(value: Any, *field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise invalid(f"expected a date-time such as 2025-02-05T10:30:00Z, got {shown(value)}", *field) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise invalid("a date-time needs a time zone, such as Z for UTC", *field)
        return value.astimezone(UTC)
    raise invalid(f"expected a date-time, got {shown(value)}", *field)


def as_enum(enum: type[E], value: Any, *field: str) -> E:
    if isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        names = ", ".join(m.value for m in enum)
        raise invalid(f"expected one of {names}, got {shown(value)}", *field) from None


def as_number(value: Any, *field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"expected a number, got {shown(value)}", *field)
    return float(value)


def as_int(value: Any, *field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"expected a whole number, got {shown(value)}", *field)
    return value


def as_text(value: Any, *field: str) -> str:
    """Text a mutation sends: storable (no NUL, no lone surrogate) before anything reads it,
    a lookup by an idempotency key included."""
    if not isinstance(value, str):
        raise invalid(f"expected text, got {shown(value)}", *field)
    check_storable(value, *field)
    return value


def as_query_text(value: Any, *field: str) -> str | None:
    """Text a query argument (such as a filter) sends; malformed, it is a top-level BAD_REQUEST."""
    where = ".".join(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{where}: expected text, got {shown(value)}")
    problem = storable_problem(value)
    if problem is not None:
        raise BadRequest(f"{where} {problem}")
    return value


def as_json(value: Any, *field: str) -> Any:
    """AWSJSON arrives parsed (AppSync parses it before a resolver runs, and so does our scalar).

    A string here is a JSON string value, never JSON text to decode again; the domain checks
    that the value is plain JSON.
    """
    del field
    return value


def as_estimate(value: Any, *field: str) -> ThreePointEstimate | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("expected {optimisticDays, mostLikelyDays, pessimisticDays}", *field)
    points = [as_number(value.get(k), *field, k) for k in ("optimisticDays", "mostLikelyDays", "pessimisticDays")]
    try:
        return ThreePointEstimate(*points)
    except DomainError as exc:
        exc.field = field or ("estimate",)
        raise


def as_string_list(value: Any, *field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise invalid("expected a list of strings", *field)
    for item in value:
        check_storable(item, *field)
    return tuple(value)


def input_of(args: dict[str, Any]) -> dict[str, Any]:
    value = args.get("input")
    if not isinstance(value, dict):
        raise invalid("input is required", "input")
    return value
