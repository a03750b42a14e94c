from __future__ import annotations

from planning.errors import DomainError, ErrorCode
from planning.model import WorkCalendar
from planning.ports.graph import GraphTask
from planning.ports.scheduling import Schedule, ScheduleRequest, TaskTiming
from simulation import (
    CalendarInput,
    CycleError,
    DependencyInput,
    PlanInput,
    RiskInput,
    TaskInput,
    schedule_plan,
)
from simulation.calendar import CalendarOverflowError


def calendar_input(calendar: WorkCalendar) -> CalendarInput:
    return CalendarInput(working_days=calendar.working_weekdays, holidays=calendar.holidays)


def task_input(task: GraphTask) -> TaskInput:
    """A task without a duration takes none (it cannot be scheduled, so it cannot delay)."""
    points = (task.optimistic_days, task.most_likely_days, task.pessimistic_days)
    low, mode, high = (0.0, 0.0, 0.0) if None in points else points
    return TaskInput(
        key=task.task_id,
        optimistic=float(low or 0.0),
        most_likely=float(mode or 0.0),
        pessimistic=float(high or 0.0),
        status=task.status,
        percent_complete=task.percent_complete,
    )


class EngineScheduler:
    """The planning Scheduler port on the numpy CPM engine."""

    def schedule(self, request: ScheduleRequest) -> Schedule:
        plan = PlanInput(
            tasks=tuple(task_input(t) for t in request.tasks),
            dependencies=tuple(DependencyInput(e.predecessor_id, e.successor_id, e.lag_days) for e in request.edges),
            as_of=request.as_of,
            calendar=calendar_input(request.calendar),
            risks=tuple(RiskInput(1.0, d.days, d.task_ids) for d in request.delays if d.task_ids),
        )
        try:
            result = schedule_plan(plan)
        except CycleError as exc:
            raise DomainError(ErrorCode.CYCLE, f"the plan's dependencies form a cycle: {exc}") from exc
        except CalendarOverflowError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, f"the plan is too long to schedule: {exc}") from exc
        return Schedule(
            timings={
                key: TaskTiming(
                    early_start=t.early_start,
                    early_finish=t.early_finish,
                    late_start=t.late_start,
                    late_finish=t.late_finish,
                    slack_days=float(t.total_slack_days),
                    critical=bool(t.is_critical),
                    done=bool(t.is_done),
                )
                for key, t in result.tasks.items()
            },
            critical_path=tuple(result.critical_path),
            duration_days=float(result.duration_days),
            start_date=result.start_date,
            finish_date=result.finish_date,
        )
