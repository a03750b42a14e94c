"""Bearer tokens verified against a JWKS: Cognito's, any OIDC issuer's, or the local signer's.

``TokenVerifier`` takes the ``Authorization`` value's token (see ``bearer_token``), never an HTTP
request, so that HTTP, websocket ``connection_init`` payloads and whatever comes next share it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient

from planning.ports.identity import Unauthenticated
from planning.principal import Principal

#: Asymmetric signatures only: never ``none``, never a shared secret (HS*).
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
#: A token's user id is the first of these claims it carries: Cognito ID tokens have
#: ``cognito:username``, Cognito access tokens ``username``, other OIDC issuers' tokens ``email``.
USER_CLAIMS = ("cognito:username", "username", "email")
MAX_TOKEN_CHARS = 16_384
MAX_USER_CHARS = 320
MAX_GROUPS = 100


class KeysUnavailable(Exception):
    """The issuer's signing keys could not be fetched: the server's trouble, not the caller's."""


class KeySource(Protocol):
    """Public signing keys by key id (``kid``)."""

    def cached(self, kid: str) -> PyJWK | None:
        """The key if it is known without I/O."""
        ...

    def fetch(self, kid: str) -> PyJWK | None:
        """Look again (a file, the network): the key, or None when the key set has no such key."""
        ...


def signing_keys(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    """The usable signing keys of a JWKS document, by kid: RSA and EC keys meant for signatures."""
    keys: dict[str, PyJWK] = {}
    raw = document.get("keys")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") not in {"RSA", "EC"}:
            continue
        if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        try:
            key = PyJWK(entry)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[entry["kid"]] = key
    return keys


class StaticKeys:
    """A JWKS held in memory, reloaded by ``load`` when asked for a key it does not know.

    ``StaticKeys.from_file`` reads a JWKS file (again whenever the file changes);
    ``StaticKeys.from_document`` holds a document given in-process.
    """

    def __init__(self, load: Callable[[], Mapping[str, Any] | None]) -> None:
        self._load = load
        self._keys: dict[str, PyJWK] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> StaticKeys:
        return cls(lambda: document)

    @classmethod
    def from_file(cls, path: Path) -> StaticKeys:
        seen: list[float] = []

        def load() -> Mapping[str, Any] | None:
            try:
                mtime = path.stat().st_mtime
                if seen and seen[0] == mtime:
                    return None  # unchanged: keep the keys we have
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise KeysUnavailable(f"the signing keys file {path} cannot be read: {exc}") from exc
            seen[:] = [mtime]
            return document if isinstance(document, dict) else {}

        return cls(load)

    def cached(self, kid: str) -> PyJWK | None:
        return self._keys.get(kid)

    def fetch(self, kid: str) -> PyJWK | None:
        with self._lock:
            document = self._load()
            if document is not None:
                self._keys = signing_keys(document)
            return self._keys.get(kid)


class RemoteKeys:
    """An issuer's JWKS over HTTPS, through PyJWT's ``PyJWKClient``: the set is cached for five
    minutes, and a key id it does not know fetches it again at most every 30 seconds."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, lifespan_s: float = 300.0) -> None:
        self._client = PyJWKClient(url, cache_jwk_set=True, lifespan=lifespan_s, timeout=timeout_s)

    def cached(self, kid: str) -> PyJWK | None:
        cache = self._client.jwk_set_cache
        jwk_set = cache.get() if cache is not None else None
        if jwk_set is None:
            return None
        for key in jwk_set.keys:
            if key.key_id == kid and key.algorithm_name in ALGORITHMS:
                return key
        return None

    def fetch(self, kid: str) -> PyJWK | None:
        try:
            key = self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(f"the issuer's signing keys could not be fetched: {exc}") from exc
        except jwt.PyJWTError:
            return None
        return key if key.algorithm_name in ALGORITHMS else None


def key_source(location: str) -> KeySource:
    """An ``https://`` (or ``http://``) JWKS URL, or a JWKS file (a path or ``file://`` URL)."""
    if location.startswith(("https://", "http://")):
        return RemoteKeys(location)
    return StaticKeys.from_file(Path(location.removeprefix("file://")))


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """What a token of one issuer must say.

    ``audience``: the accepted client ids, matched against ``aud`` (ID tokens) or ``client_id``
    (Cognito access tokens). ``token_use``: the accepted ``token_use`` claims (``id``,
    ``access``); empty for issuers that do not set it. ``leeway_s``: clock skew forgiven.
    """

    issuer: str
    audience: frozenset[str]
    token_use: frozenset[str] = frozenset()
    groups_claim: str = "cognito:groups"
    leeway_s: float = 0.0
    required: tuple[str, ...] = field(default=("exp", "iat", "iss"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` value: ``Bearer <token>`` or the bare token (as AppSync's
    Cognito mode takes it). None when the value is missing or blank."""
    if authorization is None or not authorization.strip():
        return None
    value = authorization.strip()
    scheme, space, rest = value.partition(" ")
    if space:
        if scheme.lower() != "bearer":
            raise Unauthenticated("only Bearer tokens are accepted in Authorization", invalid_token=True)
        value = rest.strip()
    if not value:
        raise Unauthenticated("the Authorization header names no token", invalid_token=True)
    if len(value) > MAX_TOKEN_CHARS:
        raise Unauthenticated("the token is too long", invalid_token=True)
    return value


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` a token claims, read without trusting it, to pick the verifier that decides."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated("the token is not a well-formed JWT", invalid_token=True) from None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


class TokenVerifier:
    """Verifies one issuer's tokens: signature by a key of its JWKS, issuer, expiry, token use and
    client id; then the Principal they name (``principal_from_claims``)."""

    def __init__(self, policy: TokenPolicy, keys: KeySource) -> None:
        self.policy = policy
        self._keys = keys

    @property
    def issuer(self) -> str:
        return self.policy.issuer

    def verify(self, token: str) -> Principal:
        """Verify in the calling thread; fetching unknown keys may block on I/O."""
        return principal_from_claims(self.claims(token), groups_claim=self.policy.groups_claim)

    async def verify_async(self, token: str) -> Principal:
        """Verify on the event loop; only fetching an unknown key goes to a thread."""
        kid = self._kid(token)
        key = self._keys.cached(kid)
        if key is None:
            key = await asyncio.to_thread(self._keys.fetch, kid)
        return principal_from_claims(self._decode(token, key), groups_claim=self.policy.groups_claim)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims (``verify`` without making a Principal)."""
        kid = self._kid(token)
        key = self._keys.cached(kid)
        if key is None:
            key = self._keys.fetch(kid)
        return self._decode(token, key)

    @staticmethod
    def _kid(token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not a well-formed JWT", invalid_token=True) from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated(
                f"the token's algorithm is not accepted (use one of {', '.join(ALGORITHMS)})", invalid_token=True
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no signing key (kid)", invalid_token=True)
        return kid

    def _decode(self, token: str, key: PyJWK | None) -> dict[str, Any]:
        policy = self.policy
        if key is None:
            raise Unauthenticated("the token was not signed by a key of its issuer", invalid_token=True)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=policy.issuer,
                leeway=policy.leeway_s,
                options={"require": list(policy.required), "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", invalid_token=True) from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet", invalid_token=True) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token's issuer is not trusted", invalid_token=True) from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify", invalid_token=True) from None
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated("the token's algorithm does not match its key", invalid_token=True) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the token has no {exc.claim} claim", invalid_token=True) from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid", invalid_token=True) from None
        use = claims.get("token_use")
        if policy.token_use and use not in policy.token_use:
            raise Unauthenticated(
                f"a token of use {str(use)[:20]!r} is not accepted (use {' or '.join(sorted(policy.token_use))})",
                invalid_token=True,
            )
        if not _audiences(claims, use) & policy.audience:
            raise Unauthenticated("the token was issued to another client", invalid_token=True)
        return claims


def _audiences(claims: Mapping[str, Any], use: object) -> set[str]:
    """The client ids a token is for: Cognito access tokens name it in ``client_id`` (they have
    no ``aud``); ID tokens and other issuers' tokens in ``aud`` (a string or a list)."""
    if use == "access":
        client = claims.get("client_id")
        return {client} if isinstance(client, str) else set()
    aud = claims.get("aud")
    if isinstance(aud, str):
        return {aud}
    if isinstance(aud, list):
        return {a for a in aud if isinstance(a, str)}
    return set()


def principal_from_claims(claims: Mapping[str, Any], *, groups_claim: str = "cognito:groups") -> Principal:
    """The one mapping of verified claims to a Principal (the AppSync handler's claims too).

    The user id is the first of ``USER_CLAIMS`` present: ``cognito:username`` (ID tokens),
    ``username`` (access tokens), ``email`` (other OIDC issuers). Groups are ``groups_claim``
    (Cognito's ``cognito:groups``), lower-cased; a token without it has no groups.
    """
    user = next((v.strip() for c in USER_CLAIMS if isinstance(v := claims.get(c), str) and v.strip()), None)
    if user is None:
        raise Unauthenticated(f"the token names no user (one of {', '.join(USER_CLAIMS)})", invalid_token=True)
    if len(user) > MAX_USER_CHARS:
        raise Unauthenticated(f"the token's user name is over {MAX_USER_CHARS} characters", invalid_token=True)
    raw = claims.get(groups_claim)
    names: Iterable[object] = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    groups = frozenset(g.strip().lower() for g in names if isinstance(g, str) and g.strip())
    if len(groups) > MAX_GROUPS:
        raise Unauthenticated(f"the token names over {MAX_GROUPS} groups", invalid_token=True)
    return Principal(user, groups)


def subject_for(user: str) -> str:
    """A stable ``sub`` for a local user name (Cognito's are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"planner-local:{user}"))
