"""Bearer token verification: what a token must say, whom it names, and the order of the rules."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.server
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapters.identity import Authenticator, KeysUnavailable, TokenPolicy, TokenVerifier, principal_from_claims
from adapters.identity.local import LOCAL_CLIENT_ID, LOCAL_ISSUER, LocalSigner, local_verifier, parse_ttl
from adapters.identity.tokens import RemoteKeys, StaticKeys, bearer_token
from planning.ports.identity import Credentials, Unauthenticated
from planning.principal import ANONYMOUS, Principal
from tests.signing import CLIENT_ID, ISSUER, TestIssuer, unsigned

POOL = TestIssuer()
COGNITO = TokenPolicy(issuer=ISSUER, audience=frozenset({CLIENT_ID}), token_use=frozenset({"id", "access"}))


def verifier(policy: TokenPolicy = COGNITO, issuer: TestIssuer = POOL) -> TokenVerifier:
    return TokenVerifier(policy, StaticKeys.from_document(issuer.jwks()))


def refused(token: str, match: str, *, using: TokenVerifier | None = None) -> Unauthenticated:
    with pytest.raises(Unauthenticated, match=match) as caught:
        (using or verifier()).verify(token)
    assert caught.value.invalid_token
    return caught.value


def test_a_cognito_id_token_names_its_username_and_groups() -> None:
    token = POOL.id_token("alice", ["planner", "Viewer"])
    assert verifier().verify(token) == Principal("alice", frozenset({"planner", "viewer"}))


def test_a_cognito_access_token_names_its_username_and_is_for_its_client_id() -> None:
    token = POOL.access_token("bob", ["admin"])
    assert verifier().verify(token) == Principal("bob", frozenset({"admin"}))


def test_a_token_without_groups_is_in_no_group() -> None:
    claims = POOL.id_claims("carol")
    del claims["cognito:groups"]
    principal = verifier().verify(POOL.sign(claims))
    assert principal == Principal("carol", frozenset())
    assert not principal.can_write


def test_the_user_id_is_the_cognito_username_then_username_then_email() -> None:
    assert principal_from_claims({"cognito:username": "u1", "username": "u2", "email": "e@x"}).user_id == "u1"
    assert principal_from_claims({"username": "u2", "email": "e@x"}).user_id == "u2"
    assert principal_from_claims({"email": "e@x", "sub": "s"}).user_id == "e@x"
    with pytest.raises(Unauthenticated, match="names no user"):
        principal_from_claims({"sub": "only-a-subject"})
    with pytest.raises(Unauthenticated, match="over 320"):
        principal_from_claims({"username": "x" * 321})


def test_another_oidc_issuer_with_its_own_groups_claim() -> None:
    other = TestIssuer("oidc", issuer="https://login.example.com", client_id="web")
    policy = TokenPolicy(issuer=other.issuer, audience=frozenset({"web"}), groups_claim="groups")
    claims = {"iss": other.issuer, "aud": ["web", "api"], "email": "dana@example.com", "groups": ["planner"]}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}
    assert verifier(policy, other).verify(other.sign(claims)) == Principal("dana@example.com", frozenset({"planner"}))


def test_a_wrong_signature_is_refused() -> None:
    forger = TestIssuer("forger")
    refused(forger.sign(POOL.id_claims(), kid=POOL.kid), "signature does not verify")


def test_a_key_the_issuer_does_not_publish_is_refused() -> None:
    refused(TestIssuer("forger").id_token(), "not signed by a key of its issuer")


def test_a_wrong_issuer_is_refused() -> None:
    refused(POOL.id_token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), "issuer is not trusted")


def test_a_token_for_another_client_is_refused() -> None:
    refused(POOL.id_token(aud="someone-elses-client"), "another client")
    refused(POOL.access_token(client_id="someone-elses-client"), "another client")
    # An access token names its client in client_id: an aud claim does not stand in for it.
    claims = POOL.access_claims()
    del claims["client_id"]
    refused(POOL.sign({**claims, "aud": CLIENT_ID}), "another client")


def test_an_expired_token_is_refused() -> None:
    now = int(time.time())
    refused(POOL.id_token(iat=now - 7200, exp=now - 3600), "expired")


def test_a_token_not_valid_yet_is_refused() -> None:
    refused(POOL.id_token(nbf=int(time.time()) + 3600), "not valid yet")


def test_a_token_of_another_use_is_refused() -> None:
    refused(POOL.id_token(token_use="refresh"), "use 'refresh' is not accepted")
    claims = POOL.id_claims()
    del claims["token_use"]
    refused(POOL.sign(claims), "use 'None' is not accepted")
    only_id = TokenPolicy(issuer=ISSUER, audience=frozenset({CLIENT_ID}), token_use=frozenset({"id"}))
    refused(POOL.access_token(), "use 'access' is not accepted", using=verifier(only_id))


def test_required_claims_are_required() -> None:
    for claim in ("exp", "iat", "iss"):
        claims = POOL.id_claims()
        del claims[claim]
        refused(POOL.sign(claims), f"no {claim} claim")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_unsigned_and_symmetric_tokens_are_refused() -> None:
    refused(unsigned(POOL.id_claims(), POOL.kid), "algorithm is not accepted")
    # The classic confusion: HS256 with the issuer's public key (which anyone has) as the secret.
    public_pem = POOL.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = ".".join(
        _b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "kid": POOL.kid}, POOL.id_claims())
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    refused(f"{signing_input}.{_b64(signature)}", "algorithm is not accepted")
    hs = jwt.encode(
        POOL.id_claims(), "a shared secret that is long enough for HS256", algorithm="HS256", headers={"kid": POOL.kid}
    )
    refused(hs, "algorithm is not accepted")


def test_a_token_without_a_key_id_or_not_a_jwt_is_refused() -> None:
    no_kid = jwt.encode(POOL.id_claims(), POOL.key, algorithm="RS256")
    refused(no_kid, "names no signing key")
    refused("not.a.jwt", "not a well-formed JWT")


def test_the_authorization_value_is_a_bearer_token_or_a_bare_token() -> None:
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer   abc.def.ghi ") == "abc.def.ghi"
    assert bearer_token("abc.def.ghi") == "abc.def.ghi"
    assert bearer_token(None) is None
    assert bearer_token("  ") is None
    with pytest.raises(Unauthenticated, match="only Bearer"):
        bearer_token("Basic dXNlcjpwYXNz")
    with pytest.raises(Unauthenticated, match="too long"):
        bearer_token("Bearer " + "a" * 20_000)


class TestTheOrderOfTheRules:
    """Development: a token, else trusted headers, else anonymous. Production: a token, else 401."""

    def development(self, *, trust_headers: bool = True) -> Authenticator:
        return Authenticator([verifier()], require_token=False, trust_headers=trust_headers)

    def test_a_valid_token_wins_over_headers(self) -> None:
        credentials = Credentials.from_mapping(
            {
                "Authorization": f"Bearer {POOL.id_token('alice', ['viewer'])}",
                "X-Planner-User": "eve",
                "X-Planner-Groups": "admin",
            }
        )
        assert self.development().principal(credentials) == Principal("alice", frozenset({"viewer"}))

    def test_an_invalid_token_is_refused_never_anonymous(self) -> None:
        expired = POOL.id_token(exp=int(time.time()) - 3600)
        credentials = Credentials.from_mapping({"authorization": expired, "x-planner-user": "eve"})
        with pytest.raises(Unauthenticated, match="expired"):
            self.development().principal(credentials)

    def test_a_token_of_an_issuer_nobody_trusts_is_refused(self) -> None:
        stranger = TestIssuer("stranger", issuer="https://elsewhere.example.com")
        with pytest.raises(Unauthenticated, match="issuer is not trusted"):
            self.development().principal(Credentials(authorization=stranger.id_token()))

    def test_headers_name_the_caller_in_development_with_no_groups_unless_given(self) -> None:
        dev = self.development()
        assert dev.principal(Credentials(headers={"x-planner-user": "pat", "x-planner-groups": "Planner, viewer"})) == (
            Principal("pat", frozenset({"planner", "viewer"}))
        )
        assert dev.principal(Credentials(headers={"x-planner-user": "pat"})) == Principal("pat", frozenset())
        with pytest.raises(Unauthenticated, match="needs x-planner-user"):
            dev.principal(Credentials(headers={"x-planner-groups": "admin"}))

    def test_nobody_is_anonymous_in_development(self) -> None:
        assert self.development().principal(Credentials()) is ANONYMOUS
        assert not ANONYMOUS.can_write
        untrusted = self.development(trust_headers=False)
        assert untrusted.principal(Credentials(headers={"x-planner-user": "eve", "x-planner-groups": "admin"})) is (
            ANONYMOUS
        )

    def test_production_requires_a_token_and_never_reads_headers(self) -> None:
        production = Authenticator([verifier()], require_token=True, trust_headers=True)
        assert not production.trust_headers
        with pytest.raises(Unauthenticated, match="bearer token is required") as caught:
            production.principal(Credentials(headers={"x-planner-user": "eve", "x-planner-groups": "admin"}))
        assert not caught.value.invalid_token
        token = POOL.access_token("bob", ["planner"])
        assert production.principal(Credentials(authorization=token)) == Principal("bob", frozenset({"planner"}))

    def test_the_async_path_agrees(self) -> None:
        dev = self.development()
        token = POOL.id_token("alice", ["planner"])
        assert asyncio.run(dev.authenticate(Credentials(authorization=f"Bearer {token}"))) == (
            Principal("alice", frozenset({"planner"}))
        )
        with pytest.raises(Unauthenticated):
            asyncio.run(dev.authenticate(Credentials(authorization=TestIssuer("forger").id_token())))


def test_a_jwks_file_is_read_again_when_the_keys_rotate(tmp_path: Path) -> None:
    path = POOL.write_jwks(tmp_path / "jwks.json")
    keys = StaticKeys.from_file(path)
    check = TokenVerifier(COGNITO, keys)
    assert check.verify(POOL.id_token("alice")).user_id == "alice"
    rotated = TestIssuer("rotated")
    with pytest.raises(Unauthenticated, match="not signed by a key"):
        check.verify(rotated.id_token())
    rotated.write_jwks(path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert check.verify(rotated.id_token("bob")).user_id == "bob"
    path.unlink()
    with pytest.raises(KeysUnavailable):
        check.verify(TestIssuer("third").id_token())


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    body = b""
    hits: list[str] = []  # noqa: RUF012 - one server per test, written by its handler

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, type[_JwksHandler]]]:
    handler = type("Handler", (_JwksHandler,), {"body": json.dumps(POOL.jwks()).encode(), "hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", handler
    server.shutdown()
    server.server_close()


def test_a_remote_jwks_is_fetched_once_and_kept(jwks_server) -> None:
    url, handler = jwks_server
    keys = RemoteKeys(url)
    check = TokenVerifier(COGNITO, keys)
    assert keys.cached(POOL.kid) is None
    assert check.verify(POOL.id_token("alice")).user_id == "alice"
    assert keys.cached(POOL.kid) is not None
    assert asyncio.run(check.verify_async(POOL.access_token("bob"))).user_id == "bob"
    assert handler.hits == ["/.well-known/jwks.json"]
    with pytest.raises(Unauthenticated, match="not signed by a key"):
        check.verify(TestIssuer("forger").id_token())


def test_an_unreachable_jwks_is_the_servers_trouble_not_the_callers() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    check = TokenVerifier(COGNITO, RemoteKeys(f"http://127.0.0.1:{port}/jwks.json", timeout_s=2))
    with pytest.raises(KeysUnavailable):
        check.verify(POOL.id_token())


class TestTheLocalSigner:
    def test_its_tokens_are_cognito_shaped_and_verify_locally(self, tmp_path: Path) -> None:
        signer = LocalSigner(tmp_path / "data")
        token = signer.issue("alice@example.com", ["Planner"], ttl_s=600)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["iss"] == LOCAL_ISSUER
        assert claims["aud"] == LOCAL_CLIENT_ID
        assert claims["token_use"] == "id"
        assert claims["cognito:username"] == claims["email"] == "alice@example.com"
        assert claims["cognito:groups"] == ["planner"]
        assert claims["exp"] - claims["iat"] == 600
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        assert local_verifier(signer).verify(token) == Principal("alice@example.com", frozenset({"planner"}))

    def test_the_key_is_private_to_its_owner_and_shared_by_signers_of_one_folder(self, tmp_path: Path) -> None:
        first = LocalSigner(tmp_path)
        token = first.issue("alice", [], ttl_s=60)
        assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
        second = LocalSigner(tmp_path)
        assert second.jwks() == first.jwks()
        assert local_verifier(second).verify(token).user_id == "alice"
        stranger = LocalSigner(tmp_path / "elsewhere")
        with pytest.raises(Unauthenticated, match="not signed by a key"):
            local_verifier(stranger).verify(token)
        assert not (tmp_path / "elsewhere").exists()  # verifying never makes a key pair

    def test_a_server_sees_a_key_made_after_it_started(self, tmp_path: Path) -> None:
        check = local_verifier(LocalSigner(tmp_path))
        with pytest.raises(Unauthenticated, match="not signed by a key"):
            check.verify(TestIssuer("x", issuer=LOCAL_ISSUER, client_id=LOCAL_CLIENT_ID).id_token())
        token = LocalSigner(tmp_path).issue("late", ["viewer"], ttl_s=60)
        assert check.verify(token) == Principal("late", frozenset({"viewer"}))

    def test_its_tokens_expire(self, tmp_path: Path) -> None:
        an_hour_ago = LocalSigner(tmp_path, clock=lambda: time.time() - 3600)
        token = an_hour_ago.issue("alice", ["admin"], ttl_s=60)
        with pytest.raises(Unauthenticated, match="expired"):
            local_verifier(LocalSigner(tmp_path)).verify(token)

    def test_it_refuses_what_it_cannot_sign(self, tmp_path: Path) -> None:
        signer = LocalSigner(tmp_path)
        with pytest.raises(ValueError, match="user name"):
            signer.issue("  ", [], ttl_s=60)
        with pytest.raises(ValueError, match="lifetime"):
            signer.issue("alice", [], ttl_s=0)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("45s", 45), ("30m", 1800), ("8h", 28800), ("2D", 172800), (" 1h ", 3600)]
)
def test_lifetimes(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "8 hours", "-1h", "31d", "1.5h"])
def test_lifetimes_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--ttl"):
        parse_ttl(text)
