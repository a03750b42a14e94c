"""What a GraphQL operation costs: computed from the document and its variables before it runs,
and again from the answer once it has run (README, "Limits and cost").

The model, in the manner of Shopify's and GitHub's GraphQL APIs: the cost is about the number of
objects an operation reads, plus the work of the fields that compute.

- every object answered costs 1 (a plan, a task, a connection, a payload), except the wrappers
  that cost nothing to build (``*Edge``, ``PageInfo``); scalars and enums cost 0;
- a plan's forecast (the graph read and scheduled: ``criticalPath``, ``forecastFinishDate``, and
  a task's ``slackDays``, ``isCritical``, ``forecastStart``, ``forecastFinish``, ``riskScore``,
  ``upstream``, ``downstream``) costs ``FORECAST`` once for each plan object whose selections ask
  for it (or once for the operation, for tasks reached without their plan), as it is computed
  once per plan and request; an event's ``impact`` costs two forecasts;
- fields that count or decode a simulation add their weight (``WEIGHTS``), and each mutation 10;
- a list multiplies the cost of each of its objects by its size: a connection's ``edges`` by the
  connection's ``first`` (its default page when absent, at most 500); a walk of the graph with
  ``maxDepth`` by 10 to the power of the depth (at most the plan); other lists by an assumed size
  (``LIST_SIZES``: 10 for a task's direct neighbours, 500, a page's worth, for lists as long as
  the plan; ``DEFAULT_LIST_SIZE`` for the rest);
- a field selected more than once under one response name is resolved once, and costs once, as
  execution merges it;
- on an interface (``node``) the selections for every type count, an upper bound;
- introspection costs one per field it selects: it reads the schema in memory, and the document
  bounds (``schema.limits``) refuse the circular kind.

``requested`` is that cost before execution; ``actual`` is the same sum over the answer, each list
counted at the length it had (an assumed size that was too small for the data shows as an actual
cost above the requested one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    is_leaf_type,
)

from planning.services.base import MAX_PAGE_SIZE

#: A plan's forecast: its graph read and scheduled. Measured on a plan of 800 tasks it takes
#: about as long as answering 5,000 objects; a smaller plan's takes less.
FORECAST = 5_000
#: The fields answered from their plan's forecast, computed once per plan and request.
FORECAST_FIELDS = frozenset(
    {
        "Plan.criticalPath",
        "Plan.forecastFinishDate",
        "Task.slackDays",
        "Task.isCritical",
        "Task.forecastStart",
        "Task.forecastFinish",
        "Task.riskScore",
        "Task.upstream",
        "Task.downstream",
    }
)

#: ``Type.field`` → what resolving the field costs beyond the objects it answers (and the forecast).
WEIGHTS: Mapping[str, int] = {
    # A COUNT over the list.
    "PlanConnection.totalCount": 1,
    "TaskConnection.totalCount": 1,
    "ExternalEventConnection.totalCount": 1,
    "SimulationConnection.totalCount": 1,
    "Plan.taskCount": 1,
    # Two forecasts of its own: without the event and as if it happens.
    "ExternalEvent.impact": 2 * FORECAST,
    # A simulation's stored result, decoded.
    "Simulation.result": 10,
}

#: A page's worth: the size assumed for a list that can hold the whole plan.
PLAN_WIDE = MAX_PAGE_SIZE
#: ``Type.field`` → the assumed size of a list that is not paged.
LIST_SIZES: Mapping[str, int] = {
    "Task.dependsOn": 10,
    "Task.dependents": 10,
    "Task.externalEvents": 10,
    "ExternalEvent.affectedTasks": 10,
    "Task.upstream": PLAN_WIDE,
    "Task.downstream": PLAN_WIDE,
    "CriticalPath.tasks": PLAN_WIDE,
    "EventImpact.downstreamTasks": PLAN_WIDE,
    "Plan.dependencies": PLAN_WIDE,
    "SimulationResult.taskCriticality": PLAN_WIDE,
    "SimulationResult.sensitivity": PLAN_WIDE,
    "SimulationResult.histogram": 50,
    "SimulationResult.cumulative": 50,
}
DEFAULT_LIST_SIZE = 20
#: A walk of ``maxDepth`` hops is assumed to reach this many tasks a hop (at most ``LIST_SIZES``).
FAN_OUT = 10
MUTATION_WEIGHT = 10
#: Objects built in memory around others, which cost nothing of their own.
FREE_TYPES = frozenset({"PageInfo"})


@dataclass(frozen=True, slots=True)
class CostModel:
    weights: Mapping[str, int] = field(default_factory=lambda: WEIGHTS)
    list_sizes: Mapping[str, int] = field(default_factory=lambda: LIST_SIZES)
    default_list_size: int = DEFAULT_LIST_SIZE
    fan_out: int = FAN_OUT
    mutation_weight: int = MUTATION_WEIGHT
    max_page: int = MAX_PAGE_SIZE
    free_types: frozenset[str] = FREE_TYPES
    forecast: int = FORECAST
    forecast_fields: frozenset[str] = FORECAST_FIELDS
    #: The type whose objects share one forecast.
    forecast_owner: str = "Plan"


Fields = dict[str, list[tuple[FieldNode, GraphQLNamedType | None]]]


def select_operation(document: DocumentNode, operation_name: str | None) -> list[OperationDefinitionNode]:
    """The operation that runs; every operation when the name chooses none (execution then
    refuses the document, and the cost is the largest of them)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        named = [op for op in operations if op.name and op.name.value == operation_name]
        return named or operations
    return operations


class _Walk:
    """One costing of one document: fragments, variables and the merged field sets it reuses."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        model: CostModel,
    ) -> None:
        self.schema = schema
        self.model = model
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = dict(variables or {})
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and isinstance(definition.default_value, IntValueNode):
                self.variables[name] = int(definition.default_value.value)
        self._merged: dict[tuple[int, ...], Fields] = {}
        self._sizes: dict[int, int] = {}
        #: By ``id()`` of a fields mapping (kept alive in ``_merged``, or by the caller for the root).
        self._answered: dict[int, list[_Answered]] = {}

    # -- the document ------------------------------------------------------------------------

    def root_type(self, operation: OperationDefinitionNode) -> GraphQLNamedType | None:
        return {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]

    def condition(self, node: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLNamedType | None) -> Any:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent

    def collect(self, sets: Iterable[tuple[SelectionSetNode, GraphQLNamedType | None]]) -> Fields:
        """Fields by response name, through inline fragments and fragment spreads, as execution
        collects them (each fragment once)."""
        found: Fields = {}
        seen: set[str] = set()
        pending = list(sets)
        pending.reverse()
        while pending:
            selection_set, parent = pending.pop()
            nested: list[tuple[SelectionSetNode, GraphQLNamedType | None]] = []
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    found.setdefault(key, []).append((selection, parent))
                elif isinstance(selection, InlineFragmentNode):
                    nested.append((selection.selection_set, self.condition(selection, parent)))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen:
                        seen.add(name)
                        nested.append((fragment.selection_set, self.condition(fragment, parent)))
            pending.extend(reversed(nested))
        return found

    def children(self, entries: list[tuple[FieldNode, GraphQLNamedType | None]], named: Any) -> Fields:
        key = tuple(id(node) for node, _ in entries)
        merged = self._merged.get(key)
        if merged is None:
            merged = self.collect((node.selection_set, named) for node, _ in entries if node.selection_set)
            self._merged[key] = merged
        return merged

    def size(self, selection_set: SelectionSetNode | None) -> int:
        """Fields under a selection set with fragments inlined (introspection's cost)."""
        if selection_set is None:
            return 0
        known = self._sizes.get(id(selection_set))
        if known is not None:
            return known
        self._sizes[id(selection_set)] = 0  # a fragment cycle counts nothing twice
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 + self.size(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.size(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                total += self.size(fragment.selection_set) if fragment else 0
        self._sizes[id(selection_set)] = total
        return total

    # -- the model -----------------------------------------------------------------------------

    def definition(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def weight(self, parent: GraphQLNamedType, name: str) -> int:
        key = f"{parent.name}.{name}"
        if key in self.model.weights:
            return self.model.weights[key]
        return self.model.mutation_weight if parent is self.schema.mutation_type else 0

    def object_cost(self, named: GraphQLNamedType) -> int:
        return 0 if named.name in self.model.free_types or named.name.endswith("Edge") else 1

    def argument(self, node: FieldNode, name: str, default: Any) -> Any:
        """An argument's value as sent (a literal or a variable), else ``default``; a value that is
        not an integer answers the model's maximum (execution refuses it anyway)."""
        value: Any = None
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
            elif not isinstance(argument.value, NullValueNode):
                value = True  # not an integer
        if value is None:
            value = default
        if value is None:
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else True

    def page(self, node: FieldNode, definition: GraphQLField) -> int:
        """The page a connection asks for: ``first`` as sent, else the field's default."""
        value = self.argument(node, "first", definition.args["first"].default_value)
        if value is None or value is True:
            return self.model.max_page
        return max(0, min(int(value), self.model.max_page))

    def list_size(self, parent: GraphQLNamedType, node: FieldNode, definition: GraphQLField) -> int:
        size = self.model.list_sizes.get(f"{parent.name}.{node.name.value}", self.model.default_list_size)
        if "maxDepth" in definition.args:
            depth = self.argument(node, "maxDepth", None)
            if isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0:
                size = min(size, self.model.fan_out ** min(depth, 10))
        return size

    def requested(self, fields: Fields, page: int | None) -> tuple[int, bool]:
        """The cost of ``fields``, and whether they need a forecast their plan has not paid for."""
        total, forecast = 0, False
        for entries in fields.values():
            node, parent = entries[0]
            name = node.name.value
            if name == "__typename":
                continue
            if name.startswith("__"):
                total += 1 + self.size(node.selection_set)
                continue
            definition = self.definition(parent, name)
            if definition is None or parent is None:
                total += 1  # not in the schema: validation refuses it
                continue
            named, is_list = _unwrap(definition.type)
            total += self.weight(parent, name)
            forecast = forecast or f"{parent.name}.{name}" in self.model.forecast_fields
            if is_leaf_type(named):
                continue
            inner_page = self.page(node, definition) if _is_connection(named) and "first" in definition.args else None
            inner, needs = self.requested(self.children(entries, named), inner_page)
            each = self.object_cost(named) + inner + self.owned_forecast(named, needs)
            forecast = forecast or (needs and named.name != self.model.forecast_owner)
            if not is_list:
                count = 1
            elif page is not None and _is_connection(parent):
                count = page
            else:
                count = self.list_size(parent, node, definition)
            total += count * each
        return total, forecast

    def owned_forecast(self, named: GraphQLNamedType, needs: bool) -> int:
        return self.model.forecast if needs and named.name == self.model.forecast_owner else 0

    def actual(self, fields: Fields, data: Mapping[str, Any]) -> tuple[int, bool]:
        total, forecast = 0, False
        forecast_weight = self.model.forecast
        for key, weight, owns_forecast, inner, leaves, each, is_owner in self.answered(fields):
            value = data.get(key, _ABSENT)
            if value is _ABSENT:
                continue  # skipped, or selected for another type than the object's
            total += weight
            forecast = forecast or owns_forecast
            if inner is None or value is None:
                continue
            items = _objects(value)
            if leaves is not None and not leaves:
                # Objects of weightless leaves only (a task's id and title): each costs its object.
                total += each * len(items)
                continue
            for item in items:
                if leaves is None:
                    cost, needs = self.actual(inner, item)
                else:  # leaves only (a plan's taskCount): counted here, not by a call per object
                    cost, needs = 0, False
                    for leaf_key, leaf_weight, leaf_forecast in leaves:
                        if leaf_key in item:
                            cost += leaf_weight
                            needs = needs or leaf_forecast
                total += each + cost
                if needs:
                    if is_owner:
                        total += forecast_weight
                    else:
                        forecast = True
        return total, forecast

    def answered(self, fields: Fields) -> list[_Answered]:
        """What ``actual`` needs of each of ``fields``, worked out once per selection (not once per
        answered object): the response key, the field's weight, whether it needs a forecast, and
        for an object field its merged subfields, their leaves when they are leaves only (the
        leaves that count, as (key, weight, needs a forecast): an empty list when none counts and
        an answered object costs its object alone), the cost of one of its objects, and whether
        that object owns the forecast (None, None, 0 and False for a leaf). Leaves that weigh
        nothing and need no forecast (most of a task's) are left out: they add nothing, and an
        answer of hundreds of objects would look each of them up."""
        known = self._answered.get(id(fields))
        if known is not None:
            return known
        found: list[_Answered] = []
        for key, entries in fields.items():
            node, parent = entries[0]
            name = node.name.value
            if name == "__typename":
                continue
            if name.startswith("__"):
                found.append((key, 1 + self.size(node.selection_set), False, None, None, 0, False))
                continue
            definition = self.definition(parent, name)
            if definition is None or parent is None:
                continue
            named, _ = _unwrap(definition.type)
            forecast = f"{parent.name}.{name}" in self.model.forecast_fields
            weight = self.weight(parent, name)
            if is_leaf_type(named):
                if weight or forecast:
                    found.append((key, weight, forecast, None, None, 0, False))
                continue
            inner = self.children(entries, named)
            below = self.answered(inner)
            leaves = [(k, w, f) for k, w, f, *_rest in below] if all(entry[3] is None for entry in below) else None
            is_owner = named.name == self.model.forecast_owner
            found.append((key, weight, forecast, inner, leaves, self.object_cost(named), is_owner))
        self._answered[id(fields)] = found
        return found


#: What ``_Walk.answered`` works out for one field: (response key, weight, needs a forecast,
#: subfields, their leaves, the cost of one object, that object owns the forecast).
_Answered = tuple[str, int, bool, "Fields | None", "list[tuple[str, int, bool]] | None", int, bool]
_ABSENT = object()


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


def _is_connection(type_: Any) -> bool:
    return getattr(type_, "name", "").endswith("Connection")


def _objects(value: Any) -> Sequence[Mapping[str, Any]]:
    """The objects in an answered value: the value itself, or the items of (nested) lists."""
    if type(value) is dict:
        return (value,)
    if type(value) is list and all(type(item) is dict for item in value):
        return value
    found: list[Mapping[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            found.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    model: CostModel | None = None,
) -> int:
    """The cost of the operation ``operation_name`` (or the costliest) before it runs."""
    model = model or CostModel()
    costs = [0]
    for operation in select_operation(document, operation_name):
        walk = _Walk(schema, document, operation, variables, model)
        root = walk.root_type(operation)
        cost, forecast = walk.requested(walk.collect([(operation.selection_set, root)]), None)
        costs.append(cost + (model.forecast if forecast else 0))
    return max(costs)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    data: Mapping[str, Any] | None,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    model: CostModel | None = None,
) -> int:
    """The cost of what the operation answered: the model over ``data``, lists at their length."""
    operations = select_operation(document, operation_name)
    if data is None or len(operations) != 1:
        return 0
    (operation,) = operations
    model = model or CostModel()
    walk = _Walk(schema, document, operation, variables, model)
    cost, forecast = walk.actual(walk.collect([(operation.selection_set, walk.root_type(operation))]), data)
    return cost + (model.forecast if forecast else 0)


_TYPE_REFERENCES = frozenset({"type", "ofType", "interfaces", "possibleTypes"})
_TYPE_MEMBERS = frozenset({"fields", "inputFields", "interfaces", "possibleTypes", "enumValues"})
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def introspection_loops(document: DocumentNode) -> bool:
    """Whether introspection follows a type reference back into a type's members (``fields { type
    { fields ... } }``, ``possibleTypes { interfaces ... }``): the circular kind, whose answer grows
    with every turn. GraphiQL's introspection never does; it reads members once, under ``types``."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    pending = [(root, False) for root in _introspection_roots(document)]
    seen: set[tuple[int, bool]] = set()
    while pending:
        selection_set, through = pending.pop()
        if (id(selection_set), through) in seen:
            continue
        seen.add((id(selection_set), through))
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if through and name in _TYPE_MEMBERS:
                    return True
                if selection.selection_set is not None:
                    pending.append((selection.selection_set, through or name in _TYPE_REFERENCES))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, through))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append((fragment.selection_set, through))
    return False


def _introspection_roots(document: DocumentNode) -> list[SelectionSetNode]:
    """What ``__schema`` and ``__type`` select, wherever in the document they are."""
    roots: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    found: list[SelectionSetNode] = []
    visited: set[int] = set()
    while roots:
        selection_set = roots.pop()
        if id(selection_set) in visited:
            continue
        visited.add(id(selection_set))
        for selection in selection_set.selections:
            inner = getattr(selection, "selection_set", None)
            if inner is None:
                continue
            if isinstance(selection, FieldNode) and selection.name.value in _INTROSPECTION_ROOTS:
                found.append(inner)
            else:
                roots.append(inner)
    return found
