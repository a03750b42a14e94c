"""AppSync, emulated: graphql-core executes an operation over ``schema/appsync.graphql`` the way
AppSync does with our resolvers.

- A field with a Lambda resolver in the template (``planner_infra.resolver_fields``, which the CDK
  app synthesizes from) invokes the handler with an AppSync-shaped event made from the saved
  events under ``tests/events/``: root fields one ``Invoke`` each; nested fields one
  ``BatchInvoke`` per field and level, holding every parent's event (``source`` being the JSON
  the handler answered for that parent), as a ``MaxBatchSize`` template batches them.
- Every other field is read from its parent's JSON, as AppSync does.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import GraphQLResolveInfo, build_schema, graphql, parse
from graphql.pyutils import Path as ResponsePath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "infra" / "cdk"))

from planner_infra.resolver_fields import plan_resolvers_from_file  # noqa: E402

from tests.lambda_context import LambdaContext, saved_event  # noqa: E402

#: What AppSync declares itself, which the schema file therefore leaves out.
APPSYNC_BUILTINS = ROOT / "tests" / "fixtures" / "appsync_builtins.graphql"

Handler = Callable[[Any, Any], Any]


def with_identity(event: dict[str, Any], identity: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["identity"] = copy.deepcopy(identity)
    return event


def field_event(
    identity: dict[str, Any], key: tuple[str, str], source: Any, arguments: dict[str, Any], selection: list[str]
) -> dict[str, Any]:
    """One field's event: the saved Cognito ``Query.plan`` event with this field's parts."""
    event = with_identity(saved_event("invoke_query_plan_cognito.json"), identity)
    event["arguments"] = arguments
    event["source"] = source
    event["info"] = {
        "selectionSetList": selection,
        "selectionSetGraphQL": "",
        "parentTypeName": key[0],
        "fieldName": key[1],
        "variables": {},
    }
    return event


def _selection(info: GraphQLResolveInfo) -> list[str]:
    """AppSync's ``selectionSetList``: the paths below the field (fragments inlined, one level of them)."""
    paths: list[str] = []

    def walk(selection_set: Any, prefix: str) -> None:
        for node in selection_set.selections if selection_set else ():
            if hasattr(node, "name") and node.kind == "field":
                path = f"{prefix}{node.name.value}"
                if node.name.value != "__typename":
                    paths.append(path)
                walk(node.selection_set, path + "/")
            elif node.kind == "inline_fragment":
                walk(node.selection_set, prefix)
            elif node.kind == "fragment_spread":
                walk(info.fragments[node.name.value].selection_set, prefix)

    for field_node in info.field_nodes:
        walk(field_node.selection_set, "")
    return paths


@dataclass
class AppSyncEmulator:
    handler: Handler
    identity: dict[str, Any]
    #: Every invocation, in order: ``(type, field, how many events)`` (1 for an Invoke).
    invocations: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        sdl = (ROOT / "schema" / "appsync.graphql").read_text(encoding="utf-8")
        self.schema = build_schema(APPSYNC_BUILTINS.read_text(encoding="utf-8") + sdl)
        resolvers = plan_resolvers_from_file(ROOT / "schema" / "appsync.graphql").lambda_fields
        self.batched = {(r.type_name, r.field_name) for r in resolvers if r.max_batch_size is not None}
        self.single = {(r.type_name, r.field_name) for r in resolvers if r.max_batch_size is None}

    def execute(self, document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Any:
        return asyncio.run(self._execute(document, variables, name))

    async def _execute(self, document: str, variables: dict[str, Any] | None, name: str | None) -> Any:
        pending: dict[tuple[Any, ...], list[tuple[dict[str, Any], asyncio.Future[Any]]]] = {}
        container = asyncio.Lock()  # one Lambda container answers one invocation at a time
        flushes: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

        def schedule(key: tuple[Any, ...]) -> None:
            task = asyncio.ensure_future(flush(key))
            flushes.add(task)
            task.add_done_callback(flushes.discard)

        async def invoke(event: Any) -> Any:
            async with container:
                return await asyncio.to_thread(self.handler, event, LambdaContext())

        async def flush(key: tuple[Any, ...]) -> None:
            batch = pending.pop(key)
            events = [event for event, _ in batch]
            self.invocations.append((key[0], key[1], len(events)))
            try:
                answers = await invoke(events)
                assert len(answers) == len(events), (key, len(answers), len(events))
            except Exception as exc:  # noqa: BLE001 - the batch's fields fail with it, as on AppSync
                for _, future in batch:
                    future.set_exception(exc)
                return
            for (_, future), answer in zip(batch, answers, strict=True):
                future.set_result(answer)

        def level(path: ResponsePath | None) -> tuple[Any, ...]:
            return tuple(k for k in (path.as_list() if path else []) if isinstance(k, str))

        async def resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            key = (info.parent_type.name, info.field_name)
            if key in self.single:
                event = field_event(self.identity, key, None, args, _selection(info))
                self.invocations.append((*key, 1))
                return await invoke(event)
            if key in self.batched:
                batch_key = (*key, level(info.path.prev), json.dumps(args, sort_keys=True))
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                if batch_key not in pending:
                    pending[batch_key] = []
                    asyncio.get_running_loop().call_soon(schedule, batch_key)
                pending[batch_key].append((field_event(self.identity, key, source, args, _selection(info)), future))
                return await future
            return source.get(info.field_name) if isinstance(source, dict) else None

        return await graphql(
            self.schema,
            document,
            variable_values=variables,
            operation_name=name,
            field_resolver=resolve,
        )


def operation_names(document: str) -> list[tuple[str, str]]:
    """``(kind, name)`` of each operation in a document."""
    return [
        (definition.operation.value, definition.name.value)
        for definition in parse(document).definitions
        if getattr(definition, "operation", None) is not None and definition.name is not None
    ]
