"""Bounds every stored value respects, checked in the domain so that every store agrees.

Without them a long text or an absurd number would pass on SQLite and fail on PostgreSQL (or
overflow the calendar), ending as an internal error instead of a clear answer.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from planning.errors import invalid

# About 400 years of working days: more than any plan, less than the calendar can hold.
MAX_DAYS = 100_000.0
MAX_ASSIGNEES = 50
MAX_PAYLOAD_BYTES = 64 * 1024
#: How deeply a JSON payload may nest (arrays and objects): enough for any real document, and
#: far from the recursion limits of the JSON encoders that read it back.
MAX_JSON_DEPTH = 32
#: How much of a value sent a message shows back: enough to recognise it, never a whole upload.
MAX_ECHO = 60
#: The longest message an error carries; ours are shorter, echoes of the input are cut to fit.
MAX_MESSAGE = 300
_QUOTED = re.compile(f"'[^'\\n]{{{MAX_ECHO + 20},}}'|\"[^\"\\n]{{{MAX_ECHO + 20},}}\"")


def check_text(value: str, field: str, *, max_length: int, required: bool = True) -> None:
    if required and not value.strip():
        raise invalid(f"{field} must not be empty", field)
    if len(value) > max_length:
        raise invalid(f"{field} is longer than {max_length} characters", field)
    check_storable(value, field)


def storable_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None: the one rule every text input meets.

    No NUL (PostgreSQL text refuses it) and nothing UTF-8 cannot encode (lone surrogates, which
    JSON's ``"\\ud800"`` decodes to).
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds characters that are not valid Unicode text (a lone surrogate)"
    return None


def check_storable(value: str, *field: str) -> None:
    """Refuse text :func:`storable_problem` refuses, naming the input ``field`` (a path)."""
    problem = storable_problem(value)
    if problem is not None:
        raise invalid(f"{field[-1] if field else 'text'} {problem}", *field)


def check_optional_text(value: str | None, field: str, *, max_length: int) -> None:
    if value is not None:
        check_text(value, field, max_length=max_length, required=False)


def check_days(value: float, field: str, *, negative: bool = False) -> None:
    """A finite number of working days within ``MAX_DAYS`` (and not below 0 unless ``negative``)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise invalid(f"{field} must be a finite number of working days", field)
    low = -MAX_DAYS if negative else 0.0
    if not low <= value <= MAX_DAYS:
        bound = f"between {low:,.0f} and {MAX_DAYS:,.0f}" if negative else f"between 0 and {MAX_DAYS:,.0f}"
        raise invalid(f"{field} must be {bound} working days, got {value:g}", field)


def check_json(value: Any, field: str) -> None:
    """Plain JSON (no NaN or Infinity, which JSON has no words for), at most 64 KiB of UTF-8,
    nested at most ``MAX_JSON_DEPTH`` deep."""
    depth = json_depth(value, MAX_JSON_DEPTH + 1)
    if depth > MAX_JSON_DEPTH:
        raise invalid(f"{field} is nested more than {MAX_JSON_DEPTH} levels deep", field)
    for text in _strings(value):
        check_storable(text, field)
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):
        raise invalid(f"{field} must be plain JSON (no NaN or Infinity)", field) from None
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise invalid(f"{field} is larger than {MAX_PAYLOAD_BYTES // 1024} KiB", field)


def json_depth(value: Any, stop: int) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), counted without recursion;
    the count stops at ``stop``, so that an absurd value costs no more than a deep enough one."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest >= stop:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def shown(value: Any, limit: int = MAX_ECHO) -> str:
    """``value`` as a message shows it: its ``repr`` cut to about ``limit`` characters, and a list
    or object only described, so that a message names what it refuses without echoing an upload."""
    if isinstance(value, dict):
        return f"an object of {len(value):,} keys"
    if isinstance(value, list | tuple):
        return f"a list of {len(value):,} items"
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def clipped(message: str) -> str:
    """``message`` with every long quoted echo of the input cut to ``MAX_ECHO`` characters, and
    at most ``MAX_MESSAGE`` characters in all: messages of other libraries (GraphQL's own, which
    quote names and values sent) are held to the bound ours keep."""
    message = _QUOTED.sub(lambda m: f"{m[0][: MAX_ECHO + 1]}…{m[0][0]}", message)
    return message if len(message) <= MAX_MESSAGE else f"{message[:MAX_MESSAGE]}…"


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value, keys included."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found
