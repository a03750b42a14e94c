"""Bounds every stored value respects, checked in the domain so that every store agrees.

Without them a long text or an absurd number would pass on SQLite and fail on PostgreSQL (or
overflow the calendar), ending as an internal error instead of a clear answer.
"""

from __future__ import annotations

import json
import math
from typing import Any

from planning.errors import invalid

# About 400 years of working days: more than any plan, less than the calendar can hold.
MAX_DAYS = 100_000.0
MAX_ASSIGNEES = 50
MAX_PAYLOAD_BYTES = 64 * 1024


def check_text(value: str, field: str, *, max_length: int, required: bool = True) -> None:
    if required and not value.strip():
        raise invalid(f"{field} must not be empty", field)
    if len(value) > max_length:
        raise invalid(f"{field} is longer than {max_length} characters", field)
    _check_storable(value, field)


def _check_storable(value: str, field: str) -> None:
    """No NUL (PostgreSQL text refuses it) and nothing UTF-8 cannot encode (lone surrogates)."""
    if "\x00" in value:
        raise invalid(f"{field} must not contain NUL characters", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(f"{field} holds characters that are not valid Unicode text", field) from None


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
    """Plain JSON (no NaN or Infinity, which JSON has no words for), at most 64 KiB of UTF-8."""
    for text in _strings(value):
        _check_storable(text, field)
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):
        raise invalid(f"{field} must be plain JSON (no NaN or Infinity)", field) from None
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise invalid(f"{field} is larger than {MAX_PAYLOAD_BYTES // 1024} KiB", field)


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
