"""The committed schema has the IAM publish mutations (issue 12, item 1): they resolve on the
NONE data source, and the subscriptions they feed have no resolver (AppSync pushes them)."""

from __future__ import annotations

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from planner_infra.settings import APPSYNC_SCHEMA, Stage
from planner_infra.stack import PlannerStack


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("cdk-publish")
    (root / "deps" / "python").mkdir(parents=True)
    schema = root / "appsync.graphql"
    schema.write_text(APPSYNC_SCHEMA.read_text(encoding="utf-8"), encoding="utf-8")
    assert "publishPlanEvent(input: PublishPlanEventInput!): PlanEvent @aws_iam" in schema.read_text(encoding="utf-8")
    app = App(outdir=str(root / "cdk.out"))
    stack = PlannerStack(app, "Publish", stage=Stage("staging"), dependencies_dir=root / "deps", schema_file=schema)
    return Template.from_stack(stack)


def test_publish_mutations_echo_their_input_on_the_none_data_source(template: Template) -> None:
    sources = {
        r["Properties"]["Type"]: r["Properties"]["Name"]
        for r in template.find_resources("AWS::AppSync::DataSource").values()
    }
    resolvers = {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"]): r["Properties"]
        for r in template.find_resources("AWS::AppSync::Resolver").values()
    }
    for field in ("publishPlanEvent", "publishSimulationProgress"):
        props = resolvers[("Mutation", field)]
        assert props["DataSourceName"] == sources["NONE"]
        assert props["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
        assert "payload: ctx.args.input" in props["Code"]
    # Subscriptions stream what the publish mutations return; their Lambda resolver only runs
    # when a client subscribes (who may), never on the NONE data source.
    subscriptions = {k[1]: p for k, p in resolvers.items() if k[0] == "Subscription"}
    assert set(subscriptions) == {"onPlanEvent", "onSimulationProgress"}
    assert {p["DataSourceName"] for p in subscriptions.values()} == {sources["AWS_LAMBDA"]}
    assert resolvers[("Mutation", "createPlan")]["DataSourceName"] == sources["AWS_LAMBDA"]


def test_introspection_is_on_outside_production(template: Template) -> None:
    template.has_resource_properties("AWS::AppSync::GraphQLApi", {"IntrospectionConfig": "ENABLED"})
