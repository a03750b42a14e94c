"""What a request's log line and metrics say about its GraphQL operation.

``RequestLog`` starts a ``RequestFacts`` for each request in a context variable; GraphQL runs
in a copy of that context (``ExecutionLoop`` copies it), so it fills in the same object:
``OperationFacts`` (a schema extension) the operation's name once the document is parsed, and
the view the outcome and the cost it reported in ``extensions.cost``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult


@dataclass(slots=True)
class RequestFacts:
    #: Whether GraphQL read the document (else the edge refused the request first).
    graphql: bool = False
    operation: str | None = None
    #: ``ok``, ``partial`` (data and errors) or ``error`` (no data).
    outcome: str | None = None
    cost: Any = None


CURRENT: contextvars.ContextVar[RequestFacts | None] = contextvars.ContextVar("planner_request_facts", default=None)


def outcome_of(result: ExecutionResult) -> str:
    if not result.errors:
        return "ok"
    return "error" if result.data is None else "partial"


def record_result(result: ExecutionResult) -> None:
    """The view's part: the outcome and cost of the operation that ran."""
    facts = CURRENT.get()
    if facts is not None:
        facts.outcome = outcome_of(result)
        facts.cost = (result.extensions or {}).get("cost")


class OperationFacts(SchemaExtension):
    """Notes the operation's name (the one asked for, or the document's only one)."""

    def on_operation(self) -> Iterator[None]:
        facts = CURRENT.get()
        if facts is not None:
            facts.graphql = True
        yield
        if facts is not None:
            try:
                facts.operation = self.execution_context.operation_name
            except Exception:  # noqa: BLE001 - a document that did not parse has no name to note
                facts.operation = None
