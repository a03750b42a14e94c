"""GraphQL over HTTP's media types: which one an answer is written in, and its status.

``application/graphql-response+json`` is answered when the ``Accept`` header prefers it to
``application/json`` (a higher quality, or listed first at the same quality). Then a request
GraphQL could not run (a document that does not parse or validate, variables that do not fit,
a document over the limits: every error without a path, and no data) is answered HTTP 400
without a ``data`` key. ``application/json`` stays the answer for clients that ask for it and
for those that state no preference (no ``Accept``, or ``*/*``): HTTP 200 and ``"data": null``,
as before.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import ExecutionResult

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def preferred_media_type(accept: str | None) -> str:
    """The media type of a GraphQL answer for a request's ``Accept`` header."""
    if not accept:
        return JSON
    best: dict[str, tuple[float, int]] = {}
    for index, item in enumerate(accept.split(",")):
        media, *params = item.split(";")
        media = media.strip().lower()
        if media in (JSON, GRAPHQL_RESPONSE_JSON) and media not in best:
            best[media] = (_quality(params), -index)
    graphql_response = best.get(GRAPHQL_RESPONSE_JSON)
    if graphql_response is None or graphql_response[0] == 0:
        return JSON
    json = best.get(JSON)
    return GRAPHQL_RESPONSE_JSON if json is None or graphql_response > json else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Whether GraphQL refused the request before executing it: no data, and no error has a
    path (an error a field raised has one)."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)


def shaped(answer: dict[str, Any], result: ExecutionResult, media_type: str) -> dict[str, Any]:
    """The answer's body in ``media_type``: a request error has no ``data`` key in the GraphQL
    response media type."""
    if media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
        return {key: value for key, value in answer.items() if key != "data"}
    return answer


def status_of(result: ExecutionResult, media_type: str) -> int:
    return 400 if media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result) else 200
