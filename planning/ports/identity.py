"""Who is calling: the one rule every transport (HTTP, live subscriptions, AppSync) asks.

A transport hands over what the caller sent — the ``Authorization`` value and, for a development
server that trusts them, identity headers — and gets a Principal back, or ``Unauthenticated``
when the credentials were sent but do not hold (or are required and missing). A caller who sent
nothing, where that is allowed, is ``planning.principal.ANONYMOUS``: a member of nothing, in no
group, who may see and change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from planning.principal import Principal


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a caller sent: an HTTP request's headers, or a websocket ``connection_init`` payload.

    ``authorization`` is the ``Authorization`` value as sent: a bare token (as AppSync's Cognito
    mode takes it) or ``Bearer <token>``. ``headers`` are the other values, names lower-cased.
    """

    authorization: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Credentials:
        """From request headers or a ``connection_init`` payload: names are matched case-blind and
        values that are not strings are ignored."""
        lowered = {str(k).lower(): v for k, v in values.items() if isinstance(v, str)}
        authorization = lowered.pop("authorization", None)
        return cls(authorization=authorization, headers=lowered)


class Unauthenticated(Exception):
    """The credentials do not hold (or none were sent where they are required): HTTP 401.

    ``message`` says why in a few words and never repeats what was sent.
    """

    def __init__(self, message: str, *, invalid_token: bool = False) -> None:
        super().__init__(message)
        self.message = message
        #: A token was sent and refused (RFC 6750 ``error="invalid_token"``), rather than missing.
        self.invalid_token = invalid_token


class IdentitySource(Protocol):
    """Turns a caller's credentials into a Principal; raises ``Unauthenticated``."""

    def principal(self, credentials: Credentials) -> Principal: ...
