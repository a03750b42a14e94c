"""The built schema resolves the fields of ``resolvers.registry`` by direct calls of their resolvers.

Strawberry declares the fields (``schema/types/``: types, arguments, descriptions), and would call
each through its own wrappers: an ``Info`` object, argument conversion, extension hooks, a few
microseconds a call that a list of hundreds of tasks pays thousands of times a read
(``bench/graphql_bench.py``). ``direct_resolvers`` gives every query and object field the registry
names a graphql-core resolver that calls the registry's function with the request's context, the parent
and the arguments in their GraphQL shape, as the AppSync handler does, and returns what it returns:
the value, or an awaitable that graphql-core awaits. The registry is then the one place that says
how a field is resolved, here and on AppSync; the methods in ``schema/types/`` and ``schema/root.py``
that call the same functions only serve Strawberry's declaration of the field. Mutations (one call
a request) keep Strawberry's path, which turns their inputs into its input classes.

A check for the test suite, ``parents_as_json`` (``Settings.check_parents_as_json``, which the
test suite's servers set): on AppSync a resolver gets its parent as JSON (``resolvers.codec``),
locally the parent object is in hand; with the check, each parent is written as that JSON and read
back (``round_trip``) before its resolvers see it, once per object per request
(``RequestContext.parents``), so that a resolver that needed anything the JSON does not carry fails
in every local test, not first on AWS. A serving process leaves it off: it costs a sixth to a third
of a read.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
)

from resolvers import plans
from resolvers.codec import round_trip
from resolvers.registry import RESOLVERS, Resolver
from schema.executor import reads_source

#: Entries a context's memo holds at most (two per parent: the object and what it became).
MEMO_LIMIT = 20_000

#: Mutations (one call a request) keep Strawberry's path, which turns their inputs into its input
#: classes; subscriptions stream (``subscriptions/``).
_KEPT = frozenset({"Mutation", "Subscription"})


def _plan_tasks(info: GraphQLResolveInfo) -> Resolver:
    """``Plan.tasks`` prefetches its page's neighbours when the query asks for them."""
    with_neighbours = selects_any(info, ("dependsOn", "dependents"))

    def resolve(ctx: Any, parent: Any, args: dict[str, Any]) -> Any:
        return plans.tasks(ctx, parent, args, with_neighbours=with_neighbours)

    return resolve


def _query_plans(info: GraphQLResolveInfo) -> Resolver:
    """``Query.plans`` reads its page's task counts with it when the query asks for them."""
    with_task_counts = selects_any(info, ("taskCount",))

    def resolve(ctx: Any, parent: Any, args: dict[str, Any]) -> Any:
        return plans.plans(ctx, parent, args, with_task_counts=with_task_counts)

    return resolve


#: Fields whose resolver depends on what the query selects below them.
_SELECTION_AWARE: dict[tuple[str, str], Callable[[GraphQLResolveInfo], Resolver]] = {
    ("Plan", "tasks"): _plan_tasks,
    ("Query", "plans"): _query_plans,
}


def direct_resolvers(schema: GraphQLSchema, *, parents_as_json: bool = False) -> None:
    """Resolve, in ``schema``, every query and object field that ``RESOLVERS`` names by its registry function."""
    for (type_name, field_name), resolver in RESOLVERS.items():
        if type_name in _KEPT:
            continue
        graphql_type = schema.type_map.get(type_name)
        field = graphql_type.fields.get(field_name) if isinstance(graphql_type, GraphQLObjectType) else None
        if field is None:
            raise LookupError(f"the registry resolves {type_name}.{field_name}, which the schema does not have")
        aware = _SELECTION_AWARE.get((type_name, field_name))
        field.resolve = _direct(resolver, aware, parents_as_json=parents_as_json)
        if aware is None and not inspect.iscoroutinefunction(resolver):
            # It may answer at once: schema.executor asks it so, and awaits through graphql-core when not.
            reads_source(field.resolve, _immediate(resolver, parents_as_json=parents_as_json))


def _direct(
    resolver: Resolver, aware: Callable[[GraphQLResolveInfo], Resolver] | None, *, parents_as_json: bool
) -> Callable[..., Any]:
    def resolve_directly(root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if parents_as_json and root is not None:
            root = as_json_parent(info.context, root)
        call = resolver if aware is None else aware(info)
        # graphql-core hands the arguments in their GraphQL shape, as AppSync does: named as in the
        # schema, input objects as dicts, enums by name.
        return call(info.context, root, args)

    return resolve_directly


def _immediate(resolver: Resolver, *, parents_as_json: bool) -> Callable[[Any, Any], Any]:
    """``resolver`` as ``schema.executor`` asks a field: (context, parent) to the value, or an
    awaitable when it is not at hand."""
    if parents_as_json:
        return lambda context, root: resolver(context, as_json_parent(context, root), {})
    return lambda context, root: resolver(context, root, {})


def selects_any(info: GraphQLResolveInfo, names: tuple[str, ...]) -> bool:
    """Whether a field named in ``names`` is selected anywhere below the current field (through
    fragments, at any depth): an over-approximation is fine, a prefetch is never an answer."""
    pending: list[SelectionSetNode] = [node.selection_set for node in info.field_nodes if node.selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in names:
                    return True
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
    return False


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
