"""The HTTP edge: what a request may be before any GraphQL work starts.

* ``InFlightLimit`` (counting in a ``Load``): at most N requests are handled at once by a
  process; the next one is answered 503 with ``Retry-After`` at once instead of queueing (health
  and readiness routes are exempt, so probes answer under load).
* ``BodyLimit``: a request body is counted as it streams in and answered 413 as soon as it
  passes the limit (a declared ``Content-Length`` past it is refused before a byte is read);
  nothing more is read or kept.
* ``StrictJsonView``: the GraphQL view's JSON decoding. The body must be UTF-8, JSON, an object
  (or an array, which is refused as a batch), without NaN or Infinity, nested at most
  ``MAX_JSON_DEPTH`` deep; anything else is 400 with a short message. The view's own refusals
  (a wrong content type, a GET mutation, ...) get the same JSON shape.
* ``ExecutionLoop`` and ``favour_the_event_loop``: GraphQL work off the server's event loop, and
  no long garbage-collector pauses, so that refusals and probes answer at once under load.

Every refusal here answers ``{"errors": [{"message": ..., "extensions": {"code": ...}}]}`` and
quotes at most ``ECHO_LIMIT`` characters of what was sent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
import json
import sys
import threading
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

#: How deep a request body's JSON may nest (objects and arrays). Variables of this schema nest a
#: handful of levels; AWSJSON values travel as strings and have their own bound.
MAX_JSON_DEPTH = 64
#: How many characters of what a caller sent an error message may quote.
ECHO_LIMIT = 100
#: What a refused caller is told to wait before trying again, in seconds.
RETRY_AFTER_S = 1

CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    503: "UNAVAILABLE",
}


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """At most ``limit`` characters of ``text``, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(error_body(message, CODES.get(status, "BAD_REQUEST")), status_code=status, headers=headers)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str, **headers: str) -> None:
    await refusal(status, message, {k.replace("_", "-"): v for k, v in headers.items()})(scope, receive, send)


class Load:
    """How many requests a process handles now, its bound, and how many it has refused."""

    def __init__(self, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.refused = 0

    def as_json(self) -> dict[str, int]:
        return {"inFlight": self.in_flight, "maxInFlight": self.max_in_flight, "refused": self.refused}


class InFlightLimit:
    """Answers 503 with ``Retry-After`` when ``load.max_in_flight`` requests are being handled.

    The count lives on the event loop (no lock: nothing awaits between the test and the
    increment). ``exempt`` paths (health, readiness) are neither counted nor refused, nor are
    paths under ``exempt_prefixes`` (files served as they are, such as GraphiQL's scripts, which
    a browser fetches several at once).
    """

    def __init__(
        self,
        app: ASGIApp,
        load: Load,
        *,
        exempt: Iterable[str] = ("/healthz", "/readyz"),
        exempt_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.load = load
        self.exempt = frozenset(exempt)
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        load = self.load
        if load.in_flight >= load.max_in_flight:
            load.refused += 1
            await _refuse(
                scope,
                receive,
                send,
                503,
                f"the server is busy ({load.max_in_flight} requests in progress); retry after {RETRY_AFTER_S} s",
                retry_after=str(RETRY_AFTER_S),
            )
            return
        load.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            load.in_flight -= 1


class BodyLimit:
    """Reads a request body up to ``max_bytes`` and hands it on whole; 413 past it.

    The body is read here (at most ``max_bytes`` kept) so that a refusal can be answered before
    the application has started: the application then reads it from memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                await _refuse(scope, receive, send, 400, f"Content-Length is not a number: {clip(text, 20)!r}")
                return
            if len(text) > 18 or int(text) > self.max_bytes:
                await _refuse(scope, receive, send, 413, self._too_large())
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the caller left; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(scope, receive, send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class JsonRefused(ValueError):
    """A request's JSON that is not accepted; the message is short and quotes little."""


def decode_json(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Strict JSON: UTF-8 (a leading byte-order mark is allowed), no NaN or Infinity, integers of
    at most 4,300 digits, nested at most ``max_depth`` deep. Raises ``JsonRefused``."""
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start]
            raise JsonRefused(f"the request is not valid UTF-8 (byte {byte:#04x} at offset {exc.start})") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"the request is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise JsonRefused(f"the request's JSON is nested deeper than {max_depth} levels") from None
    except JsonRefused:
        raise
    except ValueError:  # Python's limit on the digits of an integer
        digits = sys.get_int_max_str_digits()
        raise JsonRefused(f"the request's JSON has a number of more than {digits} digits") from None
    if _deeper_than(value, max_depth):
        raise JsonRefused(f"the request's JSON is nested deeper than {max_depth} levels")
    return value


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"the request is not valid JSON: {name} is not a JSON number")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` deep; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def favour_the_event_loop() -> None:
    """For a server process, once its application is built: the event loop answers under load.

    What exists now (modules, the schema, the wiring: hundreds of thousands of objects that live
    as long as the process) leaves the garbage collector's view (``gc.freeze``). A full
    collection walked all of it: `make load` saw pauses of about 140 ms, every thread of the
    process stopped, some 40 a minute under load; now they walk only what requests made.

    (A GIL switch interval of 1 ms instead of 5 was tried too: the probes got faster still, but a
    server's graph then fell behind an import beside it for more than its 5 s wait, as
    tests/e2e/test_graph_truth_across_processes.py shows. It is not set.)
    """
    gc.collect()
    gc.freeze()


class ExecutionLoop:
    """An event loop on a thread of its own, where GraphQL requests are handled.

    The server's own loop then only accepts connections, reads bodies, refuses what the edge
    refuses and answers the probes: however much Python a document's execution runs between
    its awaits (completing thousands of fields, encoding a large answer), ``/healthz`` waits at
    most a GIL switch interval, not for the document. Requests keep their context variables
    (the request id of the logs). The loop starts on first use; ``close`` stops it (and so does
    its owner's garbage collection, see ``PlannerGraphQL``).
    """

    def __init__(self, name: str = "graphql") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=self._serve, args=(loop,), name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Runs ``coroutine`` on the execution loop and answers its result (or raises its error);
        cancelling the caller cancels it."""
        loop = self._started()
        context = contextvars.copy_context()
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = loop.create_task(coroutine, context=context)

            def finished(done: asyncio.Task[T]) -> None:
                if done.cancelled():
                    outcome.cancel()
                    return
                if not outcome.set_running_or_notify_cancel():
                    return
                if (error := done.exception()) is not None:
                    outcome.set_exception(error)
                else:
                    outcome.set_result(done.result())

            task.add_done_callback(finished)
            outcome.add_done_callback(lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None)

        loop.call_soon_threadsafe(start)
        return await asyncio.wrap_future(outcome)

    def close(self, *, wait: bool = True) -> None:
        """Cancels what runs there, lets the loop's worker threads finish, and stops it."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return

        async def stop() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            await loop.shutdown_default_executor()
            loop.stop()

        try:
            asyncio.run_coroutine_threadsafe(stop(), loop)
        except RuntimeError:  # closed meanwhile
            return
        if wait and threading.current_thread() is not thread:
            thread.join(10)


class StrictJsonView:
    """Mixed into the Strawberry ASGI view (before it): strict JSON and JSON refusals, and
    requests handled on ``execution`` (an ``ExecutionLoop``) when the view has one."""

    execution: ExecutionLoop | None = None

    def decode_json(self, data: str | bytes) -> object:
        """A request body: strict JSON, and an object or an array (a batch)."""
        value = _decoded(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, "the request body must be a JSON object with a `query`")
        return value

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """GET ``variables`` and ``extensions``: strict JSON (the view checks they are objects)."""
        parsed = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = _decoded(parsed[name])
        return parsed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # type: ignore[misc]
            return
        try:
            handled = self.run(Request(scope=scope, receive=receive))  # type: ignore[attr-defined]
            response = await (handled if self.execution is None else self.execution.run(handled))
        except HTTPException as exc:
            response = refusal(exc.status_code, clip(exc.reason))
        await response(scope, receive, send)


def _decoded(data: str | bytes) -> Any:
    try:
        return decode_json(data)
    except JsonRefused as exc:
        raise HTTPException(400, str(exc)) from None
