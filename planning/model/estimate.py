from __future__ import annotations

import math
from dataclasses import dataclass

from planning.errors import invalid


@dataclass(frozen=True, slots=True)
class ThreePointEstimate:
    """Optimistic, most likely and pessimistic duration in working days."""

    optimistic_days: float
    most_likely_days: float
    pessimistic_days: float

    def __post_init__(self) -> None:
        points = (self.optimistic_days, self.most_likely_days, self.pessimistic_days)
        if not all(math.isfinite(p) for p in points):
            raise invalid("estimate points must be finite numbers", "estimate")
        if not 0 < self.optimistic_days <= self.most_likely_days <= self.pessimistic_days:
            raise invalid(
                "estimate needs 0 < optimisticDays <= mostLikelyDays <= pessimisticDays, got "
                f"{self.optimistic_days:g}, {self.most_likely_days:g}, {self.pessimistic_days:g}",
                "estimate",
            )

    @classmethod
    def fixed(cls, days: float) -> ThreePointEstimate:
        return cls(days, days, days)
