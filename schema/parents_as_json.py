"""The local server hands each resolver its parent the way AppSync does: through the JSON codec.

On AppSync a field's resolver gets its parent as JSON (``resolvers.codec``); locally Strawberry
has the parent object in hand. So that the local server runs the resolvers on exactly what they
get on AppSync, every field with a resolver in ``resolvers.registry`` gets its parent written as
that JSON and read back (``round_trip``): a resolver that needed anything the JSON does not
carry fails here, in every local test, not first on AWS. Other fields are untouched.

It is a field-level hook, not a schema extension's ``resolve`` (which graphql-core would call
for every field of every object, ``title`` and ``status`` included): ``parents_as_json`` wraps
the resolvers of the registry's fields in the built schema, and only those. A parent is
round-tripped once per request (``RequestContext.parents`` keeps what it became, and what it
became is its own round trip), however many of its fields have resolvers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from resolvers.codec import round_trip
from resolvers.ids import to_global_id
from resolvers.registry import GLOBAL_ID_TYPES, RESOLVERS

#: Entries a context's memo holds at most (two per parent: the object and what it became).
MEMO_LIMIT = 20_000

#: Root fields get no parent to round-trip.
_ROOTS = frozenset({"Query", "Mutation", "Subscription"})


def parents_as_json(schema: GraphQLSchema) -> None:
    """Wrap, in ``schema``, the resolver of every non-root field that ``RESOLVERS`` names."""
    for type_name, field_name in RESOLVERS:
        if type_name in _ROOTS:
            continue
        graphql_type = schema.type_map.get(type_name)
        if not isinstance(graphql_type, GraphQLObjectType) or field_name not in graphql_type.fields:
            continue
        field = graphql_type.fields[field_name]
        if field_name == "id" and type_name in GLOBAL_ID_TYPES:
            # Hundreds an answer: the registry's rule (``to_global_id`` of the parent's id), called
            # directly rather than through Strawberry's resolver wrappers.
            field.resolve = _global_id(type_name)
        elif field.resolve is not None:
            field.resolve = _with_parent_as_json(field.resolve)


def _global_id(type_name: str) -> Callable[..., Any]:
    def resolve_global_id(root: Any, info: GraphQLResolveInfo[Any], **_kwargs: Any) -> str:
        return to_global_id(type_name, as_json_parent(info.context, root).id)

    return resolve_global_id


def _with_parent_as_json(resolve: Callable[..., Any]) -> Callable[..., Any]:
    def resolve_from_json(root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any) -> Any:
        if root is not None:
            root = as_json_parent(info.context, root)
        return resolve(root, info, *args, **kwargs)

    return resolve_from_json


def as_json_parent(context: Any, value: Any) -> Any:
    """``round_trip(value)``, once per object per request when ``context`` keeps a memo."""
    memo: dict[int, tuple[Any, Any]] | None = getattr(context, "parents", None)
    if memo is None:
        return round_trip(value)
    known = memo.get(id(value))
    if known is not None:
        return known[1]
    converted = round_trip(value)
    if len(memo) >= MEMO_LIMIT:
        memo.clear()  # a subscription's context lives as long as its socket: keep it bounded
    # The object is kept beside its id, so that the id is not reused within the request.
    memo[id(value)] = (value, converted)
    memo[id(converted)] = (converted, converted)
    return converted
