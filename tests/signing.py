"""A test token issuer: an RSA key pair whose JWKS a verifier is configured with, and Cognito-shaped
ID and access tokens signed by it (or by a stranger's key, or with claims made wrong on purpose)."""

from __future__ import annotations

import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

REGION = "eu-west-1"
POOL_ID = "eu-west-1_TestPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
CLIENT_ID = "test-app-client"


@cache
def private_key(name: str) -> rsa.RSAPrivateKey:
    """One key per name for the whole session (RSA keys take a moment to make)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestIssuer:
    """Signs tokens with the key ``name``; ``jwks()`` is the key set a verifier should trust."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, name: str = "pool", *, issuer: str = ISSUER, client_id: str = CLIENT_ID) -> None:
        self.key = private_key(name)
        self.kid = f"{name}-key"
        self.issuer = issuer
        self.client_id = client_id

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return path

    def id_claims(self, user: str = "alice", groups: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid4()),
            "aud": self.client_id,
            "email_verified": True,
            "token_use": "id",
            "auth_time": now,
            "iss": self.issuer,
            "cognito:username": user,
            "cognito:groups": groups if groups is not None else ["planner"],
            "exp": now + 3600,
            "iat": now,
            "email": f"{user}@example.com",
        }
        return {**claims, **extra}

    def access_claims(self, user: str = "alice", groups: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid4()),
            "cognito:groups": groups if groups is not None else ["planner"],
            "iss": self.issuer,
            "client_id": self.client_id,
            "origin_jti": str(uuid.uuid4()),
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": user,
        }
        return {**claims, **extra}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, algorithm: str = "RS256") -> str:
        return jwt.encode(claims, self.key, algorithm=algorithm, headers={"kid": kid or self.kid})

    def id_token(self, user: str = "alice", groups: list[str] | None = None, **extra: Any) -> str:
        return self.sign(self.id_claims(user, groups, **extra))

    def access_token(self, user: str = "alice", groups: list[str] | None = None, **extra: Any) -> str:
        return self.sign(self.access_claims(user, groups, **extra))


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """An ``alg: none`` token: claims anyone could write."""
    return jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
