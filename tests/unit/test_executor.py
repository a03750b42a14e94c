"""schema.executor answers exactly what graphql-core answers: values, order, errors and their paths.

Each case runs one document on the same Strawberry schema twice, once with Strawberry's own
execution context and once with ``PlannerExecutor``, and compares the two results whole.
"""

from __future__ import annotations

import asyncio
import enum
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.extensions import SchemaExtension

from schema.executor import PlannerExecutor, reads_source
from schema.plain_fields import plain_fields


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    size: int
    colour: Colour
    tags: list[str]
    note: str | None
    label: str  # answered by a marked resolver below: at once, or an awaitable

    @strawberry.field
    def shouted(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    items: list[Item]


def _item(**changes: Any) -> Item:
    values: dict[str, Any] = {
        "name": "a",
        "size": 1,
        "colour": Colour.RED,
        "tags": ["x", "y"],
        "note": None,
        "label": "L",
    }
    values.update(changes)
    return Item(**values)


def _label(context: Any, source: Item) -> Any:
    """Like a registry resolver: the value when at hand, else an awaitable of it."""
    if source.label.startswith("later:"):

        async def later() -> str:
            await asyncio.sleep(0)
            return source.label.removeprefix("later:")

        return later()
    return source.label


#: Items whose ``label`` graphql-core's resolver answered (not the fast step).
RESOLVED_BY_GRAPHQL_CORE: list[str] = []


def _schema(*, planner: bool, extensions: list[Any] | None = None) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=PlannerExecutor if planner else None,
        extensions=extensions or [],
    )
    core: GraphQLSchema = schema._schema
    plain_fields(core, schema.config.default_resolver)
    item = core.type_map["Item"]
    assert isinstance(item, GraphQLObjectType)

    def resolve_label(source: Item, info: Any) -> Any:
        RESOLVED_BY_GRAPHQL_CORE.append(source.name)
        return _label(info.context, source)

    item.fields["label"].resolve = reads_source(resolve_label, _label)
    return schema


def _both(document: str, items: list[Item], extensions: Callable[[], list[Any]] | None = None) -> tuple[Any, Any]:
    answers = []
    for planner in (False, True):
        schema = _schema(planner=planner, extensions=extensions() if extensions else None)
        result = asyncio.run(schema.execute(document, root_value=Query(items=items)))
        answers.append(
            (
                result.data,
                [(e.message, e.path) for e in result.errors or []],
            )
        )
    return answers[0], answers[1]


ALL_FIELDS = """{ items { label size ...F shouted kind: __typename again: name colour tags note } }
fragment F on Item { name size }"""


def test_answers_and_their_order_are_graphql_cores() -> None:
    items = [_item(name=f"n{i}", size=i, tags=[f"t{i}"], note="n" if i % 2 else None) for i in range(5)]
    plain, planner = _both(ALL_FIELDS, items)
    assert planner == plain
    assert not plain[1]
    first = planner[0]["items"][1]
    assert list(first) == ["label", "size", "name", "shouted", "kind", "again", "colour", "tags", "note"]
    assert first == {
        "label": "L",
        "size": 1,
        "name": "n1",
        "shouted": "N1",
        "kind": "Item",
        "again": "n1",
        "colour": "RED",
        "tags": ["t1"],
        "note": "n",
    }


@pytest.mark.parametrize(
    "broken",
    [
        {"name": None},  # null for a non-null field
        {"size": "not a number"},  # a value the scalar refuses
        {"colour": "green"},  # a value the enum does not have
        {"tags": ["x", None]},  # null inside a list of non-null items
        {"tags": 7},  # not a list
    ],
    ids=["null", "scalar", "enum", "list-item", "not-a-list"],
)
def test_values_the_fast_step_refuses_get_graphql_cores_errors(broken: dict[str, Any]) -> None:
    items = [_item(), _item(**broken), _item(name="c")]
    plain, planner = _both(ALL_FIELDS, items)
    assert planner == plain
    assert plain[1], "graphql-core reports the broken value"


def test_a_value_not_at_hand_is_awaited_by_graphql_core() -> None:
    items = [_item(label="now"), _item(label="later:soon"), _item(label="later:after")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine left unawaited would warn
        plain, planner = _both("{ items { name label } }", items)
    assert planner == plain
    assert [i["label"] for i in planner[0]["items"]] == ["now", "soon", "after"]


def test_with_a_middleware_every_field_goes_through_it() -> None:
    class Counting(SchemaExtension):
        seen: list[str]

        def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    seen: list[str] = []
    plain, planner = _both("{ items { name size } }", [_item(), _item()], extensions=lambda: [Counting])
    assert planner == plain
    # Twice each (once per executor): the items field and both leaves of both items.
    assert seen.count("name") == 4
    assert seen.count("size") == 4


def test_the_fast_step_answers_leaves_without_graphql_cores_resolver() -> None:
    RESOLVED_BY_GRAPHQL_CORE.clear()
    items = [_item(name="now"), _item(name="later", label="later:x"), _item(name="null", note=None)]
    plain, planner = _both("{ items { name label note } }", items)
    assert planner == plain
    # graphql-core's resolver: every item on the plain run; on PlannerExecutor's, only the item
    # whose label was not at hand (asked again, then awaited).
    assert RESOLVED_BY_GRAPHQL_CORE == ["now", "later", "null", "later"]
