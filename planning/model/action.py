"""Actions the optimisation agent proposes after an external event, and their decisions.

An action starts PENDING; approving applies it (it ends APPLIED), rejecting keeps it as
REJECTED with a reason. A decided action is never decided again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ActionType(StrEnum):
    SHIFT_DATES = "SHIFT_DATES"
    CRASH_DURATION = "CRASH_DURATION"
    FAST_TRACK = "FAST_TRACK"
    REASSIGN = "REASSIGN"
    ADD_BUFFER = "ADD_BUFFER"


class ActionStatus(StrEnum):
    PENDING = "PENDING"
    APPLIED = "APPLIED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class ExpectedImpact:
    """The simulated on-time probability without and with the action (common random numbers),
    and how the mean finish moves, in working days (negative: earlier)."""

    on_time_probability_before: float
    on_time_probability_after: float
    finish_date_delta_days: float

    @property
    def gain(self) -> float:
        return self.on_time_probability_after - self.on_time_probability_before

    def to_json(self) -> dict[str, float]:
        return {
            "onTimeProbabilityBefore": self.on_time_probability_before,
            "onTimeProbabilityAfter": self.on_time_probability_after,
            "finishDateDeltaDays": self.finish_date_delta_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExpectedImpact:
        return cls(
            float(data["onTimeProbabilityBefore"]),
            float(data["onTimeProbabilityAfter"]),
            float(data["finishDateDeltaDays"]),
        )


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """One proposal. ``parameters`` say exactly what approving changes (raw ids, ``from``/``to``
    values); ``task_versions`` are the versions of the tasks it touches when it was proposed:
    approving refuses when any has changed since. ``rank`` orders an event's proposals (1 best)."""

    id: str
    plan_id: str
    external_event_id: str | None
    task_id: str | None
    action_type: ActionType
    status: ActionStatus
    rationale: str
    parameters: dict[str, Any]
    expected_impact: ExpectedImpact
    created_at: datetime
    rank: int = 1
    task_versions: dict[str, int] = field(default_factory=dict)
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None

    def snapshot(self) -> dict[str, Any]:
        """What events and the plan's record keep of the action."""
        return {
            "id": self.id,
            "externalEventId": self.external_event_id,
            "taskId": self.task_id,
            "actionType": self.action_type.value,
            "status": self.status.value,
            "parameters": self.parameters,
            "expectedImpact": self.expected_impact.to_json(),
            "decidedBy": self.decided_by,
            "decisionNote": self.decision_note,
        }
