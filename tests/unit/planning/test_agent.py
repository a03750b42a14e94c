"""The optimisation agent's rules: which candidates apply, how they are kept and ranked."""

from __future__ import annotations

from datetime import UTC, date, datetime

from adapters.engine.scheduler import EngineScheduler
from adapters.engine.variant_scorer import EngineVariantScorer
from planning.model import (
    Dependency,
    DependencyType,
    ExternalEvent,
    Plan,
    Severity,
    Task,
    TaskStatus,
    ThreePointEstimate,
    WorkCalendar,
)
from planning.model.action import ActionType
from planning.ports.scoring import ScoringRequest, VariantScore
from planning.services.agent import CRASH_SHARE, FAST_TRACK_SHARE, AgentInput, OptimisationAgent

AT = datetime(2025, 1, 6, 9, tzinfo=UTC)
AS_OF = date(2025, 1, 6)


def _task(key: str, days: float, who: str, *, start: date | None = None) -> Task:
    return Task(
        id=key,
        plan_id="p",
        title=key.title(),
        status=TaskStatus.NOT_STARTED,
        percent_complete=0,
        start_date=start,
        due_date=None,
        duration_days=None,
        estimate=ThreePointEstimate(days * 0.8, days, days * 1.5),
        assignees=(who,),
        planner_task_id=None,
        version=3,
        created_at=AT,
        updated_at=AT,
    )


def _input(delay: float = 3.0) -> AgentInput:
    """a -> b -> c critical; a -> side with slack; idle@ has only the side task."""
    tasks = (
        _task("a", 5, "ann@example.com", start=AS_OF),
        _task("b", 8, "bob@example.com"),
        _task("c", 10, "cy@example.com"),
        _task("side", 2, "idle@example.com"),
    )
    links = [("a", "b"), ("b", "c"), ("a", "side")]
    deps = tuple(Dependency(f"{p}-{s}", "p", p, s, DependencyType.FINISH_TO_START, 0.0, AT) for p, s in links)
    plan = Plan("p", "Plan", None, date(2025, 2, 14), WorkCalendar(), AT, AT)
    event = ExternalEvent(
        id="e",
        plan_id="p",
        event_type="supplier_delay",
        severity=Severity.HIGH,
        title="Late",
        description=None,
        source=None,
        occurred_at=AT,
        received_at=AT,
        delay_days=delay,
        probability=None,
        payload=None,
        affected_task_ids=("a",),
        idempotency_key=None,
    )
    return AgentInput(plan, tasks, deps, (event,), event, AS_OF)


def test_every_action_type_is_generated_with_exactly_what_it_changes() -> None:
    run = OptimisationAgent(EngineScheduler(), EngineVariantScorer(), iterations=500).run(_input())
    assert run.critical_path_delay_days == 3.0
    by_type: dict[ActionType, list] = {}
    for proposal in run.proposals:
        by_type.setdefault(proposal.candidate.action_type, []).append(proposal.candidate)
    assert set(by_type) == set(ActionType)

    crash = next(c for c in by_type[ActionType.CRASH_DURATION] if c.task_id == "c")
    assert crash.parameters["estimate"] == {
        "from": {"optimisticDays": 8.0, "mostLikelyDays": 10.0, "pessimisticDays": 15.0},
        "to": {"optimisticDays": 6.4, "mostLikelyDays": 8.0, "pessimisticDays": 12.0},
    }
    assert crash.parameters["share"] == CRASH_SHARE
    assert crash.variant.estimates == {"c": (6.4, 8.0, 12.0)}

    fast = next(c for c in by_type[ActionType.FAST_TRACK] if c.parameters["dependencyId"] == "b-c")
    assert fast.parameters["lagDays"] == {"from": 0.0, "to": -8 * FAST_TRACK_SHARE}
    assert fast.variant.lags == {("b", "c"): -2.0}
    assert fast.touched == ("b", "c")

    [reassign] = [c for c in by_type[ActionType.REASSIGN] if c.task_id == "c"]
    assert reassign.parameters["assignees"] == {"from": ["cy@example.com"], "to": ["idle@example.com"]}

    [buffer] = by_type[ActionType.ADD_BUFFER]
    assert buffer.parameters["dependencyId"] == "a-side"
    assert buffer.parameters["lagDays"] == {"from": 0.0, "to": 3.0}

    [shift] = by_type[ActionType.SHIFT_DATES]
    moved = {e["taskId"]: e for e in shift.parameters["tasks"]}
    assert set(moved) == {"a", "b", "c", "side"}
    assert moved["a"]["startDate"]["from"] == AS_OF.isoformat()


def test_actions_that_change_nothing_in_the_simulation_score_exactly_zero() -> None:
    run = OptimisationAgent(EngineScheduler(), EngineVariantScorer(), iterations=500).run(_input())
    for proposal in run.proposals:
        if proposal.candidate.action_type in (ActionType.SHIFT_DATES, ActionType.REASSIGN):
            assert proposal.impact.on_time_probability_after == proposal.impact.on_time_probability_before
            assert proposal.impact.finish_date_delta_days == 0.0


class _FixedScorer:
    """Scores variant ``i`` at ``base + gains[i]``: the agent's ranking and filtering on their own."""

    def __init__(self, gains: dict[ActionType, float]) -> None:
        self.gains = gains
        self.requests: list[ScoringRequest] = []

    def score(self, request: ScoringRequest) -> tuple[VariantScore, list[VariantScore]]:
        self.requests.append(request)
        scores = []
        for variant in request.variants:
            kind = (
                ActionType.CRASH_DURATION
                if variant.estimates
                else ActionType.FAST_TRACK
                if variant.lags
                else ActionType.SHIFT_DATES
            )
            scores.append(VariantScore(0.5 + self.gains[kind], 30.0 - 10 * self.gains[kind]))
        return VariantScore(0.5, 30.0), scores


def test_actions_that_lower_the_on_time_probability_are_dropped_and_the_rest_ranked_by_gain() -> None:
    scorer = _FixedScorer({ActionType.CRASH_DURATION: 0.2, ActionType.FAST_TRACK: -0.1, ActionType.SHIFT_DATES: 0.0})
    run = OptimisationAgent(EngineScheduler(), scorer, iterations=100).run(_input())
    kinds = [p.candidate.action_type for p in run.proposals]
    assert ActionType.FAST_TRACK not in kinds
    assert ActionType.ADD_BUFFER not in kinds  # a lag too: scored as the fake's FAST_TRACK
    assert kinds[0] is ActionType.CRASH_DURATION
    assert [p.rank for p in run.proposals] == list(range(1, len(run.proposals) + 1))
    best = run.proposals[0]
    assert (best.impact.on_time_probability_before, best.impact.on_time_probability_after) == (0.5, 0.7)
    assert best.impact.finish_date_delta_days == -2.0
    assert "50.0% to 70.0%" in best.rationale
    # One scoring call for all candidates (they share the draws), with a fixed seed per event.
    [request] = scorer.requests
    assert request.target_date == date(2025, 2, 14)
    assert len(request.variants) == run.candidates
    assert OptimisationAgent(EngineScheduler(), scorer, iterations=100).run(_input()).seed == run.seed
