"""The local server hands each resolver its parent the way AppSync does: through the JSON codec.

On AppSync a field's resolver gets its parent as JSON (``resolvers.codec``); locally Strawberry
has the parent object in hand. So that the local server runs the resolvers on exactly what they
get on AppSync, every field with a resolver in ``resolvers.registry`` gets its parent written as
that JSON and read back (``round_trip``): a resolver that needed anything the JSON does not
carry fails here, in every local test, not first on AWS. Other fields are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from resolvers.codec import round_trip
from resolvers.registry import RESOLVERS


class ParentsAsJson(SchemaExtension):
    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        if root is not None and (info.parent_type.name, info.field_name) in RESOLVERS:
            root = round_trip(root)
        return _next(root, info, *args, **kwargs)
