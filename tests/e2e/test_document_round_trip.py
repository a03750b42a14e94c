"""Plan documents through the ``planner`` command: export then import gives the same plan,
unknown keys are refused with their path, and a document's events count in `planner simulate`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.cli import demo_document, main
from planning.documents import parse_document
from planning.principal import Principal
from resolvers.ids import to_global_id
from tests.graphql_client import GraphQL, operation

SIM = operation("simulation.graphql")
EVENTS = operation("events.graphql")
ADMIN = Principal("test", frozenset({"admin"}))


@pytest.fixture
def env(monkeypatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("PLANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{tmp_path}/graph.db")


def rich_document() -> dict[str, Any]:
    """Everything a document can say: estimates, statuses, lags, holidays, events of every status."""
    return {
        "name": "Summer fair",
        "eventDate": "2025-07-04",
        "asOf": "2025-05-05",
        "calendar": {"workingDays": ["MON", "TUE", "WED", "THU", "SAT"], "holidays": ["2025-05-26", "2025-12-25"]},
        "tasks": [
            {
                "key": "venue",
                "title": "Book the venue",
                "status": "COMPLETED",
                "percentComplete": 100,
                "startDate": "2025-04-28",
                "dueDate": "2025-05-02",
                "estimate": {"optimisticDays": 2, "mostLikelyDays": 3, "pessimisticDays": 6},
                "assignees": ["ann@example.com", "bob@example.com"],
            },
            {
                "key": "stalls",
                "title": "Stalls",
                "status": "IN_PROGRESS",
                "percentComplete": 35,
                "plannerTaskId": "pt-stalls",
                "durationDays": 8.5,
            },
            {
                "key": "music",
                "title": "Music",
                "estimate": {"optimisticDays": 4, "mostLikelyDays": 6, "pessimisticDays": 11},
            },
            {"key": "posters", "title": "Posters", "durationDays": 2, "dueDate": "2025-06-20"},
        ],
        "dependencies": [
            {"predecessor": "venue", "successor": "stalls", "lagDays": 0},
            {"predecessor": "venue", "successor": "music", "type": "FINISH_TO_START", "lagDays": 2.5},
            {"predecessor": "stalls", "successor": "posters", "lagDays": -1},
            {"predecessor": "music", "successor": "posters"},
        ],
        "events": [
            {
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": "Stage supplier late",
                "description": "Stage parts ship a week late.",
                "source": "erp",
                "occurredAt": "2025-05-02T07:45:10.5+02:00",
                "delayDays": 5,
                "affectedTasks": ["music", "stalls"],
                "payload": {"order": 42, "lines": [{"sku": "ST-1", "qty": 2}], "urgent": True, "note": None},
                "idempotencyKey": "erp-42",
            },
            {
                "eventType": "weather",
                "severity": "MEDIUM",
                "title": "Storm warning",
                "occurredAt": "2025-05-03T06:00:00Z",
                "delayDays": 2,
                "probability": 0.35,
                "affectedTasks": ["posters"],
                "status": "RESOLVED",
            },
            {
                "eventType": "permit",
                "severity": "LOW",
                "title": "Permit query",
                "occurredAt": "2025-05-04T12:00:00Z",
                "delayDays": 0,
                "affectedTasks": [],
                "status": "WITHDRAWN",
            },
        ],
    }


def _import(capsys, path: Path) -> str:
    assert main(["import", str(path)]) == 0, capsys.readouterr().err
    return capsys.readouterr().out.strip().split(" as ")[-1]


def _export(capsys, plan_id: str, path: Path) -> str:
    assert main(["export", plan_id, "-o", str(path)]) == 0, capsys.readouterr().err
    return path.read_text(encoding="utf-8")


def _comparable(raw: dict[str, Any]) -> dict[str, Any]:
    """The parsed plan with task keys replaced by task titles: what must survive a round trip."""
    doc = parse_document(raw)
    titles = {t.key: t.title for t in doc.tasks}
    return {
        "plan": (doc.name, doc.event_date, doc.planner_plan_id, doc.calendar),
        "tasks": [
            (t.title, t.status, t.percent_complete, t.start_date, t.due_date, t.duration_days, t.estimate, t.assignees)
            for t in doc.tasks
        ],
        "dependencies": [(titles[d.predecessor], titles[d.successor], d.type, d.lag_days) for d in doc.dependencies],
        "events": [
            (
                e.event_type,
                e.severity,
                e.title,
                e.description,
                e.source,
                e.occurred_at,
                e.delay_days,
                e.probability,
                [titles[k] for k in e.affected_tasks],
                e.status,
                e.payload,
                e.idempotency_key,
            )
            for e in doc.events
        ],
    }


def test_export_import_export_round_trips_exactly(env, tmp_path: Path, capsys) -> None:
    source = tmp_path / "source.json"
    source.write_text(json.dumps(rich_document()), encoding="utf-8")
    first = _export(capsys, _import(capsys, source), tmp_path / "first.json")
    second = _export(capsys, _import(capsys, tmp_path / "first.json"), tmp_path / "second.json")
    third = _export(capsys, _import(capsys, tmp_path / "second.json"), tmp_path / "third.json")
    assert second == third
    assert first == second  # the keys an export writes are stable, so even the first is identical
    exported = json.loads(first)
    assert _comparable(exported) == _comparable(rich_document())
    assert [t["key"] for t in exported["tasks"]] == ["task-001", "pt-stalls", "task-003", "task-004"]
    assert exported["calendar"] == rich_document()["calendar"]
    assert [e["status"] for e in exported["events"]] == ["OPEN", "RESOLVED", "WITHDRAWN"]
    assert exported["events"][0]["occurredAt"] == "2025-05-02T05:45:10.500000Z"
    assert exported["events"][0]["affectedTasks"] == ["task-003", "pt-stalls"]
    assert main(["plans"]) == 0
    assert capsys.readouterr().out.count("4 tasks") == 3


def test_the_demo_round_trips_exactly(env, tmp_path: Path, capsys) -> None:
    source = tmp_path / "demo.json"
    source.write_text(json.dumps(demo_document()), encoding="utf-8")
    first = _export(capsys, _import(capsys, source), tmp_path / "first.json")
    second = _export(capsys, _import(capsys, tmp_path / "first.json"), tmp_path / "second.json")
    assert first == second
    assert _comparable(json.loads(first)) == _comparable(demo_document())


UNKNOWN_KEYS = {
    "top level": (lambda d: d.update(eventdate="2025-07-04"), 'top level: unknown key "eventdate"', '"eventDate"'),
    "calendar": (lambda d: d["calendar"].update(holliday=[]), 'calendar: unknown key "holliday"', '"holidays"'),
    "task": (
        lambda d: d["tasks"][3].update(stauts="COMPLETED"),
        'tasks[3] ("Posters"): unknown key "stauts"',
        '"status"',
    ),
    "task dependsOn": (
        lambda d: d["tasks"][2].update(dependsOn=["venue"]),
        'tasks[2] ("Music"): unknown key "dependsOn"',
        None,
    ),
    "estimate": (
        lambda d: d["tasks"][2]["estimate"].update(pesimisticDays=12),
        'tasks[2] ("Music").estimate: unknown key "pesimisticDays"',
        '"pessimisticDays"',
    ),
    "dependency": (
        lambda d: d["dependencies"][3].update(lagdays=1),
        'dependencies[3]: unknown key "lagdays"',
        '"lagDays"',
    ),
    "event": (
        lambda d: d["events"][2].update(probabilty=0.5),
        'events[2] ("Permit query"): unknown key "probabilty"',
        '"probability"',
    ),
}


@pytest.mark.parametrize("case", UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS.keys())
def test_an_unknown_key_at_any_level_is_one_clear_line_and_imports_nothing(
    env, tmp_path: Path, capsys, case: tuple[Any, str, str | None]
) -> None:
    change, message, suggestion = case
    doc = rich_document()
    change(doc)
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"planner: {path}: {message}")
    if suggestion:
        assert err.endswith(f"did you mean {suggestion}?")
    else:
        assert "did you mean" not in err
    assert len(err.splitlines()) == 1
    assert main(["plans"]) == 0
    assert capsys.readouterr().out == ""


# The document's events in `planner simulate FILE`


def _simulate(capsys, path: Path, *extra: str) -> dict[str, Any]:
    argv = ["simulate", str(path), "--iterations", "2000", "--seed", "7", "--json", *extra]
    assert main(argv) == 0, capsys.readouterr().err
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def _demo_with(tmp_path: Path, name: str, events: list[dict[str, Any]]) -> Path:
    doc = demo_document()
    doc["events"] = events
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _delay(task_key: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": "supplier_delay",
        "severity": "CRITICAL",
        "title": "Parts late",
        "occurredAt": "2025-02-01T08:00:00Z",
        "delayDays": 10,
        "affectedTasks": [task_key],
        **extra,
    }


def test_an_open_event_on_a_critical_task_delays_a_document(tmp_path: Path, capsys) -> None:
    plain = _simulate(capsys, _demo_with(tmp_path, "plain", []))
    critical = max(plain["taskCriticality"], key=lambda k: plain["taskCriticality"][k])
    assert plain["taskCriticality"][critical] > 0.9
    delayed = _simulate(capsys, _demo_with(tmp_path, "delayed", [_delay(critical)]))
    assert delayed["p50FinishDate"] > plain["p50FinishDate"]
    assert delayed["meanFinishDate"] > plain["meanFinishDate"]
    assert delayed["onTimeProbability"] < plain["onTimeProbability"]
    for status in ("RESOLVED", "WITHDRAWN"):
        closed = _simulate(capsys, _demo_with(tmp_path, status, [_delay(critical, status=status)]))
        assert closed["histogram"] == plain["histogram"], status
    unlikely = _simulate(capsys, _demo_with(tmp_path, "unlikely", [_delay(critical, probability=0.0)]))
    assert unlikely["histogram"] == plain["histogram"]


def _wait(gql: GraphQL, simulation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        node: dict[str, Any] = gql(SIM, {"id": simulation_id}, "SimulationDetail")["node"]
        if node["status"] in ("SUCCEEDED", "FAILED"):
            return node
        time.sleep(0.05)
    raise AssertionError("the simulation did not finish in 60 s")


def test_an_exported_plan_simulates_as_the_server_simulates_it(app, client, tmp_path: Path, capsys) -> None:
    gql = GraphQL(client)
    plan = app.services.documents.import_document(demo_document(), ADMIN)
    plan_id = to_global_id("Plan", plan.id)
    tasks = app.services.tasks.for_plan(ADMIN, plan.id)
    unfinished = [t for t in tasks if t.percent_complete < 100]
    for title, delay, probability, affected in (
        ("Certification lab backlog", 10, None, unfinished[-3:-1]),
        ("Courier strike", 4, 0.5, unfinished[:2]),
    ):
        answer = gql(
            EVENTS,
            {
                "input": {
                    "planId": plan_id,
                    "eventType": "supplier_delay",
                    "severity": "HIGH",
                    "title": title,
                    "delayDays": delay,
                    "probability": probability,
                    "affectedTaskIds": [to_global_id("Task", t.id) for t in affected],
                }
            },
            "IngestExternalEvent",
        )["ingestExternalEvent"]
        assert answer["userErrors"] == []
    run = gql(
        SIM,
        {"input": {"planId": plan_id, "iterations": 3000, "seed": 21, "asOf": "2025-02-03"}},
        "RunSimulation",
    )["runSimulation"]
    assert run["userErrors"] == []
    server = _wait(gql, run["simulation"]["id"])
    assert server["status"] == "SUCCEEDED", server["error"]

    exported = tmp_path / "exported.json"
    exported.write_text(json.dumps(app.services.documents.export_document(ADMIN, plan.id)), encoding="utf-8")
    argv = ["simulate", str(exported), "--iterations", "3000", "--seed", "21", "--as-of", "2025-02-03", "--json"]
    assert main(argv) == 0
    offline = json.loads(capsys.readouterr().out)
    expected = server["result"]
    for key in ("onTimeProbability", "meanFinishDate", "p50FinishDate", "p80FinishDate", "p90FinishDate"):
        assert offline[key] == expected[key], key
    assert offline["histogram"] == expected["histogram"]

    without_events = json.loads(exported.read_text(encoding="utf-8"))
    del without_events["events"]
    exported.write_text(json.dumps(without_events), encoding="utf-8")
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["p50FinishDate"] < expected["p50FinishDate"]
