from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from planning.principal import Principal


class IdentitySource(Protocol):
    """Turns what a transport knows of the caller into a Principal.

    Locally that is request headers; on AppSync it will be the event's Cognito or IAM identity.
    """

    def principal(self, claims: Mapping[str, str]) -> Principal: ...
