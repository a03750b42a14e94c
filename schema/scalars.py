"""AppSync's scalars, under AppSync's names, validated the way AppSync validates them."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

JSON = NewType("JSON", object)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$")


def parse_aws_date(value: Any) -> date:
    """``YYYY-MM-DD``, optionally with a zone offset, which AppSync accepts and ignores."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"AWSDate must look like 2025-02-04, got {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"AWSDate {value!r} is not a calendar date") from None


def serialize_aws_datetime(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def parse_aws_datetime(value: Any) -> datetime:
    """ISO 8601 with a zone (``Z`` or an offset); stored and answered in UTC."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"AWSDateTime must look like 2025-02-05T10:30:00Z, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"AWSDateTime {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"AWSDateTime {value!r} needs a zone, such as Z for UTC")
    return parsed.astimezone(UTC)


def _no_constant(name: str) -> Any:
    raise ValueError(f"AWSJSON does not allow {name}: JSON has no such number")


def parse_aws_json(value: Any) -> Any:
    """AWSJSON travels as a string holding JSON; resolvers get the parsed value, as on AppSync."""
    if not isinstance(value, str):
        raise ValueError("AWSJSON must be a string holding JSON")
    try:
        return json.loads(value, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"AWSJSON is not valid JSON: {exc.msg} at position {exc.pos}") from None


SCALARS: dict[object, ScalarDefinition] = {
    date: strawberry.scalar(
        name="AWSDate",
        description="A date, YYYY-MM-DD (ISO 8601).",
        serialize=lambda v: v.isoformat(),
        parse_value=parse_aws_date,
    ),
    datetime: strawberry.scalar(
        name="AWSDateTime",
        description="An instant, ISO 8601 with a zone; answered in UTC, such as 2025-02-05T10:30:00Z.",
        serialize=serialize_aws_datetime,
        parse_value=parse_aws_datetime,
    ),
    JSON: strawberry.scalar(
        name="AWSJSON",
        description="A JSON value, sent and answered as a string holding JSON.",
        serialize=lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True),
        parse_value=parse_aws_json,
    ),
}
