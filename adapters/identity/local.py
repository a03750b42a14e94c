"""The development issuer: a key pair kept with the local data, signing Cognito-shaped tokens.

``planner token issue`` signs with it; a development server (same data folder) trusts it and
serves its public half at ``/.well-known/jwks.json``. A production server never trusts it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm

from adapters.identity.tokens import MAX_USER_CHARS, TokenPolicy, TokenVerifier, subject_for

LOCAL_ISSUER = "urn:planner:local"
#: The local "app client": what ``aud`` says in a local token.
LOCAL_CLIENT_ID = "planner-local"
KEY_FILE = "token-signing-key.pem"
ALGORITHM = "RS256"
DEFAULT_TTL_S = 8 * 3600
MAX_TTL_S = 30 * 24 * 3600
_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """``90``, ``45s``, ``30m``, ``8h`` or ``2d``: seconds, 1 s to 30 days."""
    match = _TTL.match(text)
    if not match:
        raise ValueError(f"--ttl takes a number with s, m, h or d (such as 8h), not {text[:30]!r}")
    seconds = int(match[1]) * _UNITS[match[2].lower()]
    if not 1 <= seconds <= MAX_TTL_S:
        raise ValueError("--ttl must be between 1 second and 30 days")
    return seconds


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: the key's id is the SHA-256 of its required members, so it names the key itself."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class LocalSigner:
    """An RSA key pair in ``<folder>/token-signing-key.pem`` (mode 0600), made on first use.

    Two processes that make it at once agree: each writes its own file and links it into place,
    and the one that finds the place taken reads the winner's.
    """

    def __init__(self, folder: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = folder / KEY_FILE
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded: tuple[float, Any, dict[str, Any]] | None = None  # (mtime, private key, public JWK)

    def issue(self, user: str, groups: Iterable[str], ttl_s: int = DEFAULT_TTL_S) -> str:
        """A token shaped like a Cognito ID token for ``user`` in ``groups``, valid for ``ttl_s``."""
        user = user.strip()
        if not user or len(user) > MAX_USER_CHARS:
            raise ValueError(f"the user name must be 1 to {MAX_USER_CHARS} characters")
        if not 1 <= ttl_s <= MAX_TTL_S:
            raise ValueError("the lifetime must be between 1 second and 30 days")
        private, public = self._key(create=True)
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": LOCAL_ISSUER,
            "aud": LOCAL_CLIENT_ID,
            "token_use": "id",
            "sub": subject_for(user),
            "cognito:username": user,
            "cognito:groups": sorted({g.strip().lower() for g in groups if g.strip()}),
            "iat": now,
            "auth_time": now,
            "exp": now + ttl_s,
            "jti": str(uuid.uuid4()),
        }
        if "@" in user:
            claims["email"] = user
        return jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": public["kid"]})

    def jwks(self) -> dict[str, Any]:
        """The public key set (making the key pair if there is none yet)."""
        _private, public = self._key(create=True)
        return {"keys": [public]}

    def public_key(self, kid: str) -> PyJWK | None:
        """The public key named ``kid``, reading the key file again if it changed; never makes one."""
        try:
            _private, public = self._key(create=False)
        except FileNotFoundError:
            return None
        return PyJWK(public) if public["kid"] == kid else None

    def _key(self, *, create: bool) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                if not create:
                    raise
                self._create()
                mtime = self.path.stat().st_mtime
            if self._loaded is None or self._loaded[0] != mtime:
                private = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
                if not isinstance(private, rsa.RSAPrivateKey):
                    raise ValueError(f"{self.path} does not hold an RSA private key")
                public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
                public.update(kid=_thumbprint(public), alg=ALGORITHM, use="sig")
                self._loaded = (mtime, private, public)
            return self._loaded[1], self._loaded[2]

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        draft = self.path.with_name(f".{KEY_FILE}.{uuid.uuid4().hex}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(draft, self.path)
        finally:
            draft.unlink(missing_ok=True)


class LocalKeys:
    """The local signer's public key as a ``KeySource`` (the server never makes the key pair)."""

    def __init__(self, signer: LocalSigner) -> None:
        self._signer = signer
        self._known: PyJWK | None = None

    def cached(self, kid: str) -> PyJWK | None:
        known = self._known
        return known if known is not None and known.key_id == kid else None

    def fetch(self, kid: str) -> PyJWK | None:
        key = self._signer.public_key(kid)
        if key is not None:
            self._known = key
        return key


def local_verifier(signer: LocalSigner) -> TokenVerifier:
    """Development's verifier of local tokens: the same checks as for Cognito's."""
    policy = TokenPolicy(
        issuer=LOCAL_ISSUER,
        audience=frozenset({LOCAL_CLIENT_ID}),
        token_use=frozenset({"id", "access"}),
    )
    return TokenVerifier(policy, LocalKeys(signer))
