"""Random DAGs through the services and the API, against a networkx schedule.

Graph answers do not depend on the relational store, so these run on SQLite only (gremlite is
the slow part); ``test_graph_projection`` covers both stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from planning.principal import Principal
from resolvers.ids import to_global_id
from tests.graphql_client import GraphQL, operation
from tests.integration.graph_reference import (
    RefTask,
    check_critical_chain,
    depths,
    finish_date,
    origin,
    plan_document,
    reference_schedule,
    risk_score,
)

ADMIN = Principal("t", frozenset({"admin"}))
GRAPH = operation("graph.graphql")
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@pytest.fixture(scope="module")
def papp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Application]:
    base: Path = tmp_path_factory.mktemp("props")
    application = bootstrap(Settings(database_url=f"sqlite:///{base}/planner.db", graph_url=f"gremlite:{base}/g.db"))
    yield application
    application.close()


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[RefTask], list[tuple[str, str, float]]]:
    n = draw(st.integers(5, 25))
    keys = [f"k{i:02d}" for i in range(n)]
    tasks = []
    for key in keys:
        ml = draw(st.integers(1, 10))
        status = draw(st.sampled_from(["NOT_STARTED"] * 5 + ["COMPLETED", "IN_PROGRESS"]))
        percent = {"COMPLETED": 100, "NOT_STARTED": 0}.get(status) or draw(st.sampled_from([10, 25, 50, 80]))
        tasks.append(RefTask(key, float(ml), status, percent))
    # Edges only from a lower to a higher index: acyclic by construction.
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(len(pairs), 2 * n)))
    edges = [(keys[i], keys[j], float(draw(st.integers(0, 3)))) for i, j in chosen]
    return tasks, edges


def _store(app: Application, tasks, edges) -> tuple[str, dict[str, str]]:
    plan = app.services.documents.import_document(plan_document("Random", tasks, edges), ADMIN)
    return plan.id, {t.title: t.id for t in app.services.tasks.for_plan(ADMIN, plan.id)}


@SETTINGS
@given(dag=dags())
def test_service_schedule_matches_networkx(papp: Application, dag) -> None:
    tasks, edges = dag
    plan_id, ids = _store(papp, tasks, edges)
    keys = {v: k for k, v in ids.items()}
    ref = reference_schedule(tasks, edges)
    plan = papp.services.plans.get_many(ADMIN, [plan_id])[0]
    graph = papp.services.graph.plan_graph(ADMIN, plan_id)
    assert len(graph.tasks) == len(tasks)
    assert len(graph.edges) == len(edges)
    schedule = papp.services.graph.schedule(plan, graph)
    assert schedule.duration_days == pytest.approx(ref.duration, abs=1e-6)
    assert schedule.start_date == origin()
    assert schedule.finish_date == finish_date(ref.duration)
    check_critical_chain(ref, [keys[t] for t in schedule.critical_path])
    for key, task_id in ids.items():
        timing = schedule.timings[task_id]
        assert timing.slack_days == pytest.approx(ref.slack(key), abs=1e-6), key
        assert timing.critical is ref.critical(key), key
    scores = papp.services.graph.risk_scores(graph, schedule)
    for key, task_id in ids.items():
        assert 0.0 <= scores[task_id] <= 100.0
        assert scores[task_id] == pytest.approx(risk_score(ref, key), abs=0.01), key
    for key, task_id in ids.items():
        for upstream in (True, False):
            walk = papp.services.graph.upstream if upstream else papp.services.graph.downstream
            for max_depth in (None, 1, 2):
                found = [keys[t] for t in walk(graph, task_id, max_depth)]
                expected = depths(ref.graph, key, upstream=upstream, max_depth=max_depth)
                assert sorted(found) == sorted(expected), (key, upstream, max_depth)
                assert len(found) == len(set(found))
                levels = [expected[k] for k in found]
                assert levels == sorted(levels), "nearest first"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(dag=dags())
def test_api_answers_match_networkx(papp: Application, dag) -> None:
    tasks, edges = dag
    plan_id, ids = _store(papp, tasks, edges)
    keys = {v: k for k, v in ids.items()}
    gids = {k: to_global_id("Task", v) for k, v in ids.items()}
    back = {v: k for k, v in gids.items()}
    del keys
    ref = reference_schedule(tasks, edges)
    gql = GraphQL(TestClient(create_asgi_app(papp), raise_server_exceptions=False))
    path = gql(GRAPH, {"planId": to_global_id("Plan", plan_id)}, "CriticalPath")["plan"]["criticalPath"]
    assert path["durationDays"] == pytest.approx(ref.duration, abs=1e-6)
    assert path["finishDate"] == finish_date(ref.duration).isoformat()
    check_critical_chain(ref, [back[t["id"]] for t in path["tasks"]])
    sample = sorted(gids)[:: max(len(gids) // 5, 1)]
    for key in sample:
        node = gql(GRAPH, {"id": gids[key], "maxDepth": None}, "TaskImpact")["node"]
        assert node["slackDays"] == pytest.approx(ref.slack(key), abs=1e-6)
        assert node["isCritical"] is ref.critical(key)
        assert node["riskScore"] == pytest.approx(risk_score(ref, key), abs=0.01)
        assert sorted(back[t["id"]] for t in node["upstream"]) == sorted(depths(ref.graph, key, upstream=True))
        assert sorted(back[t["id"]] for t in node["downstream"]) == sorted(depths(ref.graph, key, upstream=False))
