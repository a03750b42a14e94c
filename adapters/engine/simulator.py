from __future__ import annotations

from typing import Any

from adapters.engine.scheduler import calendar_input, task_input
from planning.errors import DomainError, ErrorCode
from planning.ports.simulation import Progress, SimulationRequest
from simulation import CycleError, DependencyInput, PlanInput, RiskInput, simulate_plan
from simulation.calendar import CalendarOverflowError


def plan_input(request: SimulationRequest) -> PlanInput:
    return PlanInput(
        tasks=tuple(task_input(t) for t in request.tasks),
        dependencies=tuple(DependencyInput(e.predecessor_id, e.successor_id, e.lag_days) for e in request.edges),
        as_of=request.as_of,
        event_date=request.event_date,
        calendar=calendar_input(request.calendar),
        risks=tuple(RiskInput(r.probability, r.delay_days, r.task_ids) for r in request.risks),
    )


class EngineSimulator:
    """The planning RiskSimulator port on the numpy Monte Carlo engine."""

    def simulate(self, request: SimulationRequest, progress: Progress | None = None) -> dict[str, Any]:
        try:
            report = simulate_plan(
                plan_input(request),
                request.iterations,
                request.seed,
                distribution=request.distribution.value.lower(),
                shards=request.shards,
                progress=progress,
            )
        except CycleError as exc:
            raise DomainError(ErrorCode.CYCLE, f"the plan's dependencies form a cycle: {exc}") from exc
        except CalendarOverflowError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, f"the plan is too long to schedule: {exc}") from exc
        return report.to_json()
