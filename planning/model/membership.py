"""Who belongs to a plan, in which role, and the record of changes to it.

What each role may do is the access rule's (``planning.access``); here are the values it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from planning.model.limits import check_text

#: As long as an e-mail address may be: the user ids of members, actors and subjects.
MAX_USER_ID_LENGTH = 320


class PlanRole(StrEnum):
    """A member's role on one plan: viewers read; editors also change the plan's work; owners
    also manage members and change or delete the plan itself."""

    OWNER = "OWNER"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"


@dataclass(frozen=True, slots=True)
class PlanMember:
    plan_id: str
    user_id: str
    role: PlanRole
    added_at: datetime
    added_by: str

    def snapshot(self) -> dict[str, Any]:
        """What the record of access keeps of a membership, before or after a change."""
        return {"userId": self.user_id, "role": self.role.value}


def clean_user_id(value: str, *field: str) -> str:
    """A member's user id as the identity gives it: trimmed, never empty, at most 320 characters.

    User ids compare exactly (case included), as tokens and identity headers carry them.
    """
    user_id = value.strip()
    check_text(user_id, field[-1] if field else "userId", max_length=MAX_USER_ID_LENGTH)
    return user_id


class ActivityKind(StrEnum):
    """What an entry of a plan's record of access says happened."""

    MEMBER_ADDED = "MEMBER_ADDED"
    MEMBER_UPDATED = "MEMBER_UPDATED"
    MEMBER_REMOVED = "MEMBER_REMOVED"
    # The optimisation agent's actions (planning.services.actions): the subject is the action id,
    # or for ACTION_CHANGE the task or dependency an applied action changed.
    ACTION_PROPOSED = "ACTION_PROPOSED"
    ACTION_APPROVED = "ACTION_APPROVED"
    ACTION_REJECTED = "ACTION_REJECTED"
    ACTION_APPLIED = "ACTION_APPLIED"
    ACTION_CHANGE = "ACTION_CHANGE"
    # Kept by the Microsoft Planner sync (planning.services.planner_sync); ``subject`` is a task id.
    #: Planner's value replaced a local edit of a field Planner owns: before (local), after (Planner).
    PLANNER_OVERWRITE = "PLANNER_OVERWRITE"
    #: A synced task deleted in Planner was deleted here: before is the task as it was.
    PLANNER_TASK_DELETED = "PLANNER_TASK_DELETED"


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One change of a plan's access: who (``actor``) changed what (``subject``, a user id) when,
    and the state before and after (None where there was none: before an add, after a removal).

    ``id``s grow with time (the id generator's order), so the newest entry has the greatest.
    """

    id: str
    plan_id: str
    occurred_at: datetime
    actor: str
    kind: ActivityKind
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
