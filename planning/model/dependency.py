from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from planning.model.enums import DependencyType
from planning.model.limits import check_days


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
        check_days(self.lag_days, "lagDays", negative=True)
