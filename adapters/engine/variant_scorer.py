from __future__ import annotations

from adapters.engine.simulator import plan_input
from planning.errors import DomainError, ErrorCode
from planning.model.simulation import Distribution
from planning.ports.scoring import ScoringRequest, VariantScore
from planning.ports.simulation import SimulationRequest
from simulation import CycleError
from simulation.calendar import CalendarOverflowError
from simulation.whatif import Outcome, Variant, compare


class EngineVariantScorer:
    """The planning VariantScorer port on the engine's common-random-numbers comparison
    (``simulation.whatif``): task ids are the task keys, so each task's draws follow the task."""

    def score(self, request: ScoringRequest) -> tuple[VariantScore, list[VariantScore]]:
        plan = plan_input(
            SimulationRequest(
                tasks=request.tasks,
                edges=request.edges,
                calendar=request.calendar,
                as_of=request.as_of,
                event_date=request.target_date,
                risks=request.risks,
                iterations=request.iterations,
                seed=request.seed,
                shards=1,
                distribution=Distribution.PERT,
            )
        )
        variants = [Variant(estimates=dict(v.estimates), lags=dict(v.lags)) for v in request.variants]
        try:
            base, outcomes = compare(plan, variants, request.iterations, request.seed)
        except CycleError as exc:
            raise DomainError(ErrorCode.CYCLE, f"the plan's dependencies form a cycle: {exc}") from exc
        except CalendarOverflowError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, f"the plan is too long to schedule: {exc}") from exc
        return _score(base), [_score(o) for o in outcomes]


def _score(outcome: Outcome) -> VariantScore:
    return VariantScore(outcome.on_time_probability, outcome.mean_finish_days)
