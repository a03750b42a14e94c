"""The AppSync direct-resolver Lambda: ``adapters.appsync.handler.handler``.

Powertools' ``AppSyncResolver`` routes each event by ``(info.parentTypeName, info.fieldName)``
to the function registered for it, one per entry of ``resolvers.registry.RESOLVERS``:

- an ``Invoke`` (one field, as AppSync sends ``Query`` and ``Mutation`` fields) answers the
  resolver's result as JSON (``schema.json_codec``: the GraphQL shape plus the hidden parent the
  child fields need);
- a ``BatchInvoke`` (a list of events, as AppSync sends the nested fields) answers one result per
  event, in order. The batch runs as one request: every source's resolver runs concurrently on
  the same per-request DataLoaders, so each access pattern is one batch load (500
  ``Task.dependsOn`` are one read of their dependencies and one of their tasks; the
  ``Task.slackDays`` of a page schedule each plan once). An event that fails answers null.

Who calls comes from the event's ``identity`` (``adapters.appsync.identity``). The store, the graph
and the services are opened once per container, on the first event (``runtime.py``); importing
this module opens nothing. Settings come from the environment (``Settings.from_env``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import AppSyncResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import AppSyncResolverEvent

from adapters.appsync import runtime as container
from adapters.appsync.identity import principal_of
from adapters.appsync.runtime import LambdaRuntime
from planning.errors import DomainError

# The resolvers (Strawberry's DataLoader, the services, the codec) are imported on the first
# event, when the routes are registered: the module's import is the cold start before any event.
if TYPE_CHECKING:
    from resolvers.context import RequestContext

SERVICE = "planner-api"
#: Fields AppSync invokes one at a time (a subscription's resolver runs when a client subscribes).
ROOT_TYPES = ("Query", "Mutation", "Subscription")
#: What a fault (a bug, not the client's mistake) tells the client; the traceback is logged.
FAULT_MESSAGE = "Internal error; it has been logged."

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Planner", service=SERVICE)
app = AppSyncResolver()
_runtime: list[LambdaRuntime] = []


class InternalError(Exception):
    """A fault, masked: what the client sees instead of the exception."""


def use_runtime(runtime: LambdaRuntime | None) -> None:
    """Run on ``runtime`` (tests, or a container that builds its own); None: one from the environment."""
    _runtime[:] = [] if runtime is None else [runtime]


def runtime() -> LambdaRuntime:
    return _runtime[0] if _runtime else container.runtime()


def _context(event: AppSyncResolverEvent) -> RequestContext:
    from resolvers.context import RequestContext

    return RequestContext(services=runtime().services, principal=principal_of(event.get("identity")))


async def _answer(ctx: RequestContext, event: AppSyncResolverEvent, type_name: str, field_name: str) -> Any:
    from resolvers.registry import resolve
    from schema.json_codec import answer_json

    with _reads_of(type_name):  # the answer's JSON too: it may read (a connection's totalCount)
        value = await resolve(ctx, type_name, field_name, event.source or None, dict(event.arguments or {}))
        return await answer_json(type_name, field_name, value, event.info.selection_set_list)


def _reads_of(type_name: str) -> AbstractContextManager[Any]:
    """A field of a query reads in one read-only transaction (a batch's items share the batch's);
    a mutation gets its own units of work."""
    from adapters.sql.shared_reads import current_shared_reads  # with the stores, not at import

    if type_name == "Mutation" or current_shared_reads() is not None:
        return nullcontext()
    return runtime().shared_reads()


def _masked(exc: BaseException) -> BaseException:
    """The client's own mistakes and the graph's unavailability as they are; anything else masked."""
    from resolvers.errors import BadRequest, Unavailable

    if isinstance(exc, BadRequest | Unavailable | DomainError):
        return exc
    logger.exception("resolver fault", exc_info=exc)
    return InternalError(FAULT_MESSAGE)


def _one(type_name: str, field_name: str) -> Callable[..., Any]:
    def resolve_one(**_arguments: Any) -> Any:
        event = app.current_event
        try:
            return runtime().run(_answer(_context(event), event, type_name, field_name))
        except Exception as exc:  # every failure answers, faults masked
            raise _masked(exc) from exc

    resolve_one.__name__ = f"resolve_{type_name}_{field_name}"
    return resolve_one


def _batch(type_name: str, field_name: str) -> Callable[..., list[Any]]:
    def resolve_batch(event: list[AppSyncResolverEvent]) -> list[Any]:
        return runtime().run(_answer_batch(event, type_name, field_name))

    resolve_batch.__name__ = f"resolve_batch_{type_name}_{field_name}"
    return resolve_batch


async def _answer_batch(events: list[AppSyncResolverEvent], type_name: str, field_name: str) -> list[Any]:
    import asyncio

    from resolvers.context import RequestContext

    contexts: dict[object, RequestContext] = {}  # one request context per caller (one, from AppSync)
    work = []
    for event in events:
        principal = principal_of(event.get("identity"))
        ctx = contexts.get(principal)
        if ctx is None:
            ctx = contexts[principal] = RequestContext(services=runtime().services, principal=principal)
        work.append(_answer(ctx, event, type_name, field_name))
    with _reads_of(type_name):
        results = await asyncio.gather(*work, return_exceptions=True)
    answers: list[Any] = []
    for index, result in enumerate(results):
        if isinstance(result, BaseException):
            _masked(result)  # logs a fault
            logger.info("batch item failed", index=index, field=f"{type_name}.{field_name}", error=str(result))
            answers.append(None)
        else:
            answers.append(result)
    metrics.add_metric(name="BatchedSources", unit=MetricUnit.Count, value=len(events))
    return answers


_routed: list[bool] = []


def _register_routes() -> None:
    """One route per entry of the registry: a resolver, and for nested fields a batch resolver."""
    if _routed:
        return
    from resolvers.registry import RESOLVERS

    for type_name, field_name in RESOLVERS:
        app.resolver(type_name=type_name, field_name=field_name)(_one(type_name, field_name))
        if type_name not in ROOT_TYPES:
            app.batch_resolver(type_name=type_name, field_name=field_name)(_batch(type_name, field_name))
    _routed.append(True)


def _route(event: dict[str, Any] | list[dict[str, Any]], context: Any) -> Any:
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    if isinstance(event, list) and not event:
        return []  # an empty batch: nothing to route
    _register_routes()
    return app.resolve(event, context)


_traced: list[Callable[[Any, Any], Any]] = []


def _traced_route() -> Callable[[Any, Any], Any]:
    """The router under Powertools' Tracer, made on the first event: the X-Ray SDK takes about
    0.4 s to import, which the module's import (the cold start before any event) does not pay."""
    if not _traced:
        from aws_lambda_powertools import Tracer

        _traced.append(Tracer(service=SERVICE).capture_lambda_handler(_route))
    return _traced[0]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.APPSYNC_RESOLVER)
@metrics.log_metrics
def handler(event: dict[str, Any] | list[dict[str, Any]], context: Any) -> Any:
    return _traced_route()(event, context)
