"""The forecast of the remaining work through the API: dates, criticality and external events.

Completed tasks are never critical; ``forecastStart``/``forecastFinish``/``forecastFinishDate``
follow the calendar and lags; open certain events move the forecast and the critical path,
uncertain ones only simulations (their impact says what happens if they occur, and how likely
that is); resolving an event takes its delay out again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.cli import main
from adapters.config import Settings
from adapters.sql import SqlUnitOfWork
from planning.model import ExternalEventStatus
from planning.ports.graph import DependencyGraph
from planning.principal import Principal
from resolvers.ids import raw_id
from tests.graph_doubles import SwitchableGraph
from tests.graphql_client import GraphQL, operation
from tests.integration.graph_reference import today

ADMIN = Principal("t", frozenset({"admin"}))

PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")
SIM = operation("simulation.graphql")

FORECAST = """
query Forecast($planId: ID!) {
  plan(id: $planId) {
    forecastFinishDate
    criticalPath { durationDays startDate finishDate tasks { title } }
    tasks(first: 100) {
      edges { node { title isCritical slackDays riskScore forecastStart forecastFinish } }
    }
  }
}
"""

IMPACT = """
query Impact($id: ID!) {
  node(id: $id) {
    ... on ExternalEvent {
      impact {
        affectedTaskCount criticalPathDelayDays finishDateBefore finishDateAfter
        probability expectedDelayDays inForecast
      }
    }
  }
}
"""

RESOLVE = """
mutation Resolve($input: ResolveExternalEventInput!) {
  resolveExternalEvent(input: $input) {
    externalEvent { id status }
    userErrors { code message }
  }
}
"""


# Working days, computed independently of the engine -------------------------------------


def working_day(index: int, holidays: frozenset[date] = frozenset()) -> date:
    """Working day ``index`` (0 = the first one on or after today), Monday to Friday minus holidays."""

    def works(day: date) -> bool:
        return day.weekday() < 5 and day not in holidays

    day = today()
    while not works(day):
        day += timedelta(days=1)
    while index > 0:
        day += timedelta(days=1)
        if works(day):
            index -= 1
    return day


def iso(index: int, holidays: frozenset[date] = frozenset()) -> str:
    return working_day(index, holidays).isoformat()


# Building plans through the API ----------------------------------------------------------


def build(
    gql: GraphQL,
    tasks: dict[str, dict[str, Any]],
    edges: list[tuple[str, str, float]],
    holidays: frozenset[date] = frozenset(),
) -> tuple[str, dict[str, str]]:
    """A plan with ``tasks`` (title -> createTask fields) and ``edges``; its id and the task ids."""
    calendar = {"workingDays": ["MON", "TUE", "WED", "THU", "FRI"], "holidays": sorted(d.isoformat() for d in holidays)}
    created = gql(PLANS, {"input": {"name": "Forecast", "calendar": calendar}}, "CreatePlan")["createPlan"]
    assert created["userErrors"] == []
    plan_id = created["plan"]["id"]
    ids = {}
    for title, fields in tasks.items():
        task = gql(PLANS, {"input": {"planId": plan_id, "title": title, **fields}}, "CreateTask")["createTask"]
        assert task["userErrors"] == []
        ids[title] = task["task"]["id"]
    for pred, succ, lag in edges:
        added = gql(
            PLANS, {"input": {"predecessorId": ids[pred], "successorId": ids[succ], "lagDays": lag}}, "AddDependency"
        )["addDependency"]
        assert added["userErrors"] == []
    return plan_id, ids


def forecast(gql: GraphQL, plan_id: str) -> dict[str, Any]:
    plan = gql(FORECAST, {"planId": plan_id})["plan"]
    plan["byTitle"] = {e["node"]["title"]: e["node"] for e in plan["tasks"]["edges"]}
    return plan


def ingest(gql: GraphQL, plan_id: str, task_ids: list[str], delay: float, key: str, **extra: Any) -> str:
    payload = gql(
        EVENTS,
        {
            "input": {
                "planId": plan_id,
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": f"Delay {key}",
                "delayDays": delay,
                "affectedTaskIds": task_ids,
                "idempotencyKey": key,
                **extra,
            }
        },
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    assert payload["userErrors"] == []
    return payload["externalEvent"]["id"]


def impact(gql: GraphQL, event_id: str) -> dict[str, Any]:
    return gql(IMPACT, {"id": event_id})["node"]["impact"]


def simulate(gql: GraphQL, plan_id: str, **extra: Any) -> dict[str, Any]:
    """Queue a run and wait (polling) until the worker has finished it."""
    payload = gql(SIM, {"input": {"planId": plan_id, **extra}}, "RunSimulation")["runSimulation"]
    assert payload["userErrors"] == []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        node = gql(SIM, {"id": payload["simulation"]["id"]}, "SimulationDetail")["node"]
        if node["status"] in ("SUCCEEDED", "FAILED"):
            assert node["status"] == "SUCCEEDED", node["error"]
            return node["result"]
        time.sleep(0.05)
    raise AssertionError("the simulation did not finish in 60 s")


# A chain A (3 days) -> B (2 days), and C (1 day) on its own: finishes at the end of day 4.
CHAIN = {"A": {"durationDays": 3}, "B": {"durationDays": 2}, "C": {"durationDays": 1}}
CHAIN_EDGES = [("A", "B", 0.0)]


# Completed tasks -------------------------------------------------------------------------


def test_a_completed_task_is_never_critical(client) -> None:
    gql = GraphQL(client)
    estimate = {"optimisticDays": 2, "mostLikelyDays": 3, "pessimisticDays": 6}
    plan_id, ids = build(
        gql,
        {
            "Done": {"status": "COMPLETED", "estimate": estimate},
            "Build": {"estimate": estimate},
            "Ship": {"durationDays": 1},
        },
        [("Done", "Build", 0.0), ("Build", "Ship", 0.0)],
    )
    plan = forecast(gql, plan_id)
    done = plan["byTitle"]["Done"]
    # Its slack is zero (it heads the chain), yet it is not critical: it cannot move the finish.
    assert done["slackDays"] == 0.0
    assert done["isCritical"] is False
    assert done["riskScore"] == 0.0
    assert (done["forecastStart"], done["forecastFinish"]) == (None, None)
    assert plan["byTitle"]["Build"]["isCritical"] is True
    assert plan["byTitle"]["Ship"]["isCritical"] is True
    assert [t["title"] for t in plan["criticalPath"]["tasks"]] == ["Build", "Ship"]
    assert plan["criticalPath"]["startDate"] == iso(0)
    assert plan["forecastFinishDate"] == plan["criticalPath"]["finishDate"] == iso(3)

    result = simulate(gql, plan_id, iterations=2000, seed=5)
    shares = {c["task"]["title"]: c["criticalityIndex"] for c in result["taskCriticality"]}
    assert shares == {"Done": 0.0, "Build": 1.0, "Ship": 1.0}
    assert ids.keys() == shares.keys()


def test_a_plan_whose_work_is_all_done_has_no_critical_task(client) -> None:
    gql = GraphQL(client)
    plan_id, _ids = build(
        gql, {"a": {"status": "COMPLETED", "durationDays": 2}, "b": {"status": "COMPLETED", "durationDays": 1}}, []
    )
    plan = forecast(gql, plan_id)
    assert plan["criticalPath"]["tasks"] == []
    assert [t["isCritical"] for t in plan["byTitle"].values()] == [False, False]
    assert plan["forecastFinishDate"] == iso(0)  # nothing left: it finishes today


def test_a_plan_without_tasks_has_no_forecast_finish(client) -> None:
    gql = GraphQL(client)
    plan_id, _ids = build(gql, {}, [])
    assert forecast(gql, plan_id)["forecastFinishDate"] is None


# Forecast dates --------------------------------------------------------------------------


def test_forecast_dates_follow_the_calendar_and_lags(client) -> None:
    """Worked out by hand: D done, A 0-3, C half of 4 days 0-2, one day of lag, B 4-6."""
    gql = GraphQL(client)
    holiday = working_day(3)  # the fourth weekday from today is a holiday
    holidays = frozenset({holiday})
    plan_id, _ids = build(
        gql,
        {
            "A": {"durationDays": 3},
            "B": {"durationDays": 2},
            "C": {"durationDays": 4, "status": "IN_PROGRESS", "percentComplete": 50},
            "D": {"durationDays": 5, "status": "COMPLETED"},
        },
        [("D", "A", 0.0), ("A", "B", 1.0), ("C", "B", 0.0)],
        holidays,
    )
    plan = forecast(gql, plan_id)
    dates = {k: (v["forecastStart"], v["forecastFinish"]) for k, v in plan["byTitle"].items()}
    assert dates == {
        "A": (iso(0, holidays), iso(2, holidays)),
        "C": (iso(0, holidays), iso(1, holidays)),
        # Day 3 is the lag; the holiday is skipped, so B is two weekdays later than without it.
        "B": (iso(4, holidays), iso(5, holidays)),
        "D": (None, None),
    }
    assert working_day(5, holidays) == working_day(6)
    assert holiday.isoformat() not in {d for pair in dates.values() for d in pair}
    assert plan["forecastFinishDate"] == iso(5, holidays)
    assert plan["criticalPath"]["finishDate"] == iso(5, holidays)
    assert plan["criticalPath"]["durationDays"] == 6.0
    assert [t["title"] for t in plan["criticalPath"]["tasks"]] == ["A", "B"]
    assert plan["byTitle"]["C"]["slackDays"] == 2.0
    assert plan["byTitle"]["C"]["isCritical"] is False


# External events -------------------------------------------------------------------------


def test_a_certain_event_moves_the_forecast_until_it_is_resolved(client) -> None:
    gql = GraphQL(client)
    plan_id, ids = build(gql, CHAIN, CHAIN_EDGES)
    before = forecast(gql, plan_id)
    assert before["forecastFinishDate"] == before["criticalPath"]["finishDate"] == iso(4)

    event_id = ingest(gql, plan_id, [ids["A"]], 10, "certain")  # no probability: certain
    moved = forecast(gql, plan_id)
    # Exactly ten working days later, in the forecast and on the critical path.
    assert moved["forecastFinishDate"] == iso(14)
    assert moved["criticalPath"]["finishDate"] == iso(14)
    assert moved["criticalPath"]["durationDays"] == 15.0
    assert [t["title"] for t in moved["criticalPath"]["tasks"]] == ["A", "B"]
    assert moved["byTitle"]["A"]["forecastFinish"] == iso(12)
    assert moved["byTitle"]["B"]["forecastStart"] == iso(13)
    assert moved["byTitle"]["C"]["slackDays"] == 14.0
    hit = impact(gql, event_id)
    # It is in the forecast already: the impact compares the forecast without it with the forecast.
    assert hit == {
        "affectedTaskCount": 1,
        "criticalPathDelayDays": 10.0,
        "finishDateBefore": iso(4),
        "finishDateAfter": iso(14),
        "probability": 1.0,
        "expectedDelayDays": 10.0,
        "inForecast": True,
    }

    resolved = gql(RESOLVE, {"input": {"id": event_id, "status": "RESOLVED"}})["resolveExternalEvent"]
    assert resolved["userErrors"] == []
    back = forecast(gql, plan_id)
    assert back["forecastFinishDate"] == back["criticalPath"]["finishDate"] == iso(4)
    assert back["byTitle"]["A"]["forecastFinish"] == iso(2)
    after = impact(gql, event_id)
    # What it would do if it came back, and that it no longer counts.
    assert (after["criticalPathDelayDays"], after["finishDateBefore"], after["finishDateAfter"]) == (
        10.0,
        iso(4),
        iso(14),
    )
    assert (after["probability"], after["expectedDelayDays"], after["inForecast"]) == (0.0, 0.0, False)


def _set_status(app: Application, event_id: str, status: ExternalEventStatus) -> None:
    """Change the stored event's status through the repository (not the API)."""
    with SqlUnitOfWork(app.engine) as uow:
        (event,) = uow.external_events.get_many([raw_id(event_id, "ExternalEvent")])
        assert uow.external_events.update_status(replace(event, status=status), event.status)
        uow.commit()


def test_only_open_events_count_in_the_forecast(app: Application, client) -> None:
    gql = GraphQL(client)
    plan_id, ids = build(gql, CHAIN, CHAIN_EDGES)
    event_id = ingest(gql, plan_id, [ids["B"]], 10, "stored", probability=1.0)  # probability 1: certain
    raw_plan = raw_id(plan_id, "Plan")
    assert len(app.services.graph.forecast_delays_of(ADMIN, raw_plan)) == 1
    assert forecast(gql, plan_id)["forecastFinishDate"] == iso(14)
    for status, finish in (
        (ExternalEventStatus.WITHDRAWN, iso(4)),
        (ExternalEventStatus.OPEN, iso(14)),
        (ExternalEventStatus.RESOLVED, iso(4)),
    ):
        _set_status(app, event_id, status)
        assert len(app.services.graph.forecast_delays_of(ADMIN, raw_plan)) == (
            1 if status is ExternalEventStatus.OPEN else 0
        )
        plan = forecast(gql, plan_id)
        assert plan["forecastFinishDate"] == plan["criticalPath"]["finishDate"] == finish, status
        assert plan["byTitle"]["B"]["forecastFinish"] == finish, status


def test_an_uncertain_event_counts_in_simulations_not_in_the_forecast(client) -> None:
    gql = GraphQL(client)
    plan_id, ids = build(gql, CHAIN, CHAIN_EDGES)
    event_id = ingest(gql, plan_id, [ids["A"]], 10, "maybe", probability=0.4)
    plan = forecast(gql, plan_id)
    assert plan["forecastFinishDate"] == plan["criticalPath"]["finishDate"] == iso(4)
    assert impact(gql, event_id) == {
        "affectedTaskCount": 1,
        "criticalPathDelayDays": 10.0,
        "finishDateBefore": iso(4),
        "finishDateAfter": iso(14),
        "probability": 0.4,
        "expectedDelayDays": 4.0,
        "inForecast": False,
    }
    # Fixed durations: every simulated future finishes on day 4, or on day 14 when the event hits.
    result = simulate(gql, plan_id, iterations=4000, seed=21)
    counts = {b["date"]: b["count"] for b in result["histogram"] if b["count"]}
    assert set(counts) == {iso(4), iso(14)}
    assert 0.35 < counts[iso(14)] / 4000 < 0.45


def test_an_event_on_a_task_with_slack_says_so(client) -> None:
    gql = GraphQL(client)
    plan_id, ids = build(gql, CHAIN, CHAIN_EDGES)
    event_id = ingest(gql, plan_id, [ids["C"]], 6, "loose")  # C has 4 working days of slack
    plan = forecast(gql, plan_id)
    assert plan["forecastFinishDate"] == iso(6)
    assert [t["title"] for t in plan["criticalPath"]["tasks"]] == ["C"]
    hit = impact(gql, event_id)
    assert (hit["criticalPathDelayDays"], hit["finishDateBefore"], hit["finishDateAfter"]) == (2.0, iso(4), iso(6))


# The graph down ---------------------------------------------------------------------------


@pytest.fixture
def switchable(settings: Settings) -> Iterator[tuple[Application, SwitchableGraph]]:
    doubles: list[SwitchableGraph] = []

    def wrap(real: DependencyGraph) -> SwitchableGraph:
        doubles.append(SwitchableGraph(real))
        return doubles[-1]

    application = bootstrap(settings, wrap_graph=wrap)
    (double,) = doubles
    try:
        yield application, double
    finally:
        double.down = False
        application.close()


def test_forecast_fields_answer_unavailable_while_the_graph_is_down(
    switchable: tuple[Application, SwitchableGraph],
) -> None:
    app, double = switchable
    gql = GraphQL(TestClient(create_asgi_app(app), raise_server_exceptions=False))
    plan_id, ids = build(gql, CHAIN, CHAIN_EDGES)
    assert forecast(gql, plan_id)["forecastFinishDate"] == iso(4)
    double.down = True
    # Nothing changed since the graph was read: what was read is still the truth.
    assert forecast(gql, plan_id)["forecastFinishDate"] == iso(4)
    # A change the graph cannot take: the write succeeds, the forecast says it is behind.
    changed = gql(PLANS, {"input": {"id": ids["C"], "durationDays": 9}}, "UpdateTask")["updateTask"]
    assert changed["userErrors"] == []
    for query in (
        "query($id: ID!) { plan(id: $id) { forecastFinishDate } }",
        "query($id: ID!) { plan(id: $id) { tasks { edges { node { forecastStart forecastFinish } } } } }",
    ):
        answer = gql.raw(query, {"id": plan_id})
        errors = answer.get("errors") or []
        assert errors, answer
        assert all("Internal error" not in e["message"] for e in errors), answer
        assert {e.get("extensions", {}).get("code") for e in errors} == {"UNAVAILABLE"}, answer


# The CLI ----------------------------------------------------------------------------------


def _document() -> dict[str, Any]:
    """Five completed tasks head the plan; then P (critical in about two futures in three) and Q."""
    estimate = {"optimisticDays": 1, "mostLikelyDays": 2, "pessimisticDays": 3}
    tasks: list[dict[str, Any]] = [
        {"key": f"done{i}", "title": f"Finished step {i}", "status": "COMPLETED", "estimate": estimate}
        for i in range(1, 6)
    ]
    tasks += [
        {
            "key": "P",
            "title": "Open work P",
            "estimate": {"optimisticDays": 2, "mostLikelyDays": 4, "pessimisticDays": 10},
        },
        {
            "key": "Q",
            "title": "Open work Q",
            "estimate": {"optimisticDays": 3, "mostLikelyDays": 4, "pessimisticDays": 5},
        },
        {"key": "end", "title": "Sign-off", "durationDays": 1},
    ]
    deps = [(f"done{i}", f"done{i + 1}") for i in range(1, 5)]
    deps += [("done5", "P"), ("done5", "Q"), ("P", "end"), ("Q", "end")]
    return {
        "name": "Mostly done",
        "asOf": "2025-02-17",
        "tasks": tasks,
        "dependencies": [{"predecessor": p, "successor": s} for p, s in deps],
    }


def test_the_cli_lists_only_remaining_work_as_most_critical(tmp_path: Path, capsys) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_document()))
    assert main(["simulate", str(path), "--iterations", "2000", "--seed", "7", "--json"]) == 0
    shares = json.loads(capsys.readouterr().out)["taskCriticality"]
    assert all(shares[f"done{i}"] == 0.0 for i in range(1, 6))
    assert 0.55 < shares["P"] < 0.75
    assert main(["simulate", str(path), "--iterations", "2000", "--seed", "7"]) == 0
    text = capsys.readouterr().out
    section = text.split("Most often critical")[1].split("Durations that move")[0]
    listed = [line.split("  ", 2)[-1].strip() for line in section.splitlines()[1:] if line.strip()]
    assert listed == ["Sign-off", "Open work P", "Open work Q"]
    assert "Finished step" not in section
    assert f"{shares['P']:6.1%}  Open work P" in section
