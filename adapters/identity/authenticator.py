"""The order in which a caller is recognised, for every transport.

1. A bearer token (``Authorization``) is verified by the verifier of the issuer it names; a
   valid one decides, an invalid one is refused (never silently anonymous).
2. Production: no token, no entry (``Unauthenticated``: HTTP 401). Headers are never read.
3. Development, where ``PLANNER_IDENTITY_HEADERS`` allows: ``X-Planner-User``/``-Groups``.
4. Development: nobody — ``ANONYMOUS``, who may see and change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.identity.headers import header_principal
from adapters.identity.tokens import TokenVerifier, bearer_token, unverified_issuer
from planning.ports.identity import Credentials, Unauthenticated
from planning.principal import ANONYMOUS, Principal


class Authenticator:
    """The server's ``IdentitySource``: ``principal`` (blocking) and ``authenticate`` (async)."""

    def __init__(self, verifiers: Sequence[TokenVerifier], *, require_token: bool, trust_headers: bool) -> None:
        self.verifiers = tuple(verifiers)
        self.require_token = require_token
        self.trust_headers = trust_headers and not require_token

    def principal(self, credentials: Credentials) -> Principal:
        token = bearer_token(credentials.authorization)
        if token is not None:
            return self._verifier(token).verify(token)
        return self._without_token(credentials)

    async def authenticate(self, credentials: Credentials) -> Principal:
        """As ``principal``, on the event loop: only fetching an issuer's unknown key blocks, in a thread."""
        token = bearer_token(credentials.authorization)
        if token is not None:
            return await self._verifier(token).verify_async(token)
        return self._without_token(credentials)

    def _verifier(self, token: str) -> TokenVerifier:
        issuer = unverified_issuer(token)
        for verifier in self.verifiers:
            if verifier.issuer == issuer:
                return verifier
        raise Unauthenticated("the token's issuer is not trusted", invalid_token=True)

    def _without_token(self, credentials: Credentials) -> Principal:
        if self.require_token:
            raise Unauthenticated("a bearer token is required: send Authorization: Bearer <token>")
        if self.trust_headers:
            named = header_principal(credentials.headers)
            if named is not None:
                return named
        return ANONYMOUS
