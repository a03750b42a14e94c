"""Who calls, from AppSync's ``identity``: the same Principal as the local server makes.

- Cognito user pools: the token's claims, through ``principal_from_claims`` (the one mapping of
  claims the local server uses too): ``cognito:username`` (else ``username``) and
  ``cognito:groups``, which AppSync also gives as ``username`` and ``groups``.
- IAM: the caller's ARN as its user id, with no groups: a backend role reads only the plans it
  is a member of, like any user.
- No identity (API key, or none): anonymous, which may read and change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planning.principal import ANONYMOUS, Principal


def principal_of(identity: Mapping[str, Any] | None) -> Principal:
    if not identity:
        return ANONYMOUS
    if "sub" in identity or "claims" in identity:
        from adapters.identity.tokens import principal_from_claims  # PyJWT and settings: on first use

        claims = dict(identity.get("claims") or {})
        claims.setdefault("cognito:username", identity.get("username"))
        if "cognito:groups" not in claims and identity.get("groups") is not None:
            claims["cognito:groups"] = identity["groups"]
        return principal_from_claims(claims)
    arn = identity.get("userArn")
    if isinstance(arn, str) and arn:
        return Principal(arn, frozenset())
    return ANONYMOUS
