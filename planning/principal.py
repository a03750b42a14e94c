"""Who is asking. Adapters build a Principal from their identity source (headers, Cognito, IAM)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
        """Whether the groups allow creating plans; what it may do on a plan is ``planning.access``'s."""
        from planning.access import may_create_plans

        return may_create_plans(self)


#: A caller who proved nothing: member of no plan and no group, so it may see and change nothing.
ANONYMOUS = Principal("anonymous", frozenset())
