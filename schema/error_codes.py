"""``extensions.code`` on top-level errors, so that clients can tell a retry from a mistake."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from planning.errors import DomainError
from planning.model.limits import clipped
from resolvers.errors import BadRequest, Unavailable

#: A document that breaks a bound of its shape: too many fields, fragments, directives or
#: repeats, a fragment cycle, too deep, or circular introspection (schema.limits).
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
#: A query whose requested cost (schema.cost) is above the limit; extensions say both.
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


def error_code(original: BaseException | None) -> str | None:
    """The code of an error a field raised on purpose; None for anything else."""
    if isinstance(original, DomainError):
        return original.code.value
    if isinstance(original, Unavailable):
        return "UNAVAILABLE"
    if isinstance(original, BadRequest):
        return "BAD_REQUEST"
    return None


class ErrorCodes(SchemaExtension):
    """A field that cannot answer says why: ``UNAVAILABLE`` (the graph is down or behind; retry),
    ``BAD_REQUEST`` (a malformed argument), or a domain code such as ``CYCLE``.

    Every message is held to the echo bound (``planning.model.limits.clipped``): GraphQL's own
    messages quote the names and values sent, which may be as long as the request."""

    def on_operation(self) -> Iterator[None]:
        yield
        for error in getattr(self.execution_context.result, "errors", None) or ():
            error.message = clipped(error.message)
            code = error_code(error.original_error)
            if code is not None:
                error.extensions = {**(error.extensions or {}), "code": code}
