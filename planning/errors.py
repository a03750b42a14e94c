"""Expected failures of the domain, each with a stable code the API hands to clients."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CYCLE = "CYCLE"
    SELF_DEPENDENCY = "SELF_DEPENDENCY"
    DUPLICATE = "DUPLICATE"
    CROSS_PLAN = "CROSS_PLAN"
    STALE_VERSION = "STALE_VERSION"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    UNAVAILABLE = "UNAVAILABLE"
    ALREADY_DECIDED = "ALREADY_DECIDED"


class DomainError(Exception):
    """A failure the caller can act on: bad input, a missing entity, a conflict.

    ``field`` is the path of the offending input, such as ``("input", "percentComplete")``.
    """

    def __init__(self, code: ErrorCode, message: str, field: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, field={self.field!r})"


def invalid(message: str, *field: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, tuple(field) or None)


def not_found(kind: str, entity_id: str, *field: str) -> DomainError:
    """The message leaves the id out: callers know ids in their own (global) form, not ours."""
    del entity_id
    where = f" given in {field[-1]}" if field else ""
    return DomainError(ErrorCode.NOT_FOUND, f"no {kind} has the id{where}", tuple(field) or None)


def stale_version(kind: str, current: int | None = None, expected: int | None = None) -> DomainError:
    """Optimistic concurrency lost: the entity changed since the caller read it.

    With ``current`` and ``expected`` the message says both; without them (a conditional write
    that matched no row) only that someone else changed it.
    """
    if current is not None and expected is not None:
        message = f"the {kind} is at version {current}, not {expected}; reload it and try again"
    else:
        message = f"the {kind} was changed by someone else; reload it and try again"
    return DomainError(ErrorCode.STALE_VERSION, message, ("input", "expectedVersion"))


def check_version(kind: str, current: int, expected: int | None) -> None:
    """Raise ``stale_version`` when the caller expected another version than the current one."""
    if expected is not None and expected != current:
        raise stale_version(kind, current, expected)


class StoreConflict(Exception):
    """Raised by a store when a commit hits a uniqueness rule another transaction won first."""
