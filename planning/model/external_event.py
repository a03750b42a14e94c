from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from planning.errors import invalid
from planning.model.enums import ExternalEventStatus, Severity
from planning.model.limits import check_days, check_json, check_optional_text, check_text

# Room for a feed's full text; the column itself is unbounded.
MAX_DESCRIPTION_LENGTH = 100_000
MAX_STATUS_NOTE_LENGTH = 2_000


@dataclass(frozen=True, slots=True)
class ExternalEvent:
    """A disruption from outside the plan, such as a supplier delay.

    ``probability`` makes it a risk: in that share of simulated futures its delay happens.
    ``None`` means it has happened (certain). Only an ``OPEN`` event counts in forecasts and
    simulations; a resolved or withdrawn one is kept as history.
    """

    id: str
    plan_id: str
    event_type: str
    severity: Severity
    title: str
    description: str | None
    source: str | None
    occurred_at: datetime
    received_at: datetime
    delay_days: float
    probability: float | None
    payload: Any
    affected_task_ids: tuple[str, ...]
    idempotency_key: str | None
    status: ExternalEventStatus = ExternalEventStatus.OPEN
    # The last status change: when, by whom (a user id), and the note that came with it.
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    status_note: str | None = None

    @property
    def counts(self) -> bool:
        """Whether the event still weighs on the schedule (forecasts and simulations)."""
        return self.status is ExternalEventStatus.OPEN

    @property
    def certain(self) -> bool:
        """Certain events move the deterministic forecast; uncertain ones only simulations."""
        return self.probability is None or self.probability >= 1.0

    def __post_init__(self) -> None:
        if not self.event_type.strip():
            raise invalid("eventType must not be empty", "eventType")
        if not self.title.strip():
            raise invalid("title must not be empty", "title")
        if not math.isfinite(self.delay_days) or self.delay_days < 0:
            raise invalid("delayDays must be 0 or more working days", "delayDays")
        if self.probability is not None and not (math.isfinite(self.probability) and 0 <= self.probability <= 1):
            raise invalid("probability must be between 0 and 1", "probability")

    def check_input(self) -> None:
        """The bounds of what a caller sends; stored events are not held to them when read."""
        check_text(self.event_type, "eventType", max_length=100)
        check_text(self.title, "title", max_length=500)
        check_optional_text(self.description, "description", max_length=MAX_DESCRIPTION_LENGTH)
        check_optional_text(self.source, "source", max_length=200)
        check_optional_text(self.idempotency_key, "idempotencyKey", max_length=200)
        check_days(self.delay_days, "delayDays")
        check_json(self.payload, "payload")

    def with_status(self, status: ExternalEventStatus, *, at: datetime, by: str, note: str | None) -> ExternalEvent:
        """The event with ``status``, recording who changed it, when, and why (a blank note is none).

        Answers the event itself when it has that status already: nothing changes, not even the note.
        """
        if status is self.status:
            return self
        note = note if note is None or note.strip() else None
        check_optional_text(note, "note", max_length=MAX_STATUS_NOTE_LENGTH)
        return replace(self, status=status, status_changed_at=at, status_changed_by=by, status_note=note)

    def same_content(self, other: ExternalEvent, *, compare_occurred_at: bool = True) -> bool:
        """Whether ``other`` reports what this event reports: what one idempotency key stands for.

        Content is the type, severity, title, description, source, delay, probability, payload
        and the set of affected tasks; ``occurred_at`` only when ``compare_occurred_at`` (a sender
        that gave no time gets the time of receipt, which differs on every attempt). Ids, the
        receipt time, the key itself and the status are not content.
        """
        return (
            self.event_type == other.event_type
            and self.severity is other.severity
            and self.title == other.title
            and self.description == other.description
            and self.source == other.source
            and self.delay_days == other.delay_days
            and self.probability == other.probability
            and same_json(self.payload, other.payload)
            and set(self.affected_task_ids) == set(other.affected_task_ids)
            and (not compare_occurred_at or self.occurred_at == other.occurred_at)
        )


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (1 == 1.0), but true is not 1; objects whatever their key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)
