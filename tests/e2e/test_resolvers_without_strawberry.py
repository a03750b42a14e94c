"""The resolvers run without Strawberry's executor, by type and field name, on AppSync-shaped input."""

from __future__ import annotations

import asyncio

from graphql import build_schema

from planning.principal import Principal
from resolvers.registry import RESOLVERS, resolve
from schema.export import SCHEMA_DIR


def test_every_registered_field_exists_in_the_schema() -> None:
    schema = build_schema((SCHEMA_DIR / "schema.graphql").read_text())
    for type_name, field_name in RESOLVERS:
        graphql_type = schema.get_type(type_name)
        assert graphql_type is not None, type_name
        assert field_name in graphql_type.fields, f"{type_name}.{field_name}"


def test_a_plan_built_and_read_field_by_field(app) -> None:
    ctx = app.context(Principal("lambda@example.com", frozenset({"planner"})))

    async def scenario() -> None:
        created = await resolve(
            ctx, "Mutation", "createPlan", None, {"input": {"name": "Raw", "eventDate": "2025-03-31"}}
        )
        assert created.user_errors == []
        plan = created.plan
        assert plan.event_date.isoformat() == "2025-03-31"
        from resolvers.ids import to_global_id

        plan_id = to_global_id("Plan", plan.id)
        first = await resolve(
            ctx,
            "Mutation",
            "createTask",
            None,
            {"input": {"planId": plan_id, "title": "Order parts", "startDate": "2025-02-03", "durationDays": 3}},
        )
        second = await resolve(
            ctx,
            "Mutation",
            "createTask",
            None,
            {
                "input": {
                    "planId": plan_id,
                    "title": "Assemble",
                    "durationDays": 2,
                    "dependsOn": [to_global_id("Task", first.task.id)],
                }
            },
        )
        assert second.user_errors == []
        event = await resolve(
            ctx,
            "Mutation",
            "ingestExternalEvent",
            None,
            {
                "input": {
                    "planId": plan_id,
                    "eventType": "supplier_delay",
                    "severity": "HIGH",
                    "title": "Late parts",
                    "occurredAt": "2025-02-05T10:30:00Z",
                    "delayDays": 2,
                    "payload": {"supplier": "ACME"},  # AppSync parses AWSJSON before the resolver
                    "affectedTaskIds": [to_global_id("Task", first.task.id)],
                }
            },
        )
        assert event.user_errors == []
        assert event.external_event.payload == {"supplier": "ACME"}
        bad = await resolve(
            ctx,
            "Mutation",
            "updateTask",
            None,
            {"input": {"id": to_global_id("Task", first.task.id), "dueDate": "03/02/2025"}},
        )
        assert [e.code.value for e in bad.user_errors] == ["INVALID_INPUT"]
        assert bad.user_errors[0].field == ["input", "dueDate"]

        page = await resolve(ctx, "Plan", "tasks", plan, {"first": 10})
        assert [e.node.title for e in page.edges] == ["Order parts", "Assemble"]
        assert await page.total_count() == 2
        depends_on = await resolve(ctx, "Task", "dependsOn", page.edges[1].node, {})
        assert [t.title for t in depends_on] == ["Order parts"]
        downstream = await resolve(ctx, "Task", "downstream", page.edges[0].node, {"maxDepth": None})
        assert [t.title for t in downstream] == ["Assemble"]
        path = await resolve(ctx, "Plan", "criticalPath", plan, {})
        assert [t.title for t in path.tasks] == ["Order parts", "Assemble"]
        assert path.duration_days == 7.0  # 3 + 2 days, and the certain event's 2 days on the first
        finish = await resolve(ctx, "Plan", "forecastFinishDate", plan, {})
        assert finish == path.finish_date
        impact = await resolve(ctx, "ExternalEvent", "impact", event.external_event, {})
        assert impact.critical_path_delay_days == 2.0
        assert (impact.probability, impact.in_forecast) == (1.0, True)
        found = await resolve(ctx, "Query", "node", None, {"id": plan_id})
        assert found.name == "Raw"

    asyncio.run(scenario())


# Fields computed from their parent object alone (no store, no context): the AppSync handler's
# serializer derives them the way these Strawberry methods do.
DERIVED_FROM_PARENT = {("Calendar", "workingDays"), ("Calendar", "holidays")}


def test_every_field_with_a_resolver_is_registered() -> None:
    from schema.root import build_schema as strawberry_schema

    schema = strawberry_schema()
    converter = schema.config.name_converter
    unregistered = set()
    for graphql_type in schema.schema_converter.type_map.values():
        definition = graphql_type.definition
        if not hasattr(definition, "fields") or definition.name.endswith("Connection"):
            continue  # a connection's totalCount is the connection object's own method
        if definition.name == "Subscription":
            continue  # subscriptions stream from the outbox (local) or AppSync (publish mutations)
        for field in definition.fields:
            name = converter.get_graphql_name(field)
            if field.base_resolver is not None and (definition.name, name) not in RESOLVERS:
                unregistered.add((definition.name, name))
    assert unregistered == DERIVED_FROM_PARENT


def test_the_built_schema_resolves_every_query_and_object_field_of_the_registry_directly() -> None:
    """The registry is where a field is resolved, here as on AppSync: in the built schema, each of
    its Query and object fields calls its registry function directly (schema.direct_resolvers), so
    the Strawberry methods in schema/types/ only declare the fields."""
    from schema.root import build_schema as strawberry_schema

    built = strawberry_schema()._schema
    not_direct = []
    for type_name, field_name in RESOLVERS:
        if type_name in {"Mutation", "Subscription"}:
            continue
        resolve = built.type_map[type_name].fields[field_name].resolve  # type: ignore[union-attr]
        if getattr(resolve, "__name__", "") != "resolve_directly":
            not_direct.append(f"{type_name}.{field_name}")
    assert not_direct == []
