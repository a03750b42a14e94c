from __future__ import annotations

from dataclasses import dataclass

from planning.ports import DependencyGraph
from planning.ports.scheduling import Scheduler
from planning.ports.simulation import RiskSimulator, SimulationQueue
from planning.services.base import ServiceDeps
from planning.services.dependencies import DependencyService
from planning.services.documents import DocumentService
from planning.services.external_events import ExternalEventService
from planning.services.graph_maintenance import GraphMaintenance
from planning.services.graph_queries import GraphQueries
from planning.services.plans import PlanService
from planning.services.simulations import SimulationService
from planning.services.tasks import TaskService


@dataclass(frozen=True, slots=True)
class PlanningServices:
    """Every use case, wired to one set of ports. Built once by the composition root."""

    plans: PlanService
    tasks: TaskService
    dependencies: DependencyService
    external_events: ExternalEventService
    documents: DocumentService
    graph: GraphQueries
    graph_maintenance: GraphMaintenance
    simulations: SimulationService

    @classmethod
    def build(
        cls,
        deps: ServiceDeps,
        *,
        graph: DependencyGraph,
        scheduler: Scheduler,
        simulator: RiskSimulator,
        simulation_queue: SimulationQueue,
    ) -> PlanningServices:
        return cls(
            plans=PlanService(deps),
            tasks=TaskService(deps),
            dependencies=DependencyService(deps),
            external_events=ExternalEventService(deps),
            documents=DocumentService(deps),
            graph=GraphQueries(deps.uow, graph, scheduler, deps.clock),
            graph_maintenance=GraphMaintenance(deps.uow, graph),
            simulations=SimulationService(deps, simulator, simulation_queue),
        )
