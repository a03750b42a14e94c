"""schema.executor answers exactly what graphql-core answers: values, order, errors and their paths.

Each case runs one document on the same Strawberry schema twice, once with Strawberry's own
execution context and once with ``PlannerExecutor``, and compares the two results whole.
"""

from __future__ import annotations

import asyncio
import enum
import warnings
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension

from schema.executor import PlannerExecutor, reads_source
from schema.plain_fields import plain_fields


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Part:
    code: str
    weight: int

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        if isinstance(obj, Part) and obj.code == "raises":
            raise RuntimeError("cannot tell")
        return isinstance(obj, Part) and obj.code != "disowned"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):
    name: str
    size: int
    colour: Colour
    tags: list[str]
    note: str | None
    label: str  # answered by a marked resolver below: at once, or an awaitable
    main: Part | None
    parts: list[Part]
    spare: list[Part | None]
    alias: Named | None

    @strawberry.field
    def shouted(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    items: list[Item]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, count: int) -> AsyncGenerator[Item, None]:
        for i in range(count):
            yield _item(name=f"event {i}", parts=[Part(code=f"e{i}", weight=i)])


class Boom(Exception):
    """Not a built-in type: String's output coercion would write it as text."""


class Later:
    """An awaitable that is not a coroutine (as a future is): graphql-core awaits it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        yield from asyncio.sleep(0).__await__()
        return self.value


def _item(**changes: Any) -> Item:
    values: dict[str, Any] = {
        "name": "a",
        "size": 1,
        "colour": Colour.RED,
        "tags": ["x", "y"],
        "note": None,
        "label": "L",
        "main": Part(code="m", weight=1),
        "parts": [Part(code="p1", weight=2), Part(code="p2", weight=3)],
        "spare": [None, Part(code="s", weight=4)],
        "alias": None,
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


def _schema(
    *, planner: bool, extensions: list[Any] | None = None, executor: type[PlannerExecutor] = PlannerExecutor
) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        subscription=Subscription,
        execution_context_class=executor if planner else None,
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


ALL_FIELDS = """{ items { label size ...F shouted kind: __typename again: name colour tags note
  main { code weight } parts { code ... on Part { weight } } spare { weight }
  alias { name ... on Item { size } } } }
fragment F on Item { name size }"""


def test_answers_and_their_order_are_graphql_cores() -> None:
    items = [_item(name=f"n{i}", size=i, tags=[f"t{i}"], note="n" if i % 2 else None) for i in range(5)]
    plain, planner = _both(ALL_FIELDS, items)
    assert planner == plain
    assert not plain[1]
    first = planner[0]["items"][1]
    assert list(first) == [
        "label",
        "size",
        "name",
        "shouted",
        "kind",
        "again",
        "colour",
        "tags",
        "note",
        "main",
        "parts",
        "spare",
        "alias",
    ]
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
        "main": {"code": "m", "weight": 1},
        "parts": [{"code": "p1", "weight": 2}, {"code": "p2", "weight": 3}],
        "spare": [None, {"weight": 4}],
        "alias": None,
    }


@pytest.mark.parametrize(
    "broken",
    [
        {"name": None},  # null for a non-null field
        {"size": "not a number"},  # a value the scalar refuses
        {"colour": "green"},  # a value the enum does not have
        {"tags": ["x", None]},  # null inside a list of non-null items
        {"tags": 7},  # not a list
        {"parts": [Part(code="p", weight=1), None]},  # null inside a list of non-null objects
        {"parts": [Part(code="p", weight="heavy")]},  # a refused scalar inside an object of a list
        {"main": Part(code="disowned", weight=1)},  # an object its type disowns
        {"main": "not a part"},  # not an object at all
        {"spare": [Part(code="s", weight=None)]},  # null for a non-null field of a nullable item
        {"name": Undefined},  # graphql-core's undefined, as null
        {"note": Boom("boom")},  # an exception returned as the value: the field's error
        {"tags": ["x", Boom("boom")]},  # an exception as a list item
        {"main": Part(code="raises", weight=1)},  # a type check that raises
    ],
    ids=[
        "null",
        "scalar",
        "enum",
        "list-item",
        "not-a-list",
        "null-object",
        "deep",
        "disowned",
        "wrong",
        "item",
        "undefined",
        "exception",
        "exception-item",
        "type-check-raises",
    ],
)
def test_values_the_fast_step_refuses_get_graphql_cores_errors(broken: dict[str, Any]) -> None:
    items = [_item(), _item(**broken), _item(name="c", alias=_item(name="inner"))]
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


def test_objects_of_fast_fields_complete_without_graphql_cores_field_machinery() -> None:
    fields: list[str] = []

    class Counting(PlannerExecutor):
        def execute_field(self, parent_type: Any, source: Any, field_details_list: Any, *args: Any) -> Any:
            fields.append(f"{parent_type.name}.{field_details_list[0].node.name.value}")
            return super().execute_field(parent_type, source, field_details_list, *args)

    schema = _schema(planner=True, executor=Counting)
    items = [_item(), _item(main=None), _item(spare=[])]
    result = asyncio.run(
        schema.execute(
            "{ items { name main { code } parts { code weight } spare { code } } }", root_value=Query(items=items)
        )
    )
    assert not result.errors
    assert result.data is not None
    assert [i["main"] for i in result.data["items"]] == [{"code": "m"}, None, {"code": "m"}]
    # Not one field went through graphql-core's execute_field: the items, parts and spares (and
    # here the root field too, a plain attribute of the root value) completed in one step.
    assert fields == []
    # A field the fast step does not take sends it graphql-core's way, and the list that holds its
    # objects: each item's other fields still complete in one step.
    fields.clear()
    result = asyncio.run(schema.execute("{ items { main { code } shouted } }", root_value=Query(items=items)))
    assert not result.errors
    assert fields == ["Query.items"] + ["Item.shouted"] * 3


@pytest.mark.parametrize(
    ("held", "query", "answer"),
    [
        ({"name": Later("later")}, "{ items { name } }", {"name": "later"}),
        ({"tags": ["x", Later("y")]}, "{ items { tags } }", {"tags": ["x", "y"]}),
        ({"main": Later(Part(code="p", weight=1))}, "{ items { main { code } } }", {"main": {"code": "p"}}),
    ],
    ids=["attribute", "list-item", "object"],
)
def test_awaitables_held_by_objects_are_awaited_by_graphql_core(held: dict[str, Any], query: str, answer: Any) -> None:
    plain, planner = _both(query, [_item(**held)])
    assert planner == plain
    assert planner[0] == {"items": [answer]}


def test_an_awaitable_after_plain_objects_of_the_same_field_is_still_awaited() -> None:
    """The fast step decides once per type that a type's values are never awaitable (a ``Part``);
    an awaitable after them, in the same list, is a type of its own and still refused."""
    items = [_item(main=Part(code="a", weight=1)), _item(main=Later(Part(code="b", weight=2)))]
    plain, planner = _both("{ items { main { code } } }", items)
    assert planner == plain
    assert planner[0] == {"items": [{"main": {"code": "a"}}, {"main": {"code": "b"}}]}


def test_subscription_events_answer_as_graphql_cores() -> None:
    async def events(planner: bool) -> list[Any]:
        stream = await _schema(planner=planner).subscribe("subscription { items(count: 3) { name parts { code } } }")
        assert not isinstance(stream, strawberry.types.ExecutionResult)
        return [(event.data, event.errors) async for event in stream]

    plain, planner = (asyncio.run(events(p)) for p in (False, True))
    assert planner == plain
    assert [data["items"]["name"] for data, _errors in planner] == ["event 0", "event 1", "event 2"]
