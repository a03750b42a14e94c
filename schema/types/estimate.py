from __future__ import annotations

import strawberry


@strawberry.type(description="Three-point estimate in working days: 0 < optimistic <= most likely <= pessimistic.")
class Estimate:
    optimistic_days: float
    most_likely_days: float
    pessimistic_days: float


@strawberry.input
class EstimateInput:
    optimistic_days: float
    most_likely_days: float
    pessimistic_days: float
