"""The executor: graphql-core's, with the fields that only read their parent answered in one step.

graphql-core completes every field the same way: a path, a resolve-info object of sixteen members,
the resolver's call, two awaitable checks, a walk down the type's wrappers to the scalar's
coercion, and for an object the same again for each of its fields. For an answer of hundreds of
tasks, each with a dozen scalar fields, that is most of a read (``bench/graphql_bench.py``). Yet
most fields only read an attribute of their parent (``title``, ``status``, an edge's ``node``:
``schema.plain_fields``) or answer at once from what the request holds (a global ``id``, a primed
``taskCount``, a page's prefetched ``dependsOn``, ``slackDays`` of a forecast read already: the
registry's resolvers that are not coroutine functions, ``schema.direct_resolvers``).

``PlannerExecutor`` answers such a field with the read and, for a scalar or an enum, the type's own
output coercion; for an object (or a list of them) whose selected fields are all of that kind,
with the same step on each object, so that a page's edges, their tasks, estimates and neighbour
lists complete in one walk. It hands every other field to graphql-core, in the order the document
asked for them. What each field takes is decided once per selection set per request (``_plan``).
A value the fast step cannot take as it is (an awaitable: not at hand yet; an exception returned
as a value; null where the schema says non-null; a value the scalar refuses; an object its type
disowns; a read or a type check that raises) sends the whole object through graphql-core's path,
which reads it again, awaits it and answers any error exactly as it always did; the fast step
itself never records an error. Fields with arguments, ``__typename``, interfaces and unions,
deferred fragments, streamed lists and resolvers that await go graphql-core's way; and when a
schema extension resolves fields itself (a middleware), every field does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from types import CoroutineType, GeneratorType
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


class _Fast(NamedTuple):
    """How one response key of a selection set is answered without graphql-core's field machinery:
    a leaf by its type's output coercion, an object (or a list of them) by its own fast plan."""

    attribute: str | None  # read with getattr, or else
    read: Callable[[Any, Any], Any] | None  # read(context, source)
    coerce: Callable[[Any], Any] | None  # a leaf's output coercion
    sub: _Plan | None  # an object's selection, every key of it fast
    is_type_of: Callable[[Any, Any], Any] | None  # an object type's own check of its values
    non_null: bool
    is_list: bool
    items_non_null: bool


class _Plan(NamedTuple):
    """A selection set's answer: its response keys in order, each a ``_Fast`` or ``None``
    (graphql-core's), and the set of the ``None`` keys as graphql-core takes them."""

    keys: tuple[tuple[str, _Fast | None], ...]
    rest: GroupedFieldSet
    all_fast: bool


#: Types whose values are never awaitables nor exceptions: text and numbers (most of an answer's
#: leaves), and each type of object the fast step met that has no ``__await__`` (a ``Plan``, an
#: edge), checked once per type rather than once per value.
_SETTLED: set[type] = {str, int, float, bool}


def _settles(kind: type) -> bool:
    """Whether no value of ``kind`` can be an awaitable or an exception: a generator or a
    coroutine is awaitable by its own flags, any other object by its type's ``__await__``."""
    return not issubclass(kind, BaseException | GeneratorType | CoroutineType) and not hasattr(kind, "__await__")


class _Refused(Exception):
    """A value the fast step does not answer: graphql-core's path will, with its own error."""


class PlannerExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the fields that read their parent answered in one step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: id of a grouped field set → (that set, kept alive so that the id stays its own; its plan).
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan | None]] = {}
        manager = self.middleware_manager
        self._fast = not (manager is not None and getattr(manager, "middlewares", ()))

    def build_per_event_executor(self, payload: Any) -> Any:
        """A subscription event's executor (graphql-core's copy of this one) with plans of its own:
        each event collects its selection sets anew, and a shared cache would keep every event's."""
        executor = super().build_per_event_executor(payload)
        executor._plans = {}
        return executor

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
            fast = self._answer(plan, source_value)
        except _Refused:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        if plan.all_fast:
            return fast
        rest = super().execute_fields(parent_type, source_value, path, plan.rest, position_context)
        if self.is_awaitable(rest):
            return _merged_later(plan, fast, rest)
        return _merged(plan, fast, rest)

    def _answer(self, plan: _Plan, source: Any) -> dict[str, Any]:
        """The fast keys of ``plan`` for ``source``; raises ``_Refused`` for anything else."""
        answered: dict[str, Any] = {}
        context = self.context_value
        for key, fast in plan.keys:
            if fast is None:
                continue
            try:
                value = getattr(source, fast.attribute) if fast.attribute is not None else fast.read(context, source)  # type: ignore[misc]
            except Exception as error:
                raise _Refused from error
            if fast.read is not None and type(value) not in _SETTLED and isinstance(value, Coroutine):
                value.close()  # made by this read, not at hand: graphql-core's path asks again
                raise _Refused
            if value is None or value is Undefined:
                if fast.non_null:
                    raise _Refused
                answered[key] = None
            elif fast.is_list:
                answered[key] = self._list(fast, value)
            else:
                answered[key] = self._one(fast, value)
        return answered

    def _list(self, fast: _Fast, value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise _Refused
        answer = []
        for item in value:
            if item is None or item is Undefined:
                if fast.items_non_null:
                    raise _Refused
                answer.append(None)
            else:
                answer.append(self._one(fast, item))
        return answer

    def _one(self, fast: _Fast, value: Any) -> Any:
        # What graphql-core completes otherwise than as a value: an awaitable (awaited, then
        # completed), an exception (the field's error). Text and numbers are neither.
        kind = type(value)
        if kind not in _SETTLED:
            if isinstance(value, Exception) or self.is_awaitable(value):
                raise _Refused
            if _settles(kind):
                _SETTLED.add(kind)
        if fast.sub is not None:
            if fast.is_type_of is not None:
                try:
                    owned = fast.is_type_of(value, None)  # ours read no resolve info; one that does raises
                except Exception as error:
                    raise _Refused from error
                if owned is not True:
                    raise _Refused
            return self._answer(fast.sub, value)
        try:
            answer = fast.coerce(value)  # type: ignore[misc]
        except Exception as error:
            raise _Refused from error
        if answer is None or answer is Undefined:
            raise _Refused
        return answer

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan | None:
        known = self._plans.get(id(grouped_field_set))
        if known is not None:
            return known[1]
        plan = None
        if self._fast:
            try:
                plan = self._plan(parent_type, grouped_field_set)
            except Exception:  # noqa: BLE001 - graphql-core's own path meets it again and answers it
                plan = None
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan | None:
        keys: list[tuple[str, _Fast | None]] = []
        rest: GroupedFieldSet = {}
        for key, field_details_list in grouped_field_set.items():
            fast = self._fast_field(parent_type, field_details_list)
            keys.append((key, fast))
            if fast is None:
                rest[key] = field_details_list
        if len(rest) == len(keys):
            return None
        return _Plan(tuple(keys), rest, all_fast=not rest)

    def _fast_field(self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> _Fast | None:
        node = field_details_list[0].node
        if node.arguments or node.name.value.startswith("__"):
            return None
        if any(d.name.value == "stream" for details in field_details_list for d in details.node.directives or ()):
            return None  # streamed in increments: graphql-core's
        field = parent_type.fields.get(node.name.value)
        if field is None or field.args:
            return None
        attribute = getattr(field.resolve, READS_ATTRIBUTE, None)
        read = getattr(field.resolve, READS_SOURCE, None)
        if attribute is None and read is None:
            return None
        non_null, is_list, items_non_null, named = _unwrapped(field.type)
        if is_list is None:
            return None  # a list of lists
        if is_leaf_type(named):
            leaf: GraphQLLeafType = named  # type: ignore[assignment]
            return _Fast(attribute, read, leaf.coerce_output_value, None, None, non_null, is_list, items_non_null)
        if not isinstance(named, GraphQLObjectType):
            return None  # an interface or a union: the runtime type decides the selection
        grouped, new_defer_usages, *_ = self.collect_subfields(named, field_details_list)
        if new_defer_usages:
            return None
        sub = self._plan_of(named, grouped)
        if sub is None or not sub.all_fast:
            return None
        return _Fast(attribute, read, None, sub, named.is_type_of, non_null, is_list, items_non_null)


def _unwrapped(field_type: GraphQLOutputType) -> tuple[bool, bool | None, bool, GraphQLOutputType]:
    """(non-null, a list — None for a list of lists —, its items non-null, the named type)."""
    non_null = isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(inner, GraphQLList):
        return non_null, False, False, inner
    item = inner.of_type
    items_non_null = isinstance(item, GraphQLNonNull)
    item = item.of_type if isinstance(item, GraphQLNonNull) else item
    if isinstance(item, GraphQLList):
        return non_null, None, items_non_null, item
    return non_null, True, items_non_null, item


def _merged(plan: _Plan, fast: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """The answer in the document's order: the fast step's and graphql-core's keys (a field
    graphql-core left out, such as one the schema does not have, stays out)."""
    answer: dict[str, Any] = {}
    for key, how in plan.keys:
        if how is not None:
            answer[key] = fast[key]
        elif key in rest:
            answer[key] = rest[key]
    return answer


async def _merged_later(plan: _Plan, fast: dict[str, Any], rest: Any) -> dict[str, Any]:
    return _merged(plan, fast, await rest)
