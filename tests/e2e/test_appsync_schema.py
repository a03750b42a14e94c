"""``schema/appsync.graphql`` as AppSync reads it: its own scalars and directives prepended."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    parse,
    validate,
)
from graphql.language import DirectiveNode, FieldDefinitionNode, ObjectTypeDefinitionNode

from schema.export import SCHEMA_DIR
from tests.graphql_client import OPERATIONS

BUILTINS = Path(__file__).resolve().parents[1] / "fixtures" / "appsync_builtins.graphql"
APPSYNC_SCALARS = ("AWSDate", "AWSTime", "AWSDateTime", "AWSTimestamp", "AWSEmail", "AWSJSON", "AWSURL", "AWSPhone")


def appsync_text() -> str:
    return (SCHEMA_DIR / "appsync.graphql").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def appsync_schema() -> GraphQLSchema:
    return build_schema(BUILTINS.read_text(encoding="utf-8") + "\n" + appsync_text())


def _directives(node: object) -> dict[str, DirectiveNode]:
    return {d.name.value: d for d in getattr(node, "directives", ()) or ()}


def _type(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    found = schema.get_type(name)
    assert isinstance(found, GraphQLObjectType)
    return found


def test_appsync_file_declares_nothing_appsync_declares_and_no_custom_scalar() -> None:
    document = parse(appsync_text())
    kinds = {definition.kind for definition in document.definitions}
    assert "scalar_type_definition" not in kinds
    assert "directive_definition" not in kinds


@pytest.mark.parametrize("file", sorted(p.name for p in OPERATIONS.glob("*.graphql")))
def test_contract_operations_validate_against_the_appsync_schema(appsync_schema: GraphQLSchema, file: str) -> None:
    assert validate(appsync_schema, parse((OPERATIONS / file).read_text(encoding="utf-8"))) == []


def test_subscriptions_are_tied_to_the_iam_only_publish_mutations(appsync_schema: GraphQLSchema) -> None:
    subscription = appsync_schema.subscription_type
    mutation = appsync_schema.mutation_type
    assert subscription is not None
    assert mutation is not None
    ties = {"onPlanEvent": "publishPlanEvent", "onSimulationProgress": "publishSimulationProgress"}
    for field_name, publish in ties.items():
        node = subscription.fields[field_name].ast_node
        subscribe = _directives(node)["aws_subscribe"]
        (argument,) = subscribe.arguments
        assert argument.name.value == "mutations"
        assert [v.value for v in argument.value.values] == [publish]  # type: ignore[attr-defined]
        published = mutation.fields[publish]
        assert set(_directives(published.ast_node)) == {"aws_iam"}
        # AppSync pushes what the mutation returns: the subscription's own type.
        assert published.type.name == subscription.fields[field_name].type.of_type.name  # type: ignore[attr-defined]
    # The other mutations stay on the default mode (Cognito user pools) alone.
    others = [f for name, f in mutation.fields.items() if name not in ties.values()]
    assert others
    assert all(not _directives(f.ast_node) for f in others)


def test_types_the_backend_publishes_are_reachable_by_both_modes(appsync_schema: GraphQLSchema) -> None:
    for name in ("PlanEvent", "SimulationProgress"):
        node = _type(appsync_schema, name).ast_node
        assert isinstance(node, ObjectTypeDefinitionNode)
        assert set(_directives(node)) == {"aws_iam", "aws_cognito_user_pools"}
        # What they contain is scalars and enums only: no object type beneath needs the modes too.
        for field in _type(appsync_schema, name).fields.values():
            named = field.type
            while hasattr(named, "of_type"):
                named = named.of_type
            assert not isinstance(named, GraphQLObjectType), f"{name} holds an object type: give it both modes"


def test_full_schema_file_declares_the_appsync_directives_it_uses() -> None:
    full = build_schema((SCHEMA_DIR / "schema.graphql").read_text(encoding="utf-8"))
    assert {"aws_iam", "aws_cognito_user_pools", "aws_subscribe"} <= {d.name for d in full.directives}
    field = full.subscription_type.fields["onPlanEvent"]  # type: ignore[union-attr]
    assert isinstance(field.ast_node, FieldDefinitionNode)
    assert "aws_subscribe" in _directives(field.ast_node)


def test_builtins_fixture_holds_every_appsync_scalar() -> None:
    builtins = build_schema(BUILTINS.read_text(encoding="utf-8") + "\ntype Query { a: Int }")
    assert all(builtins.get_type(name) is not None for name in (*APPSYNC_SCALARS, "AWSIPAddress"))
