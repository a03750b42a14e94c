"""Who is asking. Adapters build a Principal from their identity source (headers, Cognito, IAM)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from planning.errors import DomainError, ErrorCode


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    groups: frozenset[str]

    @property
    def can_write(self) -> bool:
        return bool(self.groups & {Role.ADMIN.value, Role.PLANNER.value})

    def require_write(self) -> None:
        if not self.can_write:
            raise DomainError(
                ErrorCode.FORBIDDEN,
                f"{self.user_id} may read but not change plans (needs group admin or planner)",
            )
