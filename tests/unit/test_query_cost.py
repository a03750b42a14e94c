"""The document bounds and the cost model (schema.limits, schema.cost), on the API's own schema."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, get_introspection_query, parse

from schema.cost import FORECAST, MUTATION_WEIGHT, actual_cost, introspection_loops, requested_cost
from schema.limits import SchemaLimits, bounds_refusal, measure
from schema.root import build_schema

LIMITS = SchemaLimits()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    built: Any = build_schema()
    return built._schema


def cost(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None) -> int:
    return requested_cost(schema, parse(query), variables)


# The cost model -------------------------------------------------------------------------------


def test_objects_cost_one_and_scalars_nothing(schema: GraphQLSchema) -> None:
    assert cost(schema, '{ plan(id: "p") { id name eventDate } }') == 1
    assert cost(schema, '{ plan(id: "p") { calendar { workingDays } } }') == 2
    assert cost(schema, "{ __typename }") == 0


def test_a_connection_multiplies_its_edges_by_first(schema: GraphQLSchema) -> None:
    # The connection 1, each node 1 (edges and page info cost nothing), totalCount 1.
    assert cost(schema, "{ plans(first: 7) { totalCount edges { cursor node { id } } pageInfo { hasNextPage } } }") == 9
    # The field's default page when first is absent or null (plans: 20), a variable's value when sent.
    assert cost(schema, "{ plans { edges { node { id } } } }") == 21
    assert cost(schema, "{ plans(first: null) { edges { node { id } } } }") == 21
    query = "query($n: Int) { plans(first: $n) { edges { node { id } } } }"
    assert requested_cost(schema, parse(query), {"n": 3}) == 4
    assert requested_cost(schema, parse(query), {}) == 21
    with_default = "query($n: Int = 5) { plans(first: $n) { edges { node { id } } } }"
    assert requested_cost(schema, parse(with_default), {}) == 6
    # Beyond 500, or not a number: the largest page (execution refuses such a first anyway).
    assert cost(schema, "{ plans(first: 100000) { edges { node { id } } } }") == 501
    assert requested_cost(schema, parse(query), {"n": "many"}) == 501


def test_nested_lists_multiply(schema: GraphQLSchema) -> None:
    query = '{ plan(id: "p") { tasks(first: 10) { edges { node { dependsOn { id } } } } } }'
    # plan 1 + connection 1 + 10 tasks x (1 + 10 direct predecessors assumed x 1)
    assert cost(schema, query) == 1 + 1 + 10 * (1 + 10)


def test_a_plans_forecast_costs_once_per_plan(schema: GraphQLSchema) -> None:
    one = '{ plan(id: "p") { tasks(first: 10) { edges { node { slackDays isCritical } } } } }'
    assert cost(schema, one) == 1 + FORECAST + 1 + 10
    both = '{ plan(id: "p") { criticalPath { durationDays } forecastFinishDate } }'
    assert cost(schema, both) == 1 + FORECAST + 1 + 0
    many = "{ plans(first: 4) { edges { node { forecastFinishDate } } } }"
    assert cost(schema, many) == 1 + 4 * (1 + FORECAST)
    # A task reached without its plan: one forecast for the operation.
    alone = '{ node(id: "t") { ... on Task { slackDays riskScore } } }'
    assert cost(schema, alone) == 1 + FORECAST
    # An event's impact: two forecasts of its own.
    impact = '{ node(id: "e") { ... on ExternalEvent { impact { probability } } } }'
    assert cost(schema, impact) == 1 + 2 * FORECAST + 1


def test_graph_walks_are_sized_by_their_depth(schema: GraphQLSchema) -> None:
    walk = '{ node(id: "t") { ... on Task { upstream%s { id } } } }'
    assert cost(schema, walk % "") == 1 + FORECAST + 500
    assert cost(schema, walk % "(maxDepth: 1)") == 1 + FORECAST + 10
    assert cost(schema, walk % "(maxDepth: 2)") == 1 + FORECAST + 100


def test_a_field_selected_twice_costs_once(schema: GraphQLSchema) -> None:
    single = '{ plan(id: "p") { tasks(first: 5) { edges { node { id } } } } }'
    twice = '{ plan(id: "p") { tasks(first: 5) { edges { node { id } } } tasks(first: 5) { totalCount } } }'
    fragment = '{ plan(id: "p") { ...F ...F } } fragment F on Plan { tasks(first: 5) { edges { node { id } } } }'
    assert cost(schema, twice) == cost(schema, single) + 1  # only totalCount added
    assert cost(schema, fragment) == cost(schema, single)
    # Under other names (aliases) it runs, and costs, twice.
    aliased = '{ a: plan(id: "p") { id } b: plan(id: "p") { id } }'
    assert cost(schema, aliased) == 2


def test_each_mutation_weighs_ten(schema: GraphQLSchema) -> None:
    mutation = 'mutation { createPlan(input: {name: "x"}) { plan { id } } }'
    assert cost(schema, mutation) == MUTATION_WEIGHT + 1 + 1


def test_introspection_costs_one_a_field(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ __schema { types { name fields { name } } } }") == 1 + 4
    full = cost(schema, get_introspection_query(descriptions=True))
    assert 0 < full < LIMITS.max_cost


def test_the_cost_of_an_operation_chosen_by_name(schema: GraphQLSchema) -> None:
    document = parse('query Cheap { plan(id: "p") { id } } query Dear { plans(first: 100) { edges { node { id } } } }')
    assert requested_cost(schema, document, None, "Cheap") == 1
    assert requested_cost(schema, document, None, "Dear") == 101
    assert requested_cost(schema, document, None, None) == 101  # ambiguous: the costliest


def test_the_actual_cost_counts_what_was_answered(schema: GraphQLSchema) -> None:
    query = '{ plan(id: "p") { tasks(first: 100) { totalCount edges { node { slackDays dependsOn { id } } } } } }'
    document = parse(query)
    data = {
        "plan": {
            "tasks": {
                "totalCount": 2,
                "edges": [
                    {"node": {"slackDays": 0.0, "dependsOn": []}},
                    {"node": {"slackDays": 1.0, "dependsOn": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}},
                ],
            }
        }
    }
    # plan 1 + its forecast + connection 1 + totalCount 1 + 2 tasks + 3 predecessors
    assert actual_cost(schema, document, data) == 1 + FORECAST + 1 + 1 + 2 + 3
    assert actual_cost(schema, document, {"plan": None}) == 0  # nothing answered
    assert actual_cost(schema, document, None) == 0
    assert requested_cost(schema, document) > actual_cost(schema, document, data)


def test_the_actual_cost_of_objects_of_leaves_counts_each_leaf_answered(schema: GraphQLSchema) -> None:
    """Objects whose selection is leaves only are counted in one loop (schema.cost.leaves_of): the
    same sums as one object at a time, a leaf left out of an object (another type's fragment)
    not counted."""
    query = "{ plans(first: 10) { edges { node { id taskCount name } } } }"
    plans = [{"node": {"id": str(i), "taskCount": i, "name": "n"}} for i in range(3)]
    plans.append({"node": {"id": "x", "name": "no count"}})
    # connection 1 + 4 plans, each 1 + its taskCount (1) when answered
    assert actual_cost(schema, parse(query), {"plans": {"edges": plans}}) == 1 + 4 + 3
    forecasts = '{ plan(id: "p") { tasks(first: 10) { edges { node { id slackDays } } } } }'
    slack = {"plan": {"tasks": {"edges": [{"node": {"id": "a", "slackDays": 1.0}}, {"node": {"id": "b"}}]}}}
    # plan 1 + the forecast its tasks' slackDays need (once) + connection 1 + 2 tasks
    assert actual_cost(schema, parse(forecasts), slack) == 1 + FORECAST + 1 + 2
    none = {"plan": {"tasks": {"edges": [{"node": {"id": "a"}}, {"node": {"id": "b"}}]}}}
    assert actual_cost(schema, parse(forecasts), none) == 1 + 1 + 2


# The document bounds --------------------------------------------------------------------------


def test_fields_fragments_and_directives_are_counted(schema: GraphQLSchema) -> None:
    shape = measure(
        parse(
            "query Q @skip(if: false) { a { b c @include(if: true) } ...F } "
            "fragment F on Query { d { e } ... on Query { f } }"
        )
    )
    assert (shape.fields, shape.fragments, shape.directives) == (6, 1, 2)
    assert shape.expanded_fields == 6
    assert shape.cycle is None


def test_repeats_count_through_inline_fragments() -> None:
    shape = measure(parse("{ a a ... on Query { a ... on Query { a } } b { a } }"))
    assert (shape.repeats, shape.repeated) == (4, "a")
    aliased = measure(parse("{ x: a x: b x: c }"))
    assert (aliased.repeats, aliased.repeated) == (3, "x")


def test_fragments_are_inlined_once_each_without_recursion() -> None:
    """A fragment that spreads the next one twice, 30 deep: 2**30 fields inlined, counted at once."""
    chain = " ".join(f"fragment F{i} on Query {{ a {{ ...F{i + 1} ...F{i + 1} }} }}" for i in range(30))
    shape = measure(parse("{ ...F0 } " + chain + " fragment F30 on Query { leaf }"))
    assert shape.expanded_fields == 2**31 - 1
    assert shape.nesting == 31
    assert shape.depth == 30
    refusal = bounds_refusal(shape, SchemaLimits(max_fragments=100))
    assert refusal is not None
    assert "once its fragments are inlined" in refusal.message


def test_fragment_cycles_are_found_at_any_remove() -> None:
    assert measure(parse("{ ...A } fragment A on Q { ...A }")).cycle == "A"
    assert measure(
        parse("{ ...A } fragment A on Q { x { ...B } } fragment B on Q { y { ...C } } fragment C on Q { ...A }")
    ).cycle
    assert measure(parse("{ ...A ...B } fragment A on Q { ...B } fragment B on Q { z }")).cycle is None


def test_depth_is_counted_as_the_depth_limit_counts_it() -> None:
    """Object fields within object fields, fragments inlined; introspection is not counted."""
    assert measure(parse("{ a { b { c } } }")).depth == 2
    assert measure(parse("{ a { ...F } } fragment F on X { b { c { d } } }")).depth == 3
    assert measure(parse("{ __schema { types { fields { type { ofType { name } } } } } }")).depth == 0
    assert measure(parse(get_introspection_query())).depth == 0
    deep = "query Deep { " + "a { " * 13 + "b" + " }" * 13 + " }"
    refusal = bounds_refusal(measure(parse(deep)), LIMITS)
    assert refusal is not None
    assert refusal.message == "'Deep' exceeds maximum operation depth of 12"


def test_the_cheapest_bound_refuses_first() -> None:
    query = "{" + " a { b }" * 200 + "}"  # 400 fields, 200 repeats of 'a'
    refusal = bounds_refusal(measure(parse(query)), LIMITS)
    assert refusal is not None
    assert refusal.message == "The document has 400 field selections; at most 300 are allowed."
    assert refusal.extensions == {"code": "QUERY_TOO_COMPLEX"}
    fewer = bounds_refusal(measure(parse("{" + " a { b }" * 6 + "}")), LIMITS)
    assert fewer is not None
    assert fewer.message.startswith("'a' is selected 6 times in one selection set")
    assert bounds_refusal(measure(parse("{" + " a { b }" * 5 + "}")), LIMITS) is None


def test_circular_introspection_is_told_from_graphiqls() -> None:
    assert not introspection_loops(parse(get_introspection_query(descriptions=True)))
    assert introspection_loops(parse("{ __schema { types { fields { type { fields { name } } } } } }"))
    assert introspection_loops(parse('{ __type(name: "T") { possibleTypes { interfaces { name } } } }'))
    via_fragment = (
        "{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...U } } } "
        "fragment U on __Type { enumValues { name } }"
    )
    assert introspection_loops(parse(via_fragment))
    # Our own fields of the same names are no introspection.
    assert not introspection_loops(parse("{ type { fields { type { fields { x } } } } }"))


# The extension --------------------------------------------------------------------------------


def test_parsing_and_validation_run_off_the_event_loop() -> None:
    """A validation rule sees the thread it runs in: one of the pool's, never the loop's."""
    import asyncio
    import threading

    import strawberry
    from graphql import ValidationRule
    from strawberry.extensions import AddValidationRules

    from schema.limits import DocumentLimits

    seen: list[str] = []

    class Where(ValidationRule):
        def enter_document(self, *_args: object) -> None:
            seen.append(threading.current_thread().name)

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "hi"

    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: DocumentLimits(limits=LIMITS), lambda: AddValidationRules([Where])],  # type: ignore[list-item]
    )

    async def run() -> tuple[Any, str]:
        result = await schema.execute("{ hello }")
        return result, threading.current_thread().name

    result, loop_thread = asyncio.run(run())
    assert result.data == {"hello": "hi"}
    assert result.extensions == {"cost": {"requested": 0, "limit": LIMITS.max_cost, "actual": 0}}
    assert len(seen) == 1
    assert seen[0].startswith("graphql-prepare")
    assert seen[0] != loop_thread


def test_a_valid_document_is_validated_once_and_costed_with_each_requests_variables() -> None:
    """The second request with the same text skips parsing and validation (schema.limits'
    ``VALID_DOCUMENTS``), yet its cost follows its own variables: a costlier page is refused."""
    import asyncio
    import threading

    from graphql import ValidationRule
    from strawberry.extensions import AddValidationRules

    seen: list[str] = []

    class Where(ValidationRule):
        def enter_document(self, *_args: object) -> None:
            seen.append(threading.current_thread().name)

    limits = SchemaLimits(max_cost=100)
    schema = build_schema(limits=limits, extra_extensions=[lambda: AddValidationRules([Where])])
    query = "query($n: Int) { plans(first: $n) @skip(if: true) { edges { node { id } } } }"

    async def run(n: int) -> Any:
        return await schema.execute(query, variable_values={"n": n})

    first, second, third = (asyncio.run(run(n)) for n in (3, 7, 200))
    assert first.data == second.data == {}
    assert first.extensions["cost"]["requested"] == 4
    assert second.extensions["cost"]["requested"] == 8
    assert third.data is None
    assert third.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"
    assert third.extensions["cost"]["requested"] == 201
    assert len(seen) == 1
