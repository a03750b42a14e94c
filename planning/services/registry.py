from __future__ import annotations

from dataclasses import dataclass

from planning.services.base import ServiceDeps
from planning.services.dependencies import DependencyService
from planning.services.documents import DocumentService
from planning.services.external_events import ExternalEventService
from planning.services.plans import PlanService
from planning.services.tasks import TaskService


@dataclass(frozen=True, slots=True)
class PlanningServices:
    """Every use case, wired to one set of ports. Built once by the composition root."""

    plans: PlanService
    tasks: TaskService
    dependencies: DependencyService
    external_events: ExternalEventService
    documents: DocumentService

    @classmethod
    def build(cls, deps: ServiceDeps) -> PlanningServices:
        return cls(
            plans=PlanService(deps),
            tasks=TaskService(deps),
            dependencies=DependencyService(deps),
            external_events=ExternalEventService(deps),
            documents=DocumentService(deps),
        )
