import datetime as dt
import json

import pytest

from simulation import (
    CalendarInput,
    CycleError,
    DependencyInput,
    PlanInput,
    RiskInput,
    TaskInput,
    build_model,
    merge_plan_shards,
    run_plan_shard,
    schedule_plan,
    simulate_plan,
)

SAT = dt.date(2026, 11, 21)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def plan(
    tasks: list[TaskInput],
    deps: list[DependencyInput] | None = None,
    risks: list[RiskInput] | None = None,
    event: dt.date | None = None,
    holidays: frozenset[dt.date] = frozenset(),
) -> PlanInput:
    return PlanInput(
        tasks=tuple(tasks),
        dependencies=tuple(deps or ()),
        as_of=SAT,
        event_date=event,
        calendar=CalendarInput(holidays=holidays),
        risks=tuple(risks or ()),
    )


def fixed(key: str, days: float, status: str = "NOT_STARTED", pct: int = 0) -> TaskInput:
    return TaskInput(key, days, days, days, status, pct)


def test_schedule_dates_follow_calendar_convention() -> None:
    p = plan(
        [fixed("a", 5), fixed("b", 1), fixed("c", 2)],
        [DependencyInput("a", "b"), DependencyInput("a", "c", lag_days=1)],
        holidays=frozenset({d(12, 1)}),
    )
    s = schedule_plan(p)
    a, b, c = s.tasks["a"], s.tasks["b"], s.tasks["c"]
    assert (a.early_start, a.early_finish) == (d(11, 23), d(11, 27))  # Mon..Fri
    assert (b.early_start, b.early_finish) == (d(11, 30), d(11, 30))
    # one working day of lag (Mon 30th), Tue 1 Dec is a holiday -> Wed..Thu
    assert (c.early_start, c.early_finish) == (d(12, 2), d(12, 3))
    assert s.duration_days == 8.0
    assert s.start_date == d(11, 23)
    assert s.finish_date == d(12, 3)
    assert s.critical_path == ("a", "c")
    assert b.total_slack_days == 2.0
    assert not b.is_critical
    assert (b.late_start, b.late_finish) == (d(12, 3), d(12, 3))


def test_remaining_work_completed_and_in_progress() -> None:
    p = plan(
        [
            TaskInput("done", 3, 5, 9, "COMPLETED", 100),
            TaskInput("half", 2, 4, 6, "IN_PROGRESS", 50),
            TaskInput("next", 1, 1, 1),
        ],
        [DependencyInput("done", "half"), DependencyInput("half", "next")],
    )
    model = build_model(p)
    assert model.durations.low.tolist() == [0.0, 1.0, 1.0]
    assert model.durations.mode.tolist() == [0.0, 2.0, 1.0]
    assert model.durations.high.tolist() == [0.0, 3.0, 1.0]
    s = schedule_plan(p)
    assert s.duration_days == 3.0
    assert s.tasks["done"].early_finish == d(11, 23)  # nothing left: an instant at time 0
    assert s.tasks["half"].early_start == d(11, 23)  # starts no earlier than as-of
    assert s.tasks["next"].early_start == d(11, 25)


def test_certain_risks_in_schedule_others_ignored() -> None:
    base = [fixed("a", 2), fixed("b", 3)]
    deps = [DependencyInput("a", "b")]
    assert schedule_plan(plan(base, deps)).duration_days == 5.0
    certain = plan(base, deps, [RiskInput(1.0, 2.0, ("a",)), RiskInput(0.99, 7.0, ("b",))])
    assert schedule_plan(certain).duration_days == 7.0


def test_simulation_report_fields_and_json() -> None:
    p = plan(
        [TaskInput("a", 2, 4, 9), TaskInput("b", 1, 2, 3), fixed("m", 0)],
        [DependencyInput("a", "m"), DependencyInput("b", "m")],
        [RiskInput(0.3, 2.0, ("b",))],
        event=d(11, 27),
    )
    r = simulate_plan(p, 5000, seed=42)
    assert sum(c for _, c in r.histogram) == 5000
    assert r.cumulative[-1][1] == 1.0
    probs = [x for _, x in r.cumulative]
    assert probs == sorted(probs)
    assert r.p50_finish_date <= r.p80_finish_date <= r.p90_finish_date
    assert r.on_time_probability is not None
    assert 0 < r.on_time_probability < 1
    # on time means the finish date is on or before Friday 27th
    by_event = sum(c for day, c in r.histogram if day <= d(11, 27)) / 5000
    assert r.on_time_probability == by_event
    assert r.on_time_standard_error == pytest.approx((by_event * (1 - by_event) / 5000) ** 0.5)
    assert r.task_criticality["m"] == 1.0
    assert r.sensitivity["m"] == 0.0
    assert all(day.weekday() < 5 for day, _ in r.histogram)
    payload = json.loads(json.dumps(r.to_json()))
    assert set(payload) >= {
        "onTimeProbability",
        "onTimeStandardError",
        "meanFinishDate",
        "p50FinishDate",
        "p80FinishDate",
        "p90FinishDate",
        "histogram",
        "cumulative",
        "taskCriticality",
        "sensitivity",
        "iterations",
        "seed",
    }
    assert payload["histogram"][0] == {"date": r.histogram[0][0].isoformat(), "count": r.histogram[0][1]}
    assert payload["p80FinishDate"] == r.p80_finish_date.isoformat()


def test_percentiles_use_inverted_cdf_on_dates() -> None:
    p = plan([TaskInput("a", 1, 5, 10)])
    r = simulate_plan(p, 2000, seed=1)
    for q, date in ((0.5, r.p50_finish_date), (0.8, r.p80_finish_date), (0.9, r.p90_finish_date)):
        cum = dict(r.cumulative)
        assert cum[date] >= q
        earlier = [x for day, x in r.cumulative if day < date]
        assert not earlier or earlier[-1] < q


def test_no_event_date_gives_no_probability() -> None:
    r = simulate_plan(plan([TaskInput("a", 1, 2, 3)]), 100, seed=1)
    assert r.on_time_probability is None
    assert r.on_time_standard_error is None


def test_event_before_origin_is_never_on_time() -> None:
    r = simulate_plan(plan([TaskInput("a", 1, 2, 3)], event=d(11, 20)), 100, seed=1)
    assert r.on_time_probability == 0.0


def test_all_completed_finishes_on_origin() -> None:
    p = plan([TaskInput("a", 1, 2, 3, "COMPLETED", 100)], event=d(11, 23))
    r = simulate_plan(p, 50, seed=1)
    assert r.histogram == ((d(11, 23), 50),)
    assert r.on_time_probability == 1.0
    assert schedule_plan(p).finish_date == d(11, 23)


def test_plan_shards_merge_equal_single_run() -> None:
    p = plan(
        [TaskInput("a", 2, 4, 9), TaskInput("b", 1, 2, 3), TaskInput("c", 1, 1, 4)],
        [DependencyInput("a", "c", 1.0), DependencyInput("b", "c")],
        [RiskInput(0.5, 1.0, ("a", "b"))],
        event=d(12, 4),
    )
    single = simulate_plan(p, 999, seed=3, distribution="triangular")
    shards = [run_plan_shard(p, 999, 3, i, 4, distribution="triangular") for i in range(4)]
    assert merge_plan_shards(p, shards) == single
    assert simulate_plan(p, 999, seed=3, distribution="triangular", shards=4) == single
    assert merge_plan_shards(p, shards).to_json() == single.to_json()


def test_validation_errors() -> None:
    with pytest.raises(ValueError, match="'bad'"):
        schedule_plan(plan([TaskInput("bad", 3, 2, 4)]))
    with pytest.raises(ValueError, match="'neg'"):
        schedule_plan(plan([TaskInput("neg", -1, 2, 4)]))
    with pytest.raises(ValueError, match="unknown task key 'zzz'"):
        schedule_plan(plan([fixed("a", 1)], [DependencyInput("a", "zzz")]))
    with pytest.raises(ValueError, match="unknown task key 'q'"):
        simulate_plan(plan([fixed("a", 1)], risks=[RiskInput(0.5, 1, ("q",))]), 10, 1)
    with pytest.raises(CycleError) as info:
        schedule_plan(plan([fixed("a", 1), fixed("b", 1)], [DependencyInput("a", "b"), DependencyInput("b", "a")]))
    assert set(info.value.cycle) == {"a", "b"}
    with pytest.raises(ValueError, match="distribution"):
        simulate_plan(plan([fixed("a", 1)]), 10, 1, distribution="normal")
    with pytest.raises(ValueError, match="status"):
        schedule_plan(plan([TaskInput("a", 1, 1, 1, "PAUSED")]))
