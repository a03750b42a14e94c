from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planning.access import Access, store_lookup
from planning.ports import DependencyGraph
from planning.ports.background import Background
from planning.ports.locks import ProcessLock
from planning.ports.memo import Memo
from planning.ports.planner import PlannerGraph
from planning.ports.scheduling import Scheduler
from planning.ports.scoring import VariantScorer
from planning.ports.simulation import RiskSimulator, SimulationQueue
from planning.principal import Principal
from planning.services.actions import ActionService
from planning.services.agent import OptimisationAgent
from planning.services.base import ServiceDeps
from planning.services.dependencies import DependencyService
from planning.services.documents import DocumentService
from planning.services.external_events import ExternalEventService
from planning.services.graph_freshness import FRESHNESS_WAIT_S, FreshPlanGraphs
from planning.services.graph_maintenance import GraphMaintenance
from planning.services.graph_queries import GraphQueries
from planning.services.members import MemberService
from planning.services.planner_sync import PlannerSyncService
from planning.services.plans import PlanService
from planning.services.projection import ProjectionDriver
from planning.services.simulations import SimulationService
from planning.services.tasks import TaskService


@dataclass(frozen=True, slots=True)
class PlanningServices:
    """Every use case, wired to one set of ports. Built once by the composition root."""

    plans: PlanService
    members: MemberService
    tasks: TaskService
    dependencies: DependencyService
    external_events: ExternalEventService
    documents: DocumentService
    graph: GraphQueries
    graph_maintenance: GraphMaintenance
    simulations: SimulationService
    deps: ServiceDeps
    actions: ActionService
    #: None where no lock factory was given (the sync needs one: two syncs of a plan never overlap).
    planner_sync: PlannerSyncService | None = None

    def access(self, principal: Principal) -> Access:
        """A caller's ``Access`` for one request: hand it to every service the request calls, so
        that its roles are read once (``planning.access``)."""
        return Access(principal, store_lookup(self.deps.uow))

    @classmethod
    def build(
        cls,
        deps: ServiceDeps,
        *,
        graph: DependencyGraph,
        scheduler: Scheduler,
        simulator: RiskSimulator,
        simulation_queue: SimulationQueue,
        background: Background,
        projection: ProjectionDriver,
        maintenance_lock: ProcessLock,
        scorer: VariantScorer,
        freshness_wait_s: float = FRESHNESS_WAIT_S,
        memo: Memo | None = None,
        planner_graph: PlannerGraph | None = None,
        lock_for: Callable[[str], ProcessLock] | None = None,
    ) -> PlanningServices:
        """``maintenance_lock`` is the graph projection's lock, as a holder of its own;
        ``lock_for`` makes the named process locks the Planner sync takes (one per plan), and
        ``planner_graph`` is Microsoft Graph (None when not configured). ``memo`` keeps plans'
        graphs, schedules and task lists between requests (nothing is kept without it).
        """
        fresh = FreshPlanGraphs(deps.uow, graph, projection, wait_s=freshness_wait_s, memo=memo)
        tasks = TaskService(deps, memo=memo)
        dependencies = DependencyService(deps)
        return cls(
            plans=PlanService(deps),
            members=MemberService(deps),
            tasks=tasks,
            dependencies=dependencies,
            external_events=ExternalEventService(deps),
            documents=DocumentService(deps),
            graph=GraphQueries(deps.uow, fresh, scheduler, deps.clock, memo=memo),
            graph_maintenance=GraphMaintenance(deps.uow, graph, maintenance_lock),
            simulations=SimulationService(deps, simulator, simulation_queue, background),
            deps=deps,
            actions=ActionService(deps, OptimisationAgent(scheduler, scorer), tasks, dependencies),
            planner_sync=None if lock_for is None else PlannerSyncService(deps, planner_graph, lock_for),
        )
