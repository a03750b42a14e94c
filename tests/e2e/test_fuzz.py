"""Queries and mutations generated from the schema (hypothesis-graphql), with real ids of a seeded
plan, on a fixed seed: none may answer an HTTP 5xx or the masked internal error.

``make test`` runs a small budget (``PLANNER_FUZZ_EXAMPLES``, 120 by default); ``make fuzz`` a large
one, and reports what the cases met (bench/probe.py). Times are never asserted here.
"""

from __future__ import annotations

import json
import os
import string
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from graphql import build_schema as parse_sdl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes
from starlette.testclient import TestClient

from adapters.bootstrap import Application
from adapters.cli import demo_document
from planning.principal import Principal
from resolvers.ids import to_global_id
from schema.export import schema_sdl
from tests.graphql_client import GraphQL

EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "120"))
MASKED = "Internal error; it has been logged."
SEEDER = Principal("fuzz-seeder@example.com", frozenset({"admin"}))
SEED_QUERY = """
query($id: ID!) {
  plan(id: $id) {
    tasks(first: 500) { edges { node { id } } }
    dependencies { id }
    externalEvents { edges { node { id } } }
    simulations { edges { node { id } } }
  }
}
"""
INGEST = """
mutation($input: IngestExternalEventInput!) {
  ingestExternalEvent(input: $input) { externalEvent { id } userErrors { message } }
}
"""
SIMULATE = """
mutation($input: RunSimulationInput!) {
  runSimulation(input: $input) { simulation { id } userErrors { message } }
}
"""


class Ids:
    """The ids the fuzzer sends: those of the seeded plan (seeded again when a case deleted it),
    and a few that name nothing."""

    def __init__(self, app: Application, gql: GraphQL) -> None:
        self.app = app
        self.gql = gql
        self.plan_id = ""
        self.pool: list[str] = []
        self.seed()

    def seed(self) -> None:
        plan = self.app.services.documents.import_document(demo_document(), SEEDER)
        self.plan_id = to_global_id("Plan", plan.id)
        first = self.gql(SEED_QUERY, {"id": self.plan_id})["plan"]["tasks"]["edges"][0]["node"]["id"]
        event = {
            "planId": self.plan_id,
            "eventType": "supplier_delay",
            "severity": "HIGH",
            "title": "Late parts",
            "delayDays": 3,
            "probability": 0.5,
            "affectedTaskIds": [first],
        }
        assert self.gql(INGEST, {"input": event})["ingestExternalEvent"]["userErrors"] == []
        run = {"planId": self.plan_id, "iterations": 200, "seed": 1}
        assert self.gql(SIMULATE, {"input": run})["runSimulation"]["userErrors"] == []
        found = self.gql(SEED_QUERY, {"id": self.plan_id})["plan"]
        self.pool = [
            self.plan_id,
            *(e["node"]["id"] for e in found["tasks"]["edges"]),
            *(d["id"] for d in found["dependencies"]),
            *(e["node"]["id"] for e in found["externalEvents"]["edges"]),
            *(e["node"]["id"] for e in found["simulations"]["edges"]),
        ]

    def ensure(self) -> None:
        """Seed again when a case deleted the plan, so that the ids keep naming something."""
        if self.gql("query($id: ID!) { plan(id: $id) { id } }", {"id": self.plan_id})["plan"] is None:
            self.seed()

    def pick(self, index: int) -> str:
        return self.pool[index % len(self.pool)]


def _scalars(ids: Ids) -> dict[str, st.SearchStrategy[Any]]:
    """Value nodes for the scalars: mostly well formed, sometimes not."""
    junk = st.text(alphabet=string.printable, max_size=12)
    today = date.today()
    dates = st.dates(min_value=today - timedelta(days=400), max_value=today + timedelta(days=400)).map(str)
    date_times = st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.just(UTC),
    ).map(lambda d: d.isoformat())
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=10,
    ).map(json.dumps)
    real_ids = st.integers(min_value=0, max_value=10**6).map(ids.pick)
    made_up_ids = st.sampled_from(
        [to_global_id("Task", "no-such-task"), to_global_id("Plan", "0" * 36), to_global_id("Task", "\x00"), "x"]
    )
    return {
        "ID": st.one_of(real_ids, real_ids, real_ids, made_up_ids, junk).map(nodes.String),
        "AWSDate": st.one_of(dates, dates, junk).map(nodes.String),
        "AWSDateTime": st.one_of(date_times, date_times, junk).map(nodes.String),
        "AWSJSON": st.one_of(json_values, json_values, junk).map(nodes.String),
    }


@pytest.fixture
def ids(client: TestClient, app: Application) -> Ids:
    return Ids(app, GraphQL(client))


def test_generated_operations_never_fail_inside(client: TestClient, ids: Ids) -> None:
    # The exported SDL: the schema's text with the declarations of the AppSync directives it uses.
    sdl = parse_sdl(schema_sdl())
    operations = from_schema(sdl, custom_scalars=_scalars(ids))
    seen: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(document=operations)
    def case(document: str) -> None:
        ids.ensure()
        response = client.post("/graphql", json={"query": document})
        assert response.status_code < 500, f"HTTP {response.status_code} for\n{document}\n{response.text}"
        assert MASKED not in response.text, f"a fault for\n{document}\n{response.text}"
        answer = response.json()
        errors = answer.get("errors") or []
        seen["answered" if not errors else "answered with errors" if answer.get("data") else "refused"] += 1
        for error in errors:
            seen[str((error.get("extensions") or {}).get("code"))] += 1

    case()
    print(f"\n{EXAMPLES} generated operations: {dict(seen.most_common())}")
    # The cases reached the resolvers, and not only refusals.
    assert seen["answered"] > EXAMPLES // 10, seen
