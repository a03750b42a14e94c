"""The dependency-graph operations of the frontend contract, checked against networkx."""

from __future__ import annotations

import networkx as nx
import pytest
from graphql import build_schema, parse, validate

from planning.principal import Principal
from resolvers.ids import to_global_id
from schema.export import SCHEMA_DIR
from tests.graphql_client import OPERATIONS, GraphQL, operation
from tests.integration.graph_reference import (
    RefSchedule,
    RefTask,
    check_critical_chain,
    depths,
    finish_date,
    origin,
    plan_document,
    reference_schedule,
    risk_score,
)

GRAPH = operation("graph.graphql")
PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")
ADMIN = Principal("t", frozenset({"admin"}))

# A small plan computed by hand (see test_hand_computed_plan): D is completed, E half done.
HAND_TASKS = [
    RefTask("A", 3),
    RefTask("B", 5),
    RefTask("C", 2),
    RefTask("D", 4, "COMPLETED", 100),
    RefTask("E", 6, "IN_PROGRESS", 50),
    RefTask("F", 1),
]
HAND_EDGES = [("D", "A", 0), ("A", "B", 1), ("A", "C", 0), ("B", "F", 0), ("C", "F", 0), ("E", "F", 0)]


def test_graph_operations_validate_against_the_committed_schema() -> None:
    schema = build_schema((SCHEMA_DIR / "schema.graphql").read_text())
    assert validate(schema, parse((OPERATIONS / "graph.graphql").read_text())) == []


def _build_via_api(gql: GraphQL, tasks: list[RefTask], edges: list[tuple[str, str, float]]) -> tuple[str, dict]:
    created = gql(PLANS, {"input": {"name": "Graph", "eventDate": None, "plannerPlanId": None}}, "CreatePlan")
    plan_id = created["createPlan"]["plan"]["id"]
    ids: dict[str, str] = {}
    for t in tasks:
        extra: dict = {"status": t.status}
        if t.status == "IN_PROGRESS":
            extra["percentComplete"] = t.percent
        data = gql(
            PLANS,
            {
                "input": {
                    "planId": plan_id,
                    "title": t.key,
                    "estimate": {
                        "optimisticDays": max(t.most_likely - 1, 0.5),
                        "mostLikelyDays": t.most_likely,
                        "pessimisticDays": t.most_likely + 2,
                    },
                    **extra,
                }
            },
            "CreateTask",
        )["createTask"]
        assert data["userErrors"] == []
        ids[t.key] = data["task"]["id"]
    for p, s, lag in edges:
        added = gql(
            PLANS, {"input": {"predecessorId": ids[p], "successorId": ids[s], "lagDays": lag}}, "AddDependency"
        )["addDependency"]
        assert added["userErrors"] == []
    return plan_id, ids


def _import(app, name: str, tasks: list[RefTask], edges: list[tuple[str, str, float]]) -> tuple[str, dict]:
    plan = app.services.documents.import_document(plan_document(name, tasks, edges), ADMIN)
    ids = {t.title: to_global_id("Task", t.id) for t in app.services.tasks.for_plan(ADMIN, plan.id)}
    return to_global_id("Plan", plan.id), ids


def _critical_path(gql: GraphQL, plan_id: str) -> dict:
    return gql(GRAPH, {"planId": plan_id}, "CriticalPath")["plan"]["criticalPath"]


def _impact(gql: GraphQL, task_id: str, max_depth: int | None = None) -> dict:
    return gql(GRAPH, {"id": task_id, "maxDepth": max_depth}, "TaskImpact")["node"]


def _check_plan(gql: GraphQL, plan_id: str, ids: dict[str, str], ref: RefSchedule) -> None:
    keys = {v: k for k, v in ids.items()}
    path = _critical_path(gql, plan_id)
    assert path["durationDays"] == pytest.approx(ref.duration)
    assert path["startDate"] == origin().isoformat()
    assert path["finishDate"] == finish_date(ref.duration).isoformat()
    chain = [keys[t["id"]] for t in path["tasks"]]
    check_critical_chain(ref, chain)
    for t in path["tasks"]:
        assert t["slackDays"] == pytest.approx(0.0, abs=1e-6)
        assert t["title"] == keys[t["id"]]
    g = ref.graph
    for key, task_id in ids.items():
        node = _impact(gql, task_id)
        assert node["slackDays"] == pytest.approx(ref.slack(key), abs=1e-6), key
        assert node["isCritical"] is ref.critical(key), key
        assert 0.0 <= node["riskScore"] <= 100.0
        assert node["riskScore"] == pytest.approx(risk_score(ref, key), abs=0.01), key
        if g.nodes[key]["task"].status == "COMPLETED":
            assert node["riskScore"] == 0.0
        for direction in ("upstream", "downstream"):
            found = [keys[t["id"]] for t in node[direction]]
            expected = depths(g, key, upstream=direction == "upstream")
            assert sorted(found) == sorted(expected), (key, direction)
            assert [expected[k] for k in found] == sorted(expected[k] for k in found), "nearest first"


def test_hand_computed_plan_built_through_the_api(client) -> None:
    gql = GraphQL(client)
    plan_id, ids = _build_via_api(gql, HAND_TASKS, HAND_EDGES)
    ref = reference_schedule(HAND_TASKS, HAND_EDGES)
    # The numbers worked out by hand, so the reference itself is checked too.
    assert ref.duration == 10.0
    assert {k: ref.slack(k) for k in "ABCDEF"} == {"A": 0, "B": 0, "C": 4, "D": 0, "E": 6, "F": 0}
    expected_risk = {"A": 80.0, "B": 60.0, "C": 33.33, "D": 0.0, "E": 27.27, "F": 50.0}
    for key, score in expected_risk.items():
        assert risk_score(ref, key) == pytest.approx(score, abs=0.01)

    path = _critical_path(gql, plan_id)
    assert [t["title"] for t in path["tasks"]] == ["A", "B", "F"]  # D is completed: never on it
    assert path["durationDays"] == 10.0
    assert path["finishDate"] == finish_date(10.0).isoformat()
    for key, score in expected_risk.items():
        assert _impact(gql, ids[key])["riskScore"] == pytest.approx(score, abs=0.01), key
    _check_plan(gql, plan_id, ids, ref)

    f = _impact(gql, ids["F"], 1)
    assert sorted(t["title"] for t in f["upstream"]) == ["B", "C", "E"]
    assert f["downstream"] == []
    assert sorted(t["title"] for t in _impact(gql, ids["F"], 2)["upstream"]) == ["A", "B", "C", "E"]
    assert sorted(t["title"] for t in _impact(gql, ids["F"], 3)["upstream"]) == ["A", "B", "C", "D", "E"]
    assert sorted(t["title"] for t in _impact(gql, ids["D"], 1)["downstream"]) == ["A"]
    assert sorted(t["title"] for t in _impact(gql, ids["D"], 100)["downstream"]) == ["A", "B", "C", "F"]


# A wider plan: two chains joining, a lag, a completed head and an in-progress task.
WIDE_TASKS = [
    RefTask("k01", 2, "COMPLETED", 100),
    RefTask("k02", 4),
    RefTask("k03", 3, "IN_PROGRESS", 40),
    RefTask("k04", 5),
    RefTask("k05", 1),
    RefTask("k06", 7),
    RefTask("k07", 2),
    RefTask("k08", 3),
    RefTask("k09", 6, "IN_PROGRESS", 75),
    RefTask("k10", 2),
    RefTask("k11", 4),
    RefTask("k12", 1),
]
WIDE_EDGES = [
    ("k01", "k02", 0),
    ("k01", "k03", 0),
    ("k02", "k04", 2),
    ("k03", "k05", 0),
    ("k05", "k06", 1),
    ("k04", "k07", 0),
    ("k06", "k07", 0),
    ("k07", "k08", 0),
    ("k09", "k10", 3),
    ("k10", "k08", 0),
    ("k08", "k11", 0),
    ("k08", "k12", 0),
    ("k03", "k12", 0),
]


def test_imported_plan_matches_networkx(app, client) -> None:
    gql = GraphQL(client)
    plan_id, ids = _import(app, "Wide", WIDE_TASKS, WIDE_EDGES)
    ref = reference_schedule(WIDE_TASKS, WIDE_EDGES)
    _check_plan(gql, plan_id, ids, ref)
    keys = {v: k for k, v in ids.items()}
    for key in ("k01", "k03", "k08", "k11"):
        for depth in (1, 2, 3):
            node = _impact(gql, ids[key], depth)
            for direction in ("upstream", "downstream"):
                expected = depths(ref.graph, key, upstream=direction == "upstream", max_depth=depth)
                assert sorted(keys[t["id"]] for t in node[direction]) == sorted(expected), (key, direction, depth)


def _ingest(
    gql: GraphQL, plan_id: str, task_ids: list[str], delay: float, key: str, *, probability: float | None = None
) -> str:
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
                "probability": probability,
            }
        },
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    assert payload["userErrors"] == []
    return payload["externalEvent"]["id"]


def _event_impact(gql: GraphQL, event_id: str) -> dict:
    return gql(GRAPH, {"id": event_id}, "EventImpact")["node"]["impact"]


def test_event_impact(app, client) -> None:
    gql = GraphQL(client)
    plan_id, ids = _import(app, "Impact", WIDE_TASKS, WIDE_EDGES)
    keys = {v: k for k, v in ids.items()}
    ref = reference_schedule(WIDE_TASKS, WIDE_EDGES)
    critical = [k for k in ids if ref.critical(k) and ref.graph.nodes[k]["task"].status != "COMPLETED"]
    loose = [k for k in ids if ref.slack(k) >= 2 and ref.graph.nodes[k]["task"].status != "COMPLETED"]
    assert critical
    assert loose

    def check(affected: list[str], delay: float, name: str) -> dict:
        # Uncertain, so that it stays out of the forecast the next checks start from.
        event_id = _ingest(gql, plan_id, [ids[k] for k in affected], delay, name, probability=0.5)
        impact = _event_impact(gql, event_id)
        after = reference_schedule(WIDE_TASKS, WIDE_EDGES, dict.fromkeys(affected, delay))
        assert impact["affectedTaskCount"] == len(affected)
        assert impact["finishDateBefore"] == finish_date(ref.duration).isoformat()
        assert impact["finishDateAfter"] == finish_date(after.duration).isoformat()
        assert impact["criticalPathDelayDays"] == pytest.approx(after.duration - ref.duration)
        expected = set().union(*(nx.descendants(ref.graph, k) for k in affected)) - set(affected)
        found = [keys[t["id"]] for t in impact["downstreamTasks"]]
        assert len(found) == len(set(found))
        assert set(found) == expected
        return impact

    for key in critical:
        impact = check([key], 3, f"crit-{key}")
        assert impact["criticalPathDelayDays"] == pytest.approx(3.0)
        # Whole working days: the finish moves by exactly three working days.
        assert impact["finishDateAfter"] == finish_date(ref.duration + 3).isoformat()
        assert impact["finishDateAfter"] > impact["finishDateBefore"]
    for key in loose:
        small = float(int(ref.slack(key) - 1e-9)) if ref.slack(key) > 1 else 0.5
        small = min(small, ref.slack(key) - 0.5)
        impact = check([key], small, f"loose-{key}")
        assert impact["criticalPathDelayDays"] == pytest.approx(0.0, abs=1e-9)
        assert impact["finishDateAfter"] == impact["finishDateBefore"]
        bigger = check([key], ref.slack(key) + 2, f"big-{key}")
        assert bigger["criticalPathDelayDays"] == pytest.approx(2.0)
    # Several tasks at once, and a completed task (which can no longer slip).
    check([critical[0], loose[0]], 1, "pair")
    done = check(["k01"], 5, "completed")
    assert done["criticalPathDelayDays"] == 0.0
    assert done["finishDateAfter"] == done["finishDateBefore"]


@pytest.mark.parametrize("depth", [0, 101, -1])
def test_max_depth_out_of_range_is_a_top_level_error(client, depth: int) -> None:
    gql = GraphQL(client)
    _plan_id, ids = _build_via_api(gql, HAND_TASKS[:2], [("A", "B", 0)])
    result = gql.raw(GRAPH, {"id": ids["A"], "maxDepth": depth}, "TaskImpact")
    assert result["errors"], result
    assert any("maxDepth" in e["message"] for e in result["errors"]), result["errors"]
    assert all("Internal error" not in e["message"] for e in result["errors"])


def test_max_depth_bounds_are_accepted(client) -> None:
    gql = GraphQL(client)
    _plan_id, ids = _build_via_api(gql, HAND_TASKS[:2], [("A", "B", 0)])
    for depth in (1, 100):
        node = _impact(gql, ids["B"], depth)
        assert [t["title"] for t in node["upstream"]] == ["A"]


def test_empty_plan_has_an_empty_critical_path(client) -> None:
    gql = GraphQL(client)
    created = gql(PLANS, {"input": {"name": "Empty", "eventDate": None, "plannerPlanId": None}}, "CreatePlan")
    path = _critical_path(gql, created["createPlan"]["plan"]["id"])
    assert path["tasks"] == []
    assert path["durationDays"] == 0.0


def test_completed_plan_finishes_today(app, client) -> None:
    gql = GraphQL(client)
    tasks = [RefTask("a", 3, "COMPLETED", 100), RefTask("b", 2, "COMPLETED", 100)]
    plan_id, ids = _import(app, "Done", tasks, [("a", "b", 0)])
    path = _critical_path(gql, plan_id)
    assert path["durationDays"] == 0.0
    assert path["finishDate"] == origin().isoformat()
    for task_id in ids.values():
        assert _impact(gql, task_id)["riskScore"] == 0.0


def test_graph_answers_follow_writes(client) -> None:
    """Read-your-writes: a change through the API shows in the next graph answer."""
    gql = GraphQL(client)
    plan_id, ids = _build_via_api(gql, HAND_TASKS, HAND_EDGES)
    # C grows from 2 to 9 working days: C now decides the finish (A 0-3, C 3-12, F 12-13).
    updated = gql(
        PLANS,
        {"input": {"id": ids["C"], "estimate": {"optimisticDays": 8, "mostLikelyDays": 9, "pessimisticDays": 11}}},
        "UpdateTask",
    )["updateTask"]
    assert updated["userErrors"] == []
    tasks = [t if t.key != "C" else RefTask("C", 9) for t in HAND_TASKS]
    ref = reference_schedule(tasks, HAND_EDGES)
    assert ref.duration == 13.0
    path = _critical_path(gql, plan_id)
    assert [t["title"] for t in path["tasks"]] == ["A", "C", "F"]
    _check_plan(gql, plan_id, ids, ref)
    deleted = gql(PLANS, {"input": {"id": ids["C"]}}, "DeleteTask")["deleteTask"]
    assert deleted["userErrors"] == []
    rest = {k: v for k, v in ids.items() if k != "C"}
    tasks = [t for t in HAND_TASKS if t.key != "C"]
    edges = [e for e in HAND_EDGES if "C" not in e[:2]]
    _check_plan(gql, plan_id, rest, reference_schedule(tasks, edges))
