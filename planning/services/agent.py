"""The optimisation agent: candidate actions after an external event, scored by simulation.

No language model is needed: candidates come from the event's impact on the critical-path
schedule, and each is scored by simulating the plan with and without it on common random
numbers (``planning.ports.scoring``), so a difference is the action's effect, not noise.

Candidates, each only where it applies:

* ``SHIFT_DATES``: the affected and downstream tasks get the start and due dates of the
  forecast with the event (dates do not change the simulated durations: it absorbs the delay
  in the plan's own dates, so it scores no gain and no loss).
* ``CRASH_DURATION``: a critical task's estimate shortened by ``CRASH_SHARE`` (every point).
* ``FAST_TRACK``: a finish-to-start link between two critical tasks overlapped by
  ``FAST_TRACK_SHARE`` of the predecessor's remaining most-likely duration (a negative lag).
* ``REASSIGN``: a critical task given to the plan member whose own open tasks all have at least
  ``REASSIGN_MIN_SLACK_DAYS`` of slack (the simulation has no workload model, so this scores
  no change in the forecast; it frees the critical task's current assignees).
* ``ADD_BUFFER``: a lag buffer after an affected task on a link into a task with slack, as much
  as that slack and the delay allow: the plan shows the delay where it lands, while the event
  date stays reachable. Kept only when the simulation agrees.

Actions that would lower the on-time probability are dropped; the rest are ranked by gain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from planning.documents import PlanDocument
from planning.errors import invalid
from planning.graph_projection import graph_edge, graph_task
from planning.model import Dependency, ExternalEvent, ExternalEventStatus, Plan, Task, TaskStatus
from planning.model.action import ActionType, ExpectedImpact
from planning.model.dag import reachable
from planning.ports.scheduling import Delay, Schedule, Scheduler, ScheduleRequest
from planning.ports.scoring import PlanVariant, ScoringRequest, VariantScorer
from planning.services.graph_queries import forecast_delays
from planning.services.simulations import risks_of

#: Share of every estimate point a CRASH_DURATION takes off (documented in README).
CRASH_SHARE = 0.2
#: Share of the predecessor's remaining most-likely duration a FAST_TRACK overlaps.
FAST_TRACK_SHARE = 0.25
#: Slack every open task of a REASSIGN's new assignee keeps, at least.
REASSIGN_MIN_SLACK_DAYS = 5.0
#: Candidates of one type, at most (the largest effects first).
MAX_PER_TYPE = 3
#: Proposals for one event, at most.
MAX_PROPOSALS = 10
#: Tasks one SHIFT_DATES moves, at most.
MAX_SHIFTED_TASKS = 100
#: Iterations of each scoring simulation (all candidates share the draws).
AGENT_ITERATIONS = 2000
_SMALLEST_CHANGE_DAYS = 0.5


@dataclass(frozen=True, slots=True)
class AgentInput:
    plan: Plan
    tasks: tuple[Task, ...]
    dependencies: tuple[Dependency, ...]
    events: tuple[ExternalEvent, ...]
    event: ExternalEvent
    as_of: date


@dataclass(frozen=True, slots=True)
class Candidate:
    """An action before scoring: what it changes (``parameters``), the same as a variant of the
    plan for the simulation, and the tasks it touches."""

    action_type: ActionType
    task_id: str | None
    parameters: dict[str, Any]
    variant: PlanVariant
    touched: tuple[str, ...]
    summary: str


@dataclass(frozen=True, slots=True)
class Proposal:
    candidate: Candidate
    impact: ExpectedImpact
    rationale: str
    rank: int = 0


@dataclass(frozen=True, slots=True)
class AgentRun:
    """The agent's answer: ranked proposals, and the numbers they were scored against."""

    proposals: tuple[Proposal, ...]
    target_date: date
    on_time_probability: float
    critical_path_delay_days: float
    iterations: int
    seed: int
    candidates: int = 0
    schedule_after: Schedule | None = field(default=None, compare=False)


def seed_of(event_id: str) -> int:
    """A fixed seed per event: running the agent again for it draws the same futures."""
    return int.from_bytes(hashlib.sha256(event_id.encode("utf-8")).digest()[:4], "big") >> 1


class OptimisationAgent:
    def __init__(self, scheduler: Scheduler, scorer: VariantScorer, *, iterations: int = AGENT_ITERATIONS) -> None:
        self._scheduler = scheduler
        self._scorer = scorer
        self.iterations = iterations

    def run(self, inp: AgentInput) -> AgentRun:
        occurring = replace(inp.event, status=ExternalEventStatus.OPEN, probability=None)
        others = [e for e in inp.events if e.id != inp.event.id]
        with_it = [occurring if e.id == inp.event.id else e for e in inp.events]
        if len(with_it) == len(others):
            with_it.append(occurring)
        before = self._schedule(inp, forecast_delays(others))
        after = self._schedule(inp, forecast_delays(with_it))
        target = inp.plan.event_date or before.finish_date
        candidates = generate(inp, after)
        seed = seed_of(inp.event.id)
        request = ScoringRequest(
            tasks=tuple(graph_task(t) for t in inp.tasks),
            edges=tuple(graph_edge(d) for d in inp.dependencies),
            calendar=inp.plan.calendar,
            as_of=inp.as_of,
            target_date=target,
            risks=risks_of([*others, inp.event] if inp.event.counts else others),
            variants=tuple(c.variant for c in candidates),
            iterations=self.iterations,
            seed=seed,
        )
        base, scores = self._scorer.score(request)
        proposals = []
        for candidate, score in zip(candidates, scores, strict=True):
            impact = ExpectedImpact(
                on_time_probability_before=base.on_time_probability,
                on_time_probability_after=score.on_time_probability,
                finish_date_delta_days=round(score.mean_finish_days - base.mean_finish_days, 2),
            )
            if impact.gain < 0:
                continue
            proposals.append(Proposal(candidate, impact, rationale(candidate, impact, target, self.iterations)))
        order = list(ActionType)
        proposals.sort(
            key=lambda p: (
                -p.impact.gain,
                p.impact.finish_date_delta_days,
                order.index(p.candidate.action_type),
                p.candidate.summary,
            )
        )
        ranked = tuple(replace(p, rank=i + 1) for i, p in enumerate(proposals[:MAX_PROPOSALS]))
        return AgentRun(
            proposals=ranked,
            target_date=target,
            on_time_probability=base.on_time_probability,
            critical_path_delay_days=round(after.duration_days - before.duration_days, 6),
            iterations=self.iterations,
            seed=seed,
            candidates=len(candidates),
            schedule_after=after,
        )

    def _schedule(self, inp: AgentInput, delays: Sequence[Delay]) -> Schedule:
        known = {t.id for t in inp.tasks}
        return self._scheduler.schedule(
            ScheduleRequest(
                tasks=tuple(graph_task(t) for t in inp.tasks),
                edges=tuple(graph_edge(d) for d in inp.dependencies),
                calendar=inp.plan.calendar,
                as_of=inp.as_of,
                delays=tuple(replace(d, task_ids=tuple(t for t in d.task_ids if t in known)) for d in delays),
            )
        )


def rationale(candidate: Candidate, impact: ExpectedImpact, target: date, iterations: int) -> str:
    before, after = impact.on_time_probability_before, impact.on_time_probability_after
    delta = impact.finish_date_delta_days
    if after == before and delta == 0:
        effect = f"leaves the chance of finishing by {target.isoformat()} at {before:.1%} and the mean finish as it is"
    else:
        move = "earlier" if delta < 0 else "later"
        chance = (
            f"keeps the chance of finishing by {target.isoformat()} at {before:.1%}"
            if after == before
            else f"moves the chance of finishing by {target.isoformat()} from {before:.1%} to {after:.1%} "
            f"({(after - before) * 100:+.1f} points)"
        )
        effect = f"{chance} and moves the mean finish {abs(delta):g} working days {move}"
    return f"{candidate.summary}: {effect} ({iterations} simulated futures, the same for every proposal)."


# -- candidates ---------------------------------------------------------------------------------


def _remaining_points(task: Task) -> tuple[float, float, float] | None:
    points = task.scheduling_points
    if points is None or task.status is TaskStatus.COMPLETED:
        return None
    share = 1.0 if task.status is TaskStatus.NOT_STARTED else (100 - task.percent_complete) / 100.0
    return (points[0] * share, points[1] * share, points[2] * share)


def _remaining_most_likely(task: Task) -> float:
    points = _remaining_points(task)
    return 0.0 if points is None else points[1]


def generate(inp: AgentInput, after: Schedule) -> list[Candidate]:
    """Every candidate that applies, in type order (at most ``MAX_PER_TYPE`` of each)."""
    tasks = {t.id: t for t in inp.tasks}
    succs: dict[str, list[str]] = {}
    for d in inp.dependencies:
        succs.setdefault(d.predecessor_id, []).append(d.successor_id)
    affected = [t for t in inp.event.affected_task_ids if t in tasks]
    downstream: dict[str, None] = dict.fromkeys(affected)
    for task_id in affected:
        downstream.update(dict.fromkeys(node for node, _ in sorted(reachable(succs, task_id), key=lambda x: x[1])))
    critical = [t for t in after.critical_path if t in tasks and _remaining_most_likely(tasks[t]) > 0]
    return [
        *_shift_dates(tasks, list(downstream), after),
        *_crash(tasks, critical, set(downstream)),
        *_fast_track(tasks, inp.dependencies, after),
        *_reassign(tasks, critical, after),
        *_add_buffer(tasks, inp.dependencies, affected, after, inp.event.delay_days),
    ]


def _shift_dates(tasks: dict[str, Task], moved: Sequence[str], after: Schedule) -> list[Candidate]:
    changes: list[dict[str, Any]] = []
    for task_id in moved:
        task, timing = tasks[task_id], after.timings.get(task_id)
        if timing is None or timing.done or task.status is TaskStatus.COMPLETED:
            continue
        start, due = timing.forecast_start, timing.forecast_finish
        if (task.start_date, task.due_date) == (start, due) or start is None or due is None:
            continue
        changes.append(
            {
                "taskId": task.id,
                "title": task.title,
                "startDate": {"from": _iso(task.start_date), "to": start.isoformat()},
                "dueDate": {"from": _iso(task.due_date), "to": due.isoformat()},
            }
        )
    if not changes:
        return []
    changes = changes[:MAX_SHIFTED_TASKS]
    first = tasks[changes[0]["taskId"]]
    return [
        Candidate(
            ActionType.SHIFT_DATES,
            first.id,
            {"tasks": changes},
            PlanVariant(),
            tuple(c["taskId"] for c in changes),
            f"Move the dates of {len(changes)} task(s) from {first.title!r} on to the forecast with the event",
        )
    ]


def _crash(tasks: dict[str, Task], critical: Sequence[str], downstream: set[str]) -> list[Candidate]:
    def weight(task_id: str) -> tuple[bool, float, str]:
        return (task_id not in downstream, -_remaining_most_likely(tasks[task_id]), task_id)

    out = []
    for task_id in sorted(critical, key=weight)[:MAX_PER_TYPE]:
        task = tasks[task_id]
        keep = 1.0 - CRASH_SHARE
        if task.estimate is not None:
            est = task.estimate
            old = (est.optimistic_days, est.most_likely_days, est.pessimistic_days)
            new = tuple(round(p * keep, 2) for p in old)
            if new[0] <= 0:
                continue
            change: dict[str, Any] = {"estimate": {"from": _points(old), "to": _points(new)}}
        elif task.duration_days is not None:
            old_days = task.duration_days
            new_days = round(old_days * keep, 2)
            new = (new_days, new_days, new_days)
            change = {"durationDays": {"from": old_days, "to": new_days}}
        else:
            continue
        out.append(
            Candidate(
                ActionType.CRASH_DURATION,
                task.id,
                {"taskId": task.id, "title": task.title, "share": CRASH_SHARE, **change},
                PlanVariant(estimates={task.id: (new[0], new[1], new[2])}),
                (task.id,),
                f"Crash {task.title!r} by {CRASH_SHARE:.0%} (most likely {_days(task)} -> {new[1]:g} days)",
            )
        )
    return out


def _fast_track(tasks: dict[str, Task], deps: Sequence[Dependency], after: Schedule) -> list[Candidate]:
    found = []
    for dep in deps:
        pred, succ = tasks.get(dep.predecessor_id), tasks.get(dep.successor_id)
        tp, ts = after.timings.get(dep.predecessor_id), after.timings.get(dep.successor_id)
        if pred is None or succ is None or tp is None or ts is None or not (tp.critical and ts.critical):
            continue
        points = _remaining_points(pred)
        if points is None or _remaining_points(succ) is None:
            continue
        overlap = round(points[1] * FAST_TRACK_SHARE, 1)
        if overlap < _SMALLEST_CHANGE_DAYS:
            continue
        found.append((overlap, dep, pred, succ))
    found.sort(key=lambda x: (-x[0], x[1].id))
    out = []
    for overlap, dep, pred, succ in found[:MAX_PER_TYPE]:
        new_lag = round(dep.lag_days - overlap, 2)
        out.append(
            Candidate(
                ActionType.FAST_TRACK,
                succ.id,
                {
                    "dependencyId": dep.id,
                    "predecessorId": pred.id,
                    "successorId": succ.id,
                    "predecessorTitle": pred.title,
                    "successorTitle": succ.title,
                    "share": FAST_TRACK_SHARE,
                    "lagDays": {"from": dep.lag_days, "to": new_lag},
                },
                PlanVariant(lags={(pred.id, succ.id): new_lag}),
                (pred.id, succ.id),
                f"Fast-track {succ.title!r}: start it {overlap:g} days before {pred.title!r} finishes",
            )
        )
    return out


def _reassign(tasks: dict[str, Task], critical: Sequence[str], after: Schedule) -> list[Candidate]:
    slack_of: dict[str, float] = {}
    for task in tasks.values():
        timing = after.timings.get(task.id)
        open_task = task.status is not TaskStatus.COMPLETED and timing is not None and not timing.done
        for person in task.assignees:
            slack = timing.slack_days if open_task and timing is not None else float("inf")
            slack_of[person] = min(slack_of.get(person, float("inf")), slack)
    free = sorted((p for p, s in slack_of.items() if s >= REASSIGN_MIN_SLACK_DAYS), key=lambda p: (-slack_of[p], p))
    out = []
    for task_id in critical:
        task = tasks[task_id]
        if not task.assignees:
            continue
        choice = next((p for p in free if p not in task.assignees), None)
        if choice is None:
            continue
        slack = slack_of[choice]
        shown = "no open tasks" if slack == float("inf") else f"at least {slack:g} days of slack on every open task"
        out.append(
            Candidate(
                ActionType.REASSIGN,
                task.id,
                {"taskId": task.id, "title": task.title, "assignees": {"from": list(task.assignees), "to": [choice]}},
                PlanVariant(),
                (task.id,),
                f"Give critical task {task.title!r} to {choice} ({shown}); the simulation models no workload, "
                "so its dates stay, and its current assignees are freed",
            )
        )
        if len(out) == MAX_PER_TYPE:
            break
    return out


def _add_buffer(
    tasks: dict[str, Task], deps: Sequence[Dependency], affected: Sequence[str], after: Schedule, delay: float
) -> list[Candidate]:
    out = []
    for dep in deps:
        if dep.predecessor_id not in affected:
            continue
        succ, timing = tasks.get(dep.successor_id), after.timings.get(dep.successor_id)
        if succ is None or timing is None or timing.critical or timing.done:
            continue
        buffer = round(min(timing.slack_days, delay), 1)
        if buffer < _SMALLEST_CHANGE_DAYS:
            continue
        new_lag = round(dep.lag_days + buffer, 2)
        out.append(
            Candidate(
                ActionType.ADD_BUFFER,
                succ.id,
                {
                    "dependencyId": dep.id,
                    "predecessorId": dep.predecessor_id,
                    "successorId": succ.id,
                    "predecessorTitle": tasks[dep.predecessor_id].title if dep.predecessor_id in tasks else None,
                    "successorTitle": succ.title,
                    "bufferDays": buffer,
                    "lagDays": {"from": dep.lag_days, "to": new_lag},
                },
                PlanVariant(lags={(dep.predecessor_id, succ.id): new_lag}),
                (dep.predecessor_id, succ.id),
                f"Add a {buffer:g}-day buffer before {succ.title!r}, within its slack",
            )
        )
        if len(out) == MAX_PER_TYPE:
            break
    return out


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _points(points: Sequence[float]) -> dict[str, float]:
    return {"optimisticDays": points[0], "mostLikelyDays": points[1], "pessimisticDays": points[2]}


def _days(task: Task) -> str:
    points = task.scheduling_points
    return "?" if points is None else f"{points[1]:g}"


def document_input(doc: PlanDocument, event: ExternalEvent, *, as_of: date, at: datetime) -> AgentInput:
    """The agent's input for a plan document that is not stored (task keys serve as ids), with a
    what-if ``event`` besides the document's own events."""
    plan = Plan(
        id=event.plan_id,
        name=doc.name,
        planner_plan_id=doc.planner_plan_id,
        event_date=doc.event_date,
        calendar=doc.calendar,
        created_at=at,
        updated_at=at,
    )
    tasks = tuple(
        Task(
            id=t.key,
            plan_id=plan.id,
            title=t.title,
            status=t.status,
            percent_complete=t.percent_complete,
            start_date=t.start_date,
            due_date=t.due_date,
            duration_days=t.duration_days,
            estimate=t.estimate,
            assignees=t.assignees,
            planner_task_id=t.planner_task_id,
            version=1,
            created_at=at,
            updated_at=at,
        )
        for t in doc.tasks
    )
    deps = tuple(
        Dependency(f"{d.predecessor}->{d.successor}", plan.id, d.predecessor, d.successor, d.type, d.lag_days, at)
        for d in doc.dependencies
    )
    keys = {t.key for t in doc.tasks}
    unknown = [k for k in event.affected_task_ids if k not in keys]
    if unknown:
        raise invalid(f"the plan document has no task with key {unknown[0]!r}", "event")
    return AgentInput(plan, tasks, deps, (*doc.external_events(plan.id), event), event, as_of)
