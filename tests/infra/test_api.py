"""The AppSync API in the synthesized template: its schema, auth modes, limits and resolvers."""

from __future__ import annotations

from aws_cdk.assertions import Match
from planner_infra.resolver_fields import MAX_BATCH_SIZE, PUBLISH_MUTATIONS, object_fields
from planner_infra.settings import APPSYNC_SCHEMA

from resolvers.registry import RESOLVERS
from tests.infra.conftest import Synthesized


def _resolvers(synthesized: Synthesized) -> dict[tuple[str, str], dict]:
    found = {}
    for resource in synthesized.resources("AWS::AppSync::Resolver").values():
        props = resource["Properties"]
        found[(props["TypeName"], props["FieldName"])] = props
    return found


def _logical_id(synthesized: Synthesized, cfn_type: str, **properties: object) -> str:
    (logical_id,) = synthesized.template.find_resources(cfn_type, {"Properties": properties})
    return logical_id


def _data_source_name(synthesized: Synthesized, kind: str) -> str:
    (source,) = synthesized.template.find_resources("AWS::AppSync::DataSource", {"Properties": {"Type": kind}}).values()
    return source["Properties"]["Name"]


def test_the_schema_is_the_committed_appsync_file(synthesized: Synthesized) -> None:
    (schema,) = synthesized.resources("AWS::AppSync::GraphQLSchema").values()
    assert schema["Properties"]["Definition"] == APPSYNC_SCHEMA.read_text(encoding="utf-8")


def test_cognito_by_default_iam_for_the_backend_limits_logs_and_tracing(synthesized: Synthesized) -> None:
    user_pool = _logical_id(synthesized, "AWS::Cognito::UserPool")
    synthesized.template.has_resource_properties(
        "AWS::AppSync::GraphQLApi",
        {
            "AuthenticationType": "AMAZON_COGNITO_USER_POOLS",
            "UserPoolConfig": Match.object_like({"UserPoolId": {"Ref": user_pool}, "DefaultAction": "ALLOW"}),
            "AdditionalAuthenticationProviders": [{"AuthenticationType": "AWS_IAM"}],
            "QueryDepthLimit": 12,
            "IntrospectionConfig": "DISABLED",
            "XrayEnabled": True,
            "LogConfig": Match.object_like({"FieldLogLevel": "ERROR", "ExcludeVerboseContent": True}),
        },
    )


def test_every_root_field_resolves_on_the_lambda_unbatched(synthesized: Synthesized) -> None:
    """Subscriptions included: their resolver runs when a client subscribes, and refuses a caller
    who may not read the plan (AppSync then refuses the subscription)."""
    fields = object_fields(APPSYNC_SCHEMA.read_text(encoding="utf-8"))
    lambda_source = _data_source_name(synthesized, "AWS_LAMBDA")
    resolvers = _resolvers(synthesized)
    roots = (
        [("Query", f) for f in fields["Query"]]
        + [("Mutation", f) for f in fields["Mutation"] if f not in PUBLISH_MUTATIONS]
        + [("Subscription", f) for f in fields["Subscription"]]
    )
    assert len(roots) >= 19
    assert {("Subscription", "onPlanEvent"), ("Subscription", "onSimulationProgress")} <= set(roots)
    for key in roots:
        props = resolvers[key]
        assert props["DataSourceName"] == lambda_source, key
        assert "MaxBatchSize" not in props, key
        assert props["Kind"] == "UNIT", key
        # A direct Lambda resolver: no mapping template, no code.
        assert not {"RequestMappingTemplate", "Code", "Runtime"} & set(props), key


def test_nested_fields_are_batched(synthesized: Synthesized) -> None:
    resolvers = _resolvers(synthesized)
    for key in (("Task", "dependsOn"), ("Task", "slackDays"), ("Plan", "tasks"), ("Dependency", "predecessor")):
        assert resolvers[key]["MaxBatchSize"] == MAX_BATCH_SIZE, key
    nested = {k: p for k, p in resolvers.items() if k[0] not in {"Query", "Mutation", "Subscription"}}
    assert {p["MaxBatchSize"] for p in nested.values()} == {MAX_BATCH_SIZE}


def test_the_template_resolves_exactly_the_fields_the_registry_resolves(synthesized: Synthesized) -> None:
    """The handler routes by the registry; AppSync reads every other field from the parent's JSON."""
    fields = object_fields(APPSYNC_SCHEMA.read_text(encoding="utf-8"))
    in_schema = {(t, f) for t, f in RESOLVERS if f in fields.get(t, ())}
    on_lambda = {
        k
        for k, p in _resolvers(synthesized).items()
        if "MaxBatchSize" in p or k[0] in {"Query", "Mutation", "Subscription"}
    }
    on_lambda -= {("Mutation", m) for m in PUBLISH_MUTATIONS}
    # The registry refuses the publish mutations (the local server's answer); AppSync resolves
    # them on the NONE data source, never on the Lambda.
    in_schema -= {("Mutation", m) for m in PUBLISH_MUTATIONS}
    assert on_lambda == in_schema


def test_publish_mutations_resolve_on_the_none_data_source_where_the_schema_has_them(
    synthesized: Synthesized,
) -> None:
    fields = object_fields(APPSYNC_SCHEMA.read_text(encoding="utf-8"))
    none_source = _data_source_name(synthesized, "NONE")
    resolvers = _resolvers(synthesized)
    published = {f for f in PUBLISH_MUTATIONS if f in fields["Mutation"]}
    on_none = {k[1] for k, p in resolvers.items() if p["DataSourceName"] == none_source}
    assert on_none == published
    for field in published:
        assert resolvers[("Mutation", field)]["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}


def test_the_resolver_lambda_is_the_direct_resolver_handler(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "adapters.appsync.handler.handler",
            "TracingConfig": {"Mode": "Active"},
            "VpcConfig": Match.object_like({"SubnetIds": Match.any_value()}),
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "PLANNER_ENV": "production",
                        "PLANNER_DATABASE_IAM_AUTH": "1",
                        "PLANNER_GRAPH_URL": Match.any_value(),
                        "PLANNER_COGNITO_USER_POOL_ID": Match.any_value(),
                        "PLANNER_AUTH_AUDIENCE": Match.any_value(),
                        "PLANNER_SIMULATION_QUEUE_URL": Match.any_value(),
                    }
                )
            },
        },
    )
