"""Strawberry inputs back into the GraphQL shapes the resolvers take (camelCase, omitted = absent)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from strawberry.types.base import has_object_definition
from strawberry.types.unset import UNSET


def graphql_value(value: Any) -> Any:
    if has_object_definition(value):
        definition = value.__strawberry_definition__
        out = {}
        for field in definition.fields:
            item = getattr(value, field.python_name)
            if item is UNSET:
                continue
            out[field.graphql_name or _camel(field.python_name)] = graphql_value(item)
        return out
    if isinstance(value, list | tuple):
        return [graphql_value(v) for v in value]
    if isinstance(value, Enum):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(k): graphql_value(v) for k, v in dataclasses.asdict(value).items()}
    return value


def graphql_args(**kwargs: Any) -> dict[str, Any]:
    return {_camel(k): graphql_value(v) for k, v in kwargs.items() if v is not UNSET}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
