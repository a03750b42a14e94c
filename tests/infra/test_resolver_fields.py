"""Which fields get which resolver, read from a schema document (no synth needed)."""

from __future__ import annotations

from planner_infra.resolver_fields import MAX_BATCH_SIZE, FieldResolver, plan_resolvers

BASE = """
type Query { plan(id: ID!): Plan  me: String! }
type Plan { id: ID!  name: String!  tasks(first: Int): [Task!]!  createdAt: AWSDateTime! }
type Task { id: ID!  title: String!  slackDays: Float }
"""
NESTED = (("Plan", "id"), ("Task", "id"), ("Plan", "tasks"), ("Task", "slackDays"), ("Plan", "notInThisSchema"))


def test_root_fields_unbatched_nested_fields_batched_plain_fields_left_to_appsync() -> None:
    plan = plan_resolvers(BASE + "type Mutation { createPlan(name: String!): Plan }", NESTED)
    assert plan.lambda_fields == (
        FieldResolver("Query", "plan"),
        FieldResolver("Query", "me"),
        FieldResolver("Mutation", "createPlan"),
        FieldResolver("Plan", "id", MAX_BATCH_SIZE),
        FieldResolver("Task", "id", MAX_BATCH_SIZE),
        FieldResolver("Plan", "tasks", MAX_BATCH_SIZE),
        FieldResolver("Task", "slackDays", MAX_BATCH_SIZE),
    )
    assert plan.publish_fields == ()


def test_publish_mutations_go_to_the_none_source_when_the_schema_has_them() -> None:
    sdl = (
        BASE
        + """
    type Mutation {
      createPlan(name: String!): Plan
      publishPlanEvent(input: AWSJSON!): String @aws_iam
    }
    type Subscription { onPlanEvent: String @aws_subscribe(mutations: ["publishPlanEvent"]) }
    """
    )
    plan = plan_resolvers(sdl, NESTED)
    assert plan.publish_fields == (FieldResolver("Mutation", "publishPlanEvent"),)
    assert FieldResolver("Mutation", "publishPlanEvent") not in plan.lambda_fields
    # A subscription's Lambda resolver runs once, when a client subscribes (who may); unbatched.
    assert FieldResolver("Subscription", "onPlanEvent") in plan.lambda_fields


def test_fields_of_type_extensions_count() -> None:
    plan = plan_resolvers(BASE + "extend type Query { plans: [Plan!]! }", NESTED)
    assert FieldResolver("Query", "plans") in plan.lambda_fields
