"""AppSync's scalars, under AppSync's names, validated the way AppSync validates them."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from planning.model.limits import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, json_depth, shown

JSON = NewType("JSON", object)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$")
#: The longest AWSJSON text parsed at all: the stored value's own bound (64 KiB of compact JSON,
#: a user error) leaves room for whitespace; text far beyond it is refused before it is parsed.
MAX_JSON_TEXT = 4 * MAX_PAYLOAD_BYTES


def parse_aws_date(value: Any) -> date:
    """``YYYY-MM-DD``, optionally with a zone offset, which AppSync accepts and ignores."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"AWSDate must look like 2025-02-04, got {shown(value)}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"AWSDate {shown(value)} is not a calendar date") from None


@lru_cache(maxsize=8192)
def serialize_aws_datetime(value: datetime) -> str:
    """In UTC, to the millisecond. Remembered: an answer of hundreds of tasks writes each task's
    ``updatedAt`` on every read (equal instants in any zone answer the same text)."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def parse_aws_datetime(value: Any) -> datetime:
    """ISO 8601 with a zone (``Z`` or an offset); stored and answered in UTC."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"AWSDateTime must look like 2025-02-05T10:30:00Z, got {shown(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"AWSDateTime {shown(value)} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"AWSDateTime {shown(value)} needs a zone, such as Z for UTC")
    return parsed.astimezone(UTC)


def _no_constant(name: str) -> Any:
    raise ValueError(f"AWSJSON does not allow {name}: JSON has no such number")


def parse_aws_json(value: Any) -> Any:
    """AWSJSON travels as a string holding JSON; resolvers get the parsed value, as on AppSync.

    Refused here, with the input's path in the error: text that is not JSON, text longer than
    ``MAX_JSON_TEXT``, and values nested deeper than ``MAX_JSON_DEPTH`` (arrays and objects).
    """
    if not isinstance(value, str):
        raise ValueError("AWSJSON must be a string holding JSON")
    if len(value) > MAX_JSON_TEXT:
        raise ValueError(f"AWSJSON is longer than {MAX_JSON_TEXT // 1024} KiB of text")
    try:
        parsed = json.loads(value, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"AWSJSON is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        parsed = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = json_depth(parsed, MAX_JSON_DEPTH + 1)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"AWSJSON is nested more than {MAX_JSON_DEPTH} levels deep")
    return parsed


def serialize_aws_json(value: Any) -> str:
    """Compact JSON with sorted keys. Whatever was stored answers, however deeply it nests (a
    payload stored before depth was bounded): past the encoder's recursion, it is written without
    recursion."""
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    except RecursionError:
        return _dumps_without_recursion(value)


class _Text(str):
    """A piece of JSON text already written (as opposed to a value still to write)."""


def _dumps_without_recursion(value: Any) -> str:
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            parts: list[Any] = [_Text("{")]
            for index, key in enumerate(sorted(item)):
                parts.append(_Text(("," if index else "") + json.dumps(str(key)) + ":"))
                parts.append(item[key])
            parts.append(_Text("}"))
            stack.extend(reversed(parts))
        elif isinstance(item, list | tuple):
            parts = [_Text("[")]
            for index, element in enumerate(item):
                if index:
                    parts.append(_Text(","))
                parts.append(element)
            parts.append(_Text("]"))
            stack.extend(reversed(parts))
        else:
            out.append(json.dumps(item))
    return "".join(out)


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
        serialize=serialize_aws_json,
        parse_value=parse_aws_json,
    ),
}
