"""What a resolver's answer is as JSON: its GraphQL shape plus the hidden parent (``resolvers.codec``).

AppSync reads every field without a Lambda resolver from its parent's JSON, and passes that JSON
as ``source`` to the fields with one. This writes the answer of ``Type.field`` by the schema's own
types (``schema/schema.graphql``): for each object, every field that has no resolver in
``resolvers.registry`` (those are AppSync's to call), under its GraphQL name, serialized like the
local server serializes it (AppSync's scalars: ``schema.scalars``; enums by name), with
``__typename`` and, for a resolver's parent, ``_domain``. Connections count their whole list
only when ``totalCount`` is selected.

The schema is parsed on first use (graphql-core only; no Strawberry), once per process.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)

from resolvers.codec import HIDDEN_KEY, hidden
from resolvers.registry import RESOLVERS
from schema.scalars import serialize_aws_datetime, serialize_aws_json

SCHEMA_FILE = "schema.graphql"

#: The GraphQL object type of a domain class where a field's type is abstract (``Query.node``).
GRAPHQL_TYPE_OF: dict[str, str] = {
    "Plan": "Plan",
    "Task": "Task",
    "Dependency": "Dependency",
    "ExternalEvent": "ExternalEvent",
    "Simulation": "Simulation",
    "ProposedAction": "ProposedAction",
}

#: Fields whose value is derived from the parent object rather than read from an attribute.
DERIVED: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("Calendar", "workingDays"): lambda calendar: calendar.weekday_names,
    ("Calendar", "holidays"): lambda calendar: sorted(calendar.holidays),
}


@cache
def appsync_types() -> GraphQLSchema:
    from schema.export import SCHEMA_DIR

    return build_schema((SCHEMA_DIR / SCHEMA_FILE).read_text(encoding="utf-8"))


def field_type(type_name: str, field_name: str) -> GraphQLOutputType:
    parent = appsync_types().get_type(type_name)
    if not isinstance(parent, GraphQLObjectType) or field_name not in parent.fields:
        raise LookupError(f"the schema has no field {type_name}.{field_name}")
    return parent.fields[field_name].type


async def answer_json(type_name: str, field_name: str, value: Any, selection: Collection[str] | None = None) -> Any:
    """The JSON of ``value`` answered for ``type_name.field_name``.

    ``selection`` is AppSync's ``selectionSetList`` (paths such as ``edges/node/title``); it only
    decides whether a connection's ``totalCount`` is counted (always, when not given).
    """
    return await _write(value, field_type(type_name, field_name), selection)


async def _write(value: Any, graphql_type: GraphQLOutputType, selection: Collection[str] | None) -> Any:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if value is None:
        return None
    if isinstance(graphql_type, GraphQLList):
        return [await _write(item, graphql_type.of_type, None) for item in value]
    if isinstance(graphql_type, GraphQLScalarType):
        return _scalar(graphql_type.name, value)
    if isinstance(graphql_type, GraphQLEnumType):
        return value.name if isinstance(value, Enum) else str(value)
    if not isinstance(graphql_type, GraphQLObjectType):  # an interface: the object's own type
        concrete = appsync_types().get_type(GRAPHQL_TYPE_OF.get(type(value).__name__, ""))
        if not isinstance(concrete, GraphQLObjectType):
            raise TypeError(f"{type(value).__name__} is no type of {graphql_type}")
        graphql_type = concrete
    return await _object(value, graphql_type, selection)


async def _object(value: Any, graphql_type: GraphQLObjectType, selection: Collection[str] | None) -> dict[str, Any]:
    name = graphql_type.name
    out: dict[str, Any] = {"__typename": name}
    for field_name, field in graphql_type.fields.items():
        if (name, field_name) in RESOLVERS:
            continue  # AppSync calls the Lambda for it, with this JSON as the source
        if field_name == "totalCount" and name.endswith("Connection"):
            if selection is None or "totalCount" in selection:
                out[field_name] = await value.total_count()
            continue
        derive = DERIVED.get((name, field_name))
        item = derive(value) if derive else getattr(value, _snake(field_name))
        out[field_name] = await _write(item, field.type, None)
    parent = hidden(value)
    if parent is not None:
        out[HIDDEN_KEY] = parent
    return out


def _scalar(name: str, value: Any) -> Any:
    if name == "AWSDateTime" and isinstance(value, datetime):
        return serialize_aws_datetime(value)
    if name == "AWSDate" and isinstance(value, date):
        return value.isoformat()
    if name == "AWSJSON":
        return serialize_aws_json(value)
    if name == "Float":
        return float(value)
    if name == "ID":
        return str(value)
    return value


@cache
def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
