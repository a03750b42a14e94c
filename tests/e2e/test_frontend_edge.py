"""The edge a browser app meets, through the ASGI app: CORS, the GraphQL response media type,
GraphiQL's own files, /metrics; and the CLI's --version and help. The same through a real server,
Node and Chromium: tests/e2e/test_frontend.py."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.asgi import graphiql
from adapters.asgi.app import create_asgi_app
from adapters.asgi.media import GRAPHQL_RESPONSE_JSON, JSON, preferred_media_type
from adapters.asgi.metrics import MAX_OPERATION_NAMES, Metrics
from adapters.bootstrap import Application, bootstrap
from adapters.cli import _parser, main, planner_version
from adapters.config import Settings
from tests.e2e.test_server import POOL, _production
from tests.graphql_client import ADMIN_HEADERS

LOCAL = "http://localhost:5173"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
PLANS = "query PlanNames { plans(first: 5) { edges { node { name } } } }"


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/planner.db",
        graph_url=f"gremlite:{tmp_path}/graph.db",
        data_dir=str(tmp_path),
    )


@pytest.fixture
def local(sqlite_settings: Settings) -> Iterator[TestClient]:
    """A development server with the default CORS rules, on SQLite (nothing here is the store's)."""
    settings = Settings.from_env(
        {
            "PLANNER_DATABASE_URL": sqlite_settings.database_url,
            "PLANNER_GRAPH_URL": sqlite_settings.graph_url,
            "PLANNER_DATA_DIR": str(sqlite_settings.data_dir),
            "PLANNER_MAX_BODY_BYTES": "2048",
        }
    )
    app = bootstrap(settings)
    with TestClient(create_asgi_app(app), headers=ADMIN_HEADERS) as client:
        yield client
    app.close()


# CORS


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"])
def test_development_answers_a_local_origins_preflight(local: TestClient, origin: str) -> None:
    response = local.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("origin", ["https://localhost:5173", "http://localhost.evil.example", "http://example.com"])
def test_development_refuses_other_origins(local: TestClient, origin: str) -> None:
    response = local.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    answer = local.post("/graphql", json={"query": PLANS}, headers={"Origin": origin})
    assert "access-control-allow-origin" not in answer.headers


def test_answers_and_refusals_carry_cors_headers(local: TestClient) -> None:
    ok = local.post("/graphql", json={"query": PLANS}, headers={"Origin": LOCAL})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == LOCAL
    assert "x-request-id" in ok.headers["access-control-expose-headers"].lower()
    too_large = local.post("/graphql", content=b"{" + b" " * 4096 + b"}", headers={"Origin": LOCAL})
    assert too_large.status_code == 413
    assert too_large.headers["access-control-allow-origin"] == LOCAL
    unauthenticated = local.post(
        "/graphql", json={"query": PLANS}, headers={"Origin": LOCAL, "Authorization": "Bearer not-a-token"}
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["access-control-allow-origin"] == LOCAL


def test_production_allows_no_origin_unless_configured(sqlite_settings: Settings, tmp_path: Path) -> None:
    settings = sqlite_settings
    jwks = POOL.write_jwks(tmp_path / "jwks.json")
    assert _production(settings, jwks).cors_origin_regex is None
    app = bootstrap(_production(settings, jwks, PLANNER_CORS_ORIGINS="https://app.example.com"))
    try:
        with TestClient(create_asgi_app(app)) as client:
            local = client.options("/graphql", headers={"Origin": LOCAL, **PREFLIGHT})
            assert "access-control-allow-origin" not in local.headers
            # The preflight passes before authentication (it carries no token), the request after.
            preflight = client.options("/graphql", headers={"Origin": "https://app.example.com", **PREFLIGHT})
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
            refused = client.post("/graphql", json={"query": PLANS}, headers={"Origin": "https://app.example.com"})
            assert refused.status_code == 401
            assert refused.headers["access-control-allow-origin"] == "https://app.example.com"
    finally:
        app.close()


def test_the_cors_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).cors_origin_regex is not None
    configured = Settings.from_env({"PLANNER_CORS_ORIGINS": " https://a.example.com/, http://localhost:5173 "})
    assert configured.cors_origins == ("https://a.example.com", "http://localhost:5173")
    assert configured.cors_origin_regex is None
    assert Settings.from_env({"PLANNER_CORS_ORIGINS": ""}).cors_origins == ()
    with pytest.raises(ValueError, match="PLANNER_CORS_ORIGINS"):
        Settings.from_env({"PLANNER_CORS_ORIGINS": "localhost:5173"})


# GraphQL over HTTP's media types


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", JSON),
        ("application/json;q=0.9, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0, application/json", JSON),
        ("text/html", JSON),
    ],
)
def test_the_answers_media_type_follows_accept(accept: str | None, chosen: str) -> None:
    assert preferred_media_type(accept) == chosen


@pytest.mark.parametrize(
    "query", ["{ plans { edges ", "{ plans { nosuchfield } }", "query($n: Int!) { plans(first: $n) { totalCount } }"]
)
def test_a_request_graphql_refuses_is_400_without_data_in_the_graphql_response_type(
    local: TestClient, query: str
) -> None:
    asked = local.post("/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert asked.status_code == 400
    assert asked.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert "data" not in asked.json()
    assert asked.json()["errors"]
    legacy = local.post("/graphql", json={"query": query}, headers={"Accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == JSON
    assert legacy.json()["data"] is None


def test_an_answer_in_the_graphql_response_type_keeps_its_data(local: TestClient) -> None:
    answer = local.post("/graphql", json={"query": PLANS}, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert answer.json()["data"] == {"plans": {"edges": []}}
    assert answer.json()["extensions"]["cost"]["requested"] > 0


# GraphiQL offline


def test_graphiql_loads_every_script_and_style_from_the_server(local: TestClient) -> None:
    page = local.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 7
    for source in sources:
        assert source.startswith(graphiql.STATIC_PATH + "/"), source
        asset = local.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000
        # Each package's licence is shipped beside its files.
        package = Path(source.removeprefix(graphiql.STATIC_PATH + "/")).parent
        assert (graphiql.STATIC_DIR / package / "LICENSE").is_file()
    assert "planner token issue --user you@example.com --groups planner" in page.text
    assert "graphqlWs.createClient" in page.text


def test_production_serves_neither_graphiql_nor_its_files(sqlite_settings: Settings, tmp_path: Path) -> None:
    app = bootstrap(_production(sqlite_settings, POOL.write_jwks(tmp_path / "jwks.json")))
    try:
        with TestClient(create_asgi_app(app)) as client:
            client.headers["Authorization"] = f"Bearer {POOL.id_token('pat', ['planner'])}"
            assert "graphiql" not in client.get("/graphql", headers={"Accept": "text/html"}).text.lower()
            assert client.get(f"{graphiql.STATIC_PATH}/react/react.production.min.js").status_code == 404
    finally:
        app.close()


# Metrics


def _sample(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def test_metrics_count_requests_by_operation_and_outcome(local: TestClient) -> None:
    local.post("/graphql", json={"query": PLANS})
    local.post("/graphql", json={"query": PLANS})
    local.post("/graphql", json={"query": "{ plans { nosuchfield } }"})
    local.post("/graphql", json={"query": PLANS}, headers={"Authorization": "Bearer not-a-token"})
    text = local.get("/metrics").text
    assert _sample(text, "planner_graphql_requests_total", operation="PlanNames", outcome="ok") == 2
    assert _sample(text, "planner_graphql_requests_total", operation="anonymous", outcome="error") == 1
    assert _sample(text, "planner_graphql_requests_total", operation="-", outcome="http_401") == 1
    assert _sample(text, "planner_graphql_request_duration_seconds_count", operation="PlanNames") == 2
    assert _sample(text, "planner_subscriptions_open") == 0


def test_metrics_read_simulations_and_the_projection_from_the_store(client: TestClient, app: Application) -> None:
    created = client.post("/graphql", json={"query": 'mutation { createPlan(input: {name: "M"}) { plan { id } } }'})
    plan_id = created.json()["data"]["createPlan"]["plan"]["id"]
    run = client.post(
        "/graphql",
        json={"query": f'mutation {{ runSimulation(input: {{planId: "{plan_id}"}}) {{ userErrors {{ code }} }} }}'},
    )
    assert run.status_code == 200
    app.projector.catch_up()
    text = client.get("/metrics").text
    statuses = {s: _sample(text, "planner_simulations", status=s) for s in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")}
    assert sum(v or 0 for v in statuses.values()) == (0 if run.json()["data"]["runSimulation"]["userErrors"] else 1)
    assert _sample(text, "planner_projection_lag_messages") == app.projector.pending() == 0
    assert _sample(text, "planner_outbox_backlog_messages", consumer="graph") == 0


def test_operation_names_are_bounded_series() -> None:
    metrics = Metrics()
    names = [metrics.operation_label(f"Op{i}") for i in range(MAX_OPERATION_NAMES + 5)]
    assert names[:MAX_OPERATION_NAMES] == [f"Op{i}" for i in range(MAX_OPERATION_NAMES)]
    assert set(names[MAX_OPERATION_NAMES:]) == {"other"}
    assert metrics.operation_label("Op0") == "Op0"
    assert metrics.operation_label("not a name") == "other"
    assert metrics.operation_label(None) == "anonymous"


# The CLI


def test_planner_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"planner {planner_version()}"
    assert re.match(r"\d+\.\d+", planner_version())


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_cli_option_has_help_that_names_its_default() -> None:
    checked = 0
    for parser in _parsers(_parser()):
        help_text = " ".join(parser.format_help().split())
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction | argparse._VersionAction):
                continue
            assert action.help, f"{parser.prog} {action.dest} has no help"
            if action.option_strings and action.default not in (None, False):
                assert re.search(r"default", action.help) or f"(default: {action.default})" in help_text, (
                    f"{parser.prog} {action.option_strings[0]} does not name its default"
                )
            checked += 1
    assert checked > 20
