"""The inputs of the IAM-only publish mutations: a live update in the shape subscribers receive.

On AppSync the backend's publisher (``adapters.appsync.publisher``) calls ``publishPlanEvent`` /
``publishSimulationProgress`` and a NONE data source hands the input back, which AppSync pushes to
the ``onPlanEvent`` / ``onSimulationProgress`` subscribers. The local server refuses them
(FORBIDDEN): its subscriptions follow the committed outbox directly.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.scalars import JSON
from schema.types.live import PlanEventKind
from schema.types.simulations import SimulationStatus


@strawberry.input(description="A committed change to a plan, as `onPlanEvent` delivers it (the backend's only).")
class PublishPlanEventInput:
    plan_id: strawberry.ID
    kind: PlanEventKind  # type: ignore[valid-type]
    entity_id: strawberry.ID
    occurred_at: datetime
    data: JSON
    position: int


@strawberry.input(description="A run's progress, as `onSimulationProgress` delivers it (the backend's only).")
class PublishSimulationProgressInput:
    simulation_id: strawberry.ID
    plan_id: strawberry.ID
    status: SimulationStatus  # type: ignore[valid-type]
    progress: float
    completed_iterations: int
