"""Which GraphQL fields AppSync resolves through the Lambda, and which through the NONE data source.

Read from ``schema/appsync.graphql`` so that the API only names fields the schema has:

- every ``Query``, ``Mutation`` and ``Subscription`` field goes to the Lambda data source,
  unbatched (a subscription's resolver runs once, when a client subscribes, and refuses a caller
  who may not read the plan), except the
  publish mutations, which only the backend calls (IAM) to fan an event out to subscribers: those
  go to a NONE data source that echoes their input;
- on the other types, the fields in ``NESTED_FIELDS`` go to the Lambda, batched (AppSync sends one
  ``BatchInvoke`` of up to ``MAX_BATCH_SIZE`` sources). Every other field is read from its
  parent's JSON by AppSync itself. The list is the nested part of ``resolvers/registry.py``,
  which ``planner schema export`` writes to ``schema/resolvers.json`` because the CDK app cannot
  import the project's code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from graphql import ObjectTypeDefinitionNode, ObjectTypeExtensionNode, parse

from .settings import NESTED_RESOLVERS

#: Mutations that only the backend calls (IAM) to publish to subscriptions; resolved by AppSync alone.
PUBLISH_MUTATIONS = ("publishPlanEvent", "publishSimulationProgress")

#: How many sources one batched Lambda invocation receives at most (AppSync allows up to 2,000).
MAX_BATCH_SIZE = 500


def nested_fields(path: Path = NESTED_RESOLVERS) -> tuple[tuple[str, str], ...]:
    """Fields below the root whose value is not in their parent's JSON: the Lambda computes them.

    ``planner schema export`` writes the list from ``resolvers/registry.py`` (the handler routes
    by the same registry), so the two cannot drift apart.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple((type_name, field_name) for type_name, field_name in data["nested"])


ROOT_TYPES = ("Query", "Mutation", "Subscription")


@dataclass(frozen=True)
class FieldResolver:
    type_name: str
    field_name: str
    #: None for a root field; the batch size for a nested one.
    max_batch_size: int | None = None


@dataclass(frozen=True)
class ResolverPlan:
    lambda_fields: tuple[FieldResolver, ...]
    publish_fields: tuple[FieldResolver, ...]


def object_fields(sdl: str) -> dict[str, tuple[str, ...]]:
    """Each object type's field names, in schema order, extensions included.

    The document is parsed, not built: AppSync's scalars and directives are not declared in it.
    """
    fields: dict[str, tuple[str, ...]] = {}
    for definition in parse(sdl).definitions:
        if isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            names = tuple(field.name.value for field in definition.fields or ())
            fields[definition.name.value] = fields.get(definition.name.value, ()) + names
    return fields


def plan_resolvers(sdl: str, nested: tuple[tuple[str, str], ...] | None = None) -> ResolverPlan:
    """The resolvers for the fields this schema has; those it lacks (yet) are left out.

    ``nested`` defaults to the generated list (``nested_fields``)."""
    nested = nested_fields() if nested is None else nested
    fields = object_fields(sdl)
    lambda_fields: list[FieldResolver] = []
    publish_fields: list[FieldResolver] = []
    for type_name in ROOT_TYPES:
        for field_name in fields.get(type_name, ()):
            if type_name == "Mutation" and field_name in PUBLISH_MUTATIONS:
                publish_fields.append(FieldResolver(type_name, field_name))
            else:
                lambda_fields.append(FieldResolver(type_name, field_name))
    for type_name, field_name in nested:
        if field_name in fields.get(type_name, ()):
            lambda_fields.append(FieldResolver(type_name, field_name, MAX_BATCH_SIZE))
    return ResolverPlan(tuple(lambda_fields), tuple(publish_fields))


def plan_resolvers_from_file(path: Path) -> ResolverPlan:
    return plan_resolvers(path.read_text(encoding="utf-8"))
