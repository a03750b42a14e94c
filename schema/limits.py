"""The bounds of a GraphQL document, cheapest first, and its cost (README, "Limits and cost").

A document is parsed, measured and costed, and only then validated: the measures are one linear
walk of the document (fragments resolved once each), so a document that would make validation
slow — graphql-core's rule that overlapping fields can be merged is quadratic in the fields that
share a response name — is refused before any of it runs. Parsing, measuring, costing and
validating happen in a small thread pool of their own, never on the event loop, so that even an
admitted document of the largest kind never holds other requests (``/healthz`` among them).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import structlog
from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from planning.model.limits import clipped
from schema.cost import CostModel, actual_cost, introspection_loops, requested_cost
from schema.error_codes import QUERY_TOO_COMPLEX, QUERY_TOO_COSTLY

log = structlog.get_logger("planner.graphql")


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    """What one GraphQL document may ask for. Aliases are counted by strawberry's limiter during
    validation and tokens by the parser; everything else here, before validation, the cost last."""

    #: Object fields within object fields, fragments inlined, introspection not counted (the way
    #: strawberry's QueryDepthLimiter counted them, with its message).
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    #: Characters in the document, refused before parsing: far more than 4,000 tokens need.
    max_characters: int = 64 * 1024
    #: Field selections written in the document.
    max_fields: int = 300
    #: Field selections once every fragment spread is replaced by its fragment.
    max_expanded_fields: int = 1000
    #: Selections of one response name in one selection set (inline fragments included).
    max_repeats: int = 5
    max_fragments: int = 20
    max_directives: int = 50
    #: Selection sets within selection sets, fragments inlined and introspection included.
    max_nesting: int = 40
    #: The largest cost (``schema.cost``) an operation may request.
    max_cost: int = 25_000


DEFAULT_LIMITS = SchemaLimits()


@dataclass(slots=True)
class Shape:
    """What :func:`measure` finds; ``expanded_fields`` and ``nesting`` count fragments inlined."""

    fields: int = 0
    fragments: int = 0
    directives: int = 0
    repeats: int = 0
    repeated: str = ""
    expanded_fields: int = 0
    nesting: int = 0
    #: Object fields within object fields (introspection aside), and the operation that goes deepest.
    depth: int = 0
    deepest: str = "anonymous"
    cycle: str | None = None


@dataclass(slots=True)
class _Part:
    """A fragment or an operation: its own fields and nesting, and the spreads at their depth."""

    fields: int = 0
    nesting: int = 0
    depth: int = 0
    #: Each spread: the fragment, its nesting and its depth where it is spread.
    spreads: list[tuple[str, int, int]] = field(default_factory=list)
    name: str = "anonymous"


def measure(document: DocumentNode) -> Shape:
    """Counts, in one pass over the document and one over its fragments, without recursion."""
    shape = Shape()
    parts: dict[str, _Part] = {}
    operations: list[_Part] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            shape.fragments += 1
            part = parts[definition.name.value] = _Part()
        elif isinstance(definition, OperationDefinitionNode):
            part = _Part(name=definition.name.value if definition.name else "anonymous")
            operations.append(part)
            for variable in definition.variable_definitions or ():
                shape.directives += len(variable.directives or ())
        else:
            continue
        shape.directives += len(definition.directives or ())
        _measure_part(definition.selection_set, part, shape)
    _expand(parts, operations, shape)
    return shape


def _measure_part(root: SelectionSetNode, part: _Part, shape: Shape) -> None:
    # Each entry: a selection set, its nesting, its depth (the object fields it is in, counted as
    # the depth limit counts them: introspection not at all), and the response names counted with
    # it (a selection set shares its count with the inline fragments it holds, as validation
    # merges them).
    stack: list[tuple[SelectionSetNode, int, int | None, dict[str, int]]] = [(root, 1, 0, {})]
    while stack:
        selection_set, nesting, depth, names = stack.pop()
        part.nesting = max(part.nesting, nesting)
        for selection in selection_set.selections:
            directives: tuple[DirectiveNode, ...] = tuple(selection.directives or ())
            shape.directives += len(directives)
            if isinstance(selection, FieldNode):
                shape.fields += 1
                part.fields += 1
                key = selection.alias.value if selection.alias else selection.name.value
                names[key] = names.get(key, 0) + 1
                if names[key] > shape.repeats:
                    shape.repeats, shape.repeated = names[key], key
                if selection.selection_set is not None:
                    inner = None if depth is None or selection.name.value.startswith("__") else depth + 1
                    if inner is not None:
                        part.depth = max(part.depth, inner)
                    stack.append((selection.selection_set, nesting + 1, inner, {}))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, nesting, depth, names))
            elif isinstance(selection, FragmentSpreadNode) and depth is not None:
                part.spreads.append((selection.name.value, nesting, depth))
            elif isinstance(selection, FragmentSpreadNode):
                part.spreads.append((selection.name.value, nesting, -1))


def _inlined(part: _Part, done: Mapping[str, tuple[int, int, int]]) -> tuple[int, int, int]:
    """A part's fields, nesting and depth with the fragments it spreads inlined."""
    fields, nesting, depth = part.fields, part.nesting, part.depth
    for spread, at_nesting, at_depth in part.spreads:
        if spread in done:
            more_fields, more_nesting, more_depth = done[spread]
            fields += more_fields
            nesting = max(nesting, at_nesting - 1 + more_nesting)
            if at_depth >= 0:  # not within introspection
                depth = max(depth, at_depth + more_depth)
    return fields, nesting, depth


def _expand(parts: dict[str, _Part], operations: list[_Part], shape: Shape) -> None:
    """Fields, nesting and depth with fragments inlined, each fragment worked out once (in an order
    where what it spreads comes first); a fragment that spreads itself, at any remove, is a cycle."""
    done: dict[str, tuple[int, int, int]] = {}
    for name in parts:
        if name in done:
            continue
        path: list[str] = [name]
        on_path = {name}
        while path:
            current = path[-1]
            waiting = next((s for s, _, _ in parts[current].spreads if s in parts and s not in done), None)
            if waiting is None:
                done[current] = _inlined(parts[current], done)
                on_path.discard(path.pop())
            elif waiting in on_path:
                shape.cycle = waiting
                return
            else:
                path.append(waiting)
                on_path.add(waiting)
    for part in operations:
        fields, nesting, depth = _inlined(part, done)
        shape.expanded_fields = max(shape.expanded_fields, fields)
        shape.nesting = max(shape.nesting, nesting)
        if depth > shape.depth:
            shape.depth, shape.deepest = depth, part.name


def _refusal(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def bounds_refusal(shape: Shape, limits: SchemaLimits) -> GraphQLError | None:
    """The first bound the document breaks, cheapest first; None when it keeps them all."""
    checks = (
        (shape.fields, limits.max_fields, "field selections"),
        (shape.fragments, limits.max_fragments, "fragments"),
        (shape.directives, limits.max_directives, "directives"),
    )
    for found, limit, what in checks:
        if found > limit:
            return _refusal(f"The document has {found:,} {what}; at most {limit:,} are allowed.", QUERY_TOO_COMPLEX)
    if shape.repeats > limits.max_repeats:
        return _refusal(
            f"'{clipped(shape.repeated)}' is selected {shape.repeats:,} times in one selection set; "
            f"at most {limits.max_repeats} are allowed.",
            QUERY_TOO_COMPLEX,
        )
    if shape.cycle is not None:
        return _refusal(f"Fragment '{clipped(shape.cycle)}' spreads itself.", QUERY_TOO_COMPLEX)
    if shape.expanded_fields > limits.max_expanded_fields:
        return _refusal(
            f"The document selects {shape.expanded_fields:,} fields once its fragments are inlined; "
            f"at most {limits.max_expanded_fields:,} are allowed.",
            QUERY_TOO_COMPLEX,
        )
    if shape.depth > limits.max_depth:
        # The message of strawberry's QueryDepthLimiter, which this check replaces.
        return GraphQLError(
            f"'{clipped(shape.deepest)}' exceeds maximum operation depth of {limits.max_depth}",
            extensions={"code": QUERY_TOO_COMPLEX},
        )
    if shape.nesting > limits.max_nesting:
        return _refusal(
            f"The document nests {shape.nesting:,} selection sets deep; at most {limits.max_nesting} are allowed.",
            QUERY_TOO_COMPLEX,
        )
    return None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document parsed (None if it did not parse), its errors so far, and its requested cost."""

    document: DocumentNode | None
    errors: list[GraphQLError]
    cost: int | None = None


def prepare(
    schema: GraphQLSchema,
    query: str,
    *,
    parse_options: Mapping[str, Any],
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    rules: tuple[type[ASTValidationRule], ...],
    limits: SchemaLimits,
    model: CostModel,
) -> Prepared:
    """Parse, measure, cost and validate one document: each step only once the cheaper ones passed."""
    if len(query) > limits.max_characters:
        message = (
            f"The document is {len(query):,} characters long; at most {limits.max_characters:,} are allowed "
            f"(and {limits.max_tokens:,} tokens)."
        )
        return Prepared(None, [_refusal(message, QUERY_TOO_COMPLEX)])
    try:
        document = parse(query, **parse_options)
    except GraphQLError as error:
        error.message = clipped(error.message)
        return Prepared(None, [error])
    refusal = bounds_refusal(measure(document), limits)
    if refusal is not None:
        return Prepared(document, [refusal])
    if introspection_loops(document):
        return Prepared(
            document,
            [
                _refusal(
                    "Introspection reads each type's members once: a type reached through another type "
                    "(a field's type, ofType, interfaces, possibleTypes) may select kind, name and ofType only.",
                    QUERY_TOO_COMPLEX,
                )
            ],
        )
    cost = requested_cost(schema, document, variables, operation_name, model)
    if cost > limits.max_cost:
        message = (
            f"The query costs {cost:,}, more than the limit of {limits.max_cost:,}: ask for fewer items "
            "(first), fewer nested lists or fewer graph fields (extensions.cost has the figures)."
        )
        return Prepared(document, [_refusal(message, QUERY_TOO_COSTLY, cost=cost, limit=limits.max_cost)], cost)
    return Prepared(document, validate_document(schema, document, rules), cost)


class ValidDocuments:
    """Documents that parsed, kept every bound and validated, by their text and how they were
    checked: the next request with the same text (a client's operations are the same few) skips
    parsing, measuring and validating, none of which depends on the variables; its cost, which
    does, is worked out again (``prepare_known``). Bounded: the oldest entries go first."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._documents: OrderedDict[tuple[Any, ...], DocumentNode] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(
        schema: GraphQLSchema,
        query: str,
        parse_options: Mapping[str, Any],
        rules: tuple[type[ASTValidationRule], ...],
        limits: SchemaLimits,
    ) -> tuple[Any, ...]:
        # Rules by name: some are classes made per request (MaxAliasesLimiter's), with their bound
        # taken from ``limits``, which is part of the key.
        names = tuple(f"{rule.__module__}.{rule.__qualname__}" for rule in rules)
        return (query, schema, tuple(sorted(parse_options.items())), names, limits)

    def get(self, key: tuple[Any, ...]) -> DocumentNode | None:
        with self._lock:
            document = self._documents.get(key)
            if document is not None:
                self._documents.move_to_end(key)
            return document

    def add(self, key: tuple[Any, ...], document: DocumentNode) -> None:
        with self._lock:
            self._documents[key] = document
            self._documents.move_to_end(key)
            while len(self._documents) > self.size:
                self._documents.popitem(last=False)


VALID_DOCUMENTS = ValidDocuments()


def prepare_known(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    limits: SchemaLimits,
    model: CostModel,
) -> Prepared:
    """``prepare`` for a document ``VALID_DOCUMENTS`` holds: only its cost is left to check."""
    cost = requested_cost(schema, document, variables, operation_name, model)
    if cost > limits.max_cost:
        message = (
            f"The query costs {cost:,}, more than the limit of {limits.max_cost:,}: ask for fewer items "
            "(first), fewer nested lists or fewer graph fields (extensions.cost has the figures)."
        )
        return Prepared(document, [_refusal(message, QUERY_TOO_COSTLY, cost=cost, limit=limits.max_cost)], cost)
    return Prepared(document, [], cost)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """Two threads for parsing and validation, apart from the pool resolvers read the store in."""
    global _POOL  # noqa: PLW0603 - one pool per process, made on first use
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="graphql-prepare")
    return _POOL


class DocumentLimits(SchemaExtension):
    """Parses and validates off the event loop, refusing what breaks a bound (``QUERY_TOO_COMPLEX``)
    or costs too much (``QUERY_TOO_COSTLY``) before validation; reports ``extensions.cost``:
    ``requested`` (before execution), ``limit``, and ``actual`` (from the answer) when it ran."""

    def __init__(self, *, limits: SchemaLimits, model: CostModel | None = None) -> None:
        self.limits = limits
        self.model = model or CostModel()
        self.requested: int | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            schema = context.schema._schema
            rules = tuple(context.validation_rules)
            key = ValidDocuments.key(schema, context.query, context.parse_options, rules, self.limits)
            known = VALID_DOCUMENTS.get(key)
            if known is not None:
                # Parsed and validated already: its cost is a walk of a document that keeps the bounds.
                prepared = prepare_known(
                    schema,
                    known,
                    variables=context.variables,
                    operation_name=context.operation_name,
                    limits=self.limits,
                    model=self.model,
                )
                self.requested = prepared.cost
                context.graphql_document = prepared.document
                context.pre_execution_errors = prepared.errors
                yield
                return
            job = functools.partial(
                prepare,
                context.schema._schema,
                context.query,
                parse_options=dict(context.parse_options),
                variables=context.variables,
                operation_name=context.operation_name,
                rules=context.validation_rules,
                limits=self.limits,
                model=self.model,
            )
            try:
                prepared = await asyncio.get_running_loop().run_in_executor(_pool(), job)
            except Exception as exc:
                log.error("document preparation fault", exc_info=exc)
                raise GraphQLError("Internal error; it has been logged.") from None
            self.requested = prepared.cost
            if prepared.document is None:
                raise prepared.errors[0]  # not parsed (too long, or a syntax error): answered as strawberry's own
            context.graphql_document = prepared.document
            # Set, even empty, so that strawberry does not validate a second time on the loop.
            context.pre_execution_errors = prepared.errors
            if not prepared.errors:
                VALID_DOCUMENTS.add(key, prepared.document)
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        cost: dict[str, Any] = {"requested": self.requested, "limit": self.limits.max_cost}
        context = self.execution_context
        result = context.result
        if result is not None and context.graphql_document is not None:
            cost["actual"] = actual_cost(
                context.schema._schema,
                context.graphql_document,
                getattr(result, "data", None),
                context.variables,
                context.operation_name,
                model=self.model,
            )
        return {"cost": cost}
