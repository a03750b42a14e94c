"""The executor: graphql-core's, with the leaves that only read their parent answered in one step.

graphql-core completes every field the same way: a path, a resolve-info object of sixteen members,
the resolver's call, two awaitable checks, a walk down the type's wrappers to the scalar's
coercion. For an answer of hundreds of tasks, each with a dozen scalar fields, that is most of a
read (``bench/graphql_bench.py``). Yet most of those fields only read an attribute of their parent
(``title``, ``status``: ``schema.plain_fields``) or answer at once from what the request holds (a
global ``id``, a primed ``taskCount``, ``slackDays`` of a forecast read already: the registry's
resolvers that are not coroutine functions, ``schema.direct_resolvers``), and their answer can be
nothing but a scalar, an enum or a list of them.

``PlannerExecutor`` answers such a leaf with the read and the type's own output coercion, once per
object, and hands every other field to graphql-core, in the order the document asked for them.
What a leaf answers is decided once per selection set per request (``_plan``). A value the fast
step cannot take as it is (an awaitable: not at hand yet; null where the schema says non-null; a
value the scalar refuses; a read that raises) sends the whole object through graphql-core's own
path, which reads it again, awaits it and answers any error exactly as it always did. Nothing
else changes: objects, lists of objects, fields with arguments, ``__typename`` and resolvers that
await go graphql-core's way; and when a schema extension resolves fields itself (a middleware),
every field does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: Set on a graphql-core resolver that is ``getattr(source, <the attribute's name>)``.
READS_ATTRIBUTE = "planner_reads_attribute"
#: Set on a graphql-core resolver whose value is ``<the function>(context, source)``: no arguments,
#: nothing of the resolve info but the context; an awaitable when the value is not at hand.
READS_SOURCE = "planner_reads_source"


def reads_attribute(resolve: Callable[..., Any], name: str) -> Callable[..., Any]:
    """Mark ``resolve`` as reading the attribute ``name`` of its parent and nothing else."""
    setattr(resolve, READS_ATTRIBUTE, name)
    return resolve


def reads_source(resolve: Callable[..., Any], read: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """Mark ``resolve`` as answering ``read(context, source)``, or an awaitable of it."""
    setattr(resolve, READS_SOURCE, read)
    return resolve


class _Leaf(NamedTuple):
    """How one response key of a selection set is answered without graphql-core's field machinery."""

    attribute: str | None  # read with getattr, or else
    read: Callable[[Any, Any], Any] | None  # read(context, source)
    coerce: Callable[[Any], Any]
    non_null: bool
    is_list: bool
    items_non_null: bool


class _Plan(NamedTuple):
    """A selection set's answer: its response keys in order, each a ``_Leaf`` or ``None``
    (graphql-core's), and the set of the ``None`` keys as graphql-core takes them."""

    keys: tuple[tuple[str, _Leaf | None], ...]
    rest: GroupedFieldSet
    all_leaves: bool


class _Refused(Exception):
    """A value the fast step does not answer: graphql-core's path will, with its own error."""


class PlannerExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with leaf fields that read their parent answered in one step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: id of a grouped field set → (that set, kept alive so that the id stays its own; its plan).
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan | None]] = {}
        manager = self.middleware_manager
        self._fast = not (manager is not None and getattr(manager, "middlewares", ()))

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan_of(parent_type, grouped_field_set)
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        try:
            leaves = self._leaves(plan, source_value)
        except _Refused:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        if plan.all_leaves:
            return leaves
        rest = super().execute_fields(parent_type, source_value, path, plan.rest, position_context)
        if self.is_awaitable(rest):
            return _merged_later(plan, leaves, rest)
        return _merged(plan, leaves, rest)

    def _leaves(self, plan: _Plan, source: Any) -> dict[str, Any]:
        answered: dict[str, Any] = {}
        context = self.context_value
        for key, leaf in plan.keys:
            if leaf is None:
                continue
            try:
                value = getattr(source, leaf.attribute) if leaf.attribute is not None else leaf.read(context, source)  # type: ignore[misc]
            except Exception as error:
                raise _Refused from error
            if leaf.read is not None and self.is_awaitable(value):
                # Not at hand: graphql-core's path asks again and awaits it.
                if isinstance(value, Coroutine):
                    value.close()
                raise _Refused
            if value is None:
                if leaf.non_null:
                    raise _Refused
                answered[key] = None
            elif leaf.is_list:
                answered[key] = _coerced_list(leaf, value)
            else:
                answered[key] = _coerced(leaf.coerce, value)
        return answered

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan | None:
        known = self._plans.get(id(grouped_field_set))
        if known is not None:
            return known[1]
        plan = self._plan(parent_type, grouped_field_set) if self._fast else None
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan | None:
        keys: list[tuple[str, _Leaf | None]] = []
        rest: GroupedFieldSet = {}
        for key, field_details_list in grouped_field_set.items():
            leaf = self._leaf(parent_type, field_details_list)
            keys.append((key, leaf))
            if leaf is None:
                rest[key] = field_details_list
        if len(rest) == len(keys):
            return None
        return _Plan(tuple(keys), rest, all_leaves=not rest)

    def _leaf(self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> _Leaf | None:
        node = field_details_list[0].node
        if node.arguments or node.name.value.startswith("__"):
            return None
        field = parent_type.fields.get(node.name.value)
        if field is None or field.args:
            return None
        attribute = getattr(field.resolve, READS_ATTRIBUTE, None)
        read = getattr(field.resolve, READS_SOURCE, None)
        if attribute is None and read is None:
            return None
        return _leaf_of_type(field.type, attribute, read)


def _leaf_of_type(
    field_type: GraphQLOutputType, attribute: str | None, read: Callable[[Any, Any], Any] | None
) -> _Leaf | None:
    non_null = isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    is_list = isinstance(inner, GraphQLList)
    items_non_null = False
    if isinstance(inner, GraphQLList):
        item = inner.of_type
        items_non_null = isinstance(item, GraphQLNonNull)
        inner = item.of_type if isinstance(item, GraphQLNonNull) else item
    if not is_leaf_type(inner):
        return None
    leaf_type: GraphQLLeafType = inner  # type: ignore[assignment]
    return _Leaf(attribute, read, leaf_type.coerce_output_value, non_null, is_list, items_non_null)


def _coerced(coerce: Callable[[Any], Any], value: Any) -> Any:
    try:
        answer = coerce(value)
    except Exception as error:
        raise _Refused from error
    if answer is None or answer is Undefined:
        raise _Refused
    return answer


def _coerced_list(leaf: _Leaf, value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _Refused
    answer = []
    for item in value:
        if item is None:
            if leaf.items_non_null:
                raise _Refused
            answer.append(None)
        else:
            answer.append(_coerced(leaf.coerce, item))
    return answer


def _merged(plan: _Plan, leaves: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """The answer in the document's order: the leaves' and graphql-core's keys (a field graphql-core
    left out, such as one the schema does not have, stays out)."""
    answer: dict[str, Any] = {}
    for key, leaf in plan.keys:
        if leaf is not None:
            answer[key] = leaves[key]
        elif key in rest:
            answer[key] = rest[key]
    return answer


async def _merged_later(plan: _Plan, leaves: dict[str, Any], rest: Any) -> dict[str, Any]:
    return _merged(plan, leaves, await rest)
