"""Plain attributes resolved the way graphql-core's own default resolver does: one call, no wrapper.

Strawberry resolves a field without a resolver (``title``, ``status``…) through two wrappers that
end in ``getattr(source, python_name)``; with hundreds of objects an answer, those calls are a
large share of a read (bench/graphql_bench.py). ``plain_fields`` gives such fields, in the built
schema, a resolver that is that ``getattr`` alone: same answers, same errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.executor import reads_attribute


def plain_fields(schema: GraphQLSchema, default_resolver: Callable[[Any, str], Any]) -> None:
    """Give every plain field of ``schema`` (Strawberry's "basic" fields: no resolver, no
    extension) a direct attribute read; only when Strawberry's default resolver is ``getattr``."""
    if default_resolver is not getattr:
        return
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if (
                isinstance(definition, StrawberryField)
                and definition.is_basic_field
                and not definition.is_subscription
                and getattr(field.resolve, "_is_default", False)
                and definition.python_name
            ):
                field.resolve = _attribute(definition.python_name)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve_attribute(source: Any, _info: Any, **_kwargs: Any) -> Any:
        return getattr(source, name)

    return reads_attribute(resolve_attribute, name)
