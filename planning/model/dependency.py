from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from planning.errors import invalid
from planning.model.enums import DependencyType


@dataclass(frozen=True, slots=True)
class Dependency:
    """``successor`` may start only after ``predecessor`` finishes, plus ``lag_days`` working days."""

    id: str
    plan_id: str
    predecessor_id: str
    successor_id: str
    type: DependencyType
    lag_days: float
    created_at: datetime

    def __post_init__(self) -> None:
        if not math.isfinite(self.lag_days):
            raise invalid("lagDays must be a finite number", "lagDays")
