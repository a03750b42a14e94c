"""Opaque global ids (Relay): base64 of ``Type:id``, the same in every deployment of the same data."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from planning.errors import invalid
from planning.model.limits import storable_problem

NODE_TYPES = frozenset({"Plan", "Task", "Dependency", "ExternalEvent", "Simulation", "ProposedAction"})


@lru_cache(maxsize=1 << 16)  # the same few thousand ids in every answer of a busy plan
def to_global_id(type_name: str, raw_id: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def parse_global_id(value: object, *field: str) -> tuple[str, str]:
    """``(type name, raw id)`` of a global id; an INVALID_INPUT error for anything else."""
    if not isinstance(value, str) or not value:
        raise invalid("expected an id", *field)
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid(f"{value!r} is not an id of this API", *field) from None
    type_name, sep, raw = decoded.partition(":")
    if not sep or type_name not in NODE_TYPES or not raw or storable_problem(raw):
        raise invalid(f"{value!r} is not an id of this API", *field)
    return type_name, raw


def raw_id(value: object, type_name: str, *field: str) -> str:
    """The raw id inside a global id that must name a ``type_name``."""
    found_type, raw = parse_global_id(value, *field)
    if found_type != type_name:
        raise invalid(f"expected the id of a {type_name}, got one of a {found_type}", *field)
    return raw
