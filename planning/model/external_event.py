from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planning.errors import invalid
from planning.model.enums import Severity
from planning.model.limits import check_days, check_json, check_optional_text, check_text

# Room for a feed's full text; the column itself is unbounded.
MAX_DESCRIPTION_LENGTH = 100_000


@dataclass(frozen=True, slots=True)
class ExternalEvent:
    """A disruption from outside the plan, such as a supplier delay.

    ``probability`` makes it a risk: in that share of simulated futures its delay happens.
    ``None`` means it has happened (certain).
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
