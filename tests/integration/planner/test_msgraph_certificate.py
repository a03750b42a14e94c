"""MSAL's client-credentials flow with a client certificate, over HTTPS against the fake Graph,
whose token endpoint verifies the signed client assertion as Entra ID does; and the settings."""

from __future__ import annotations

import logging
import random
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from adapters.config import Settings
from adapters.msgraph import ClientCertificate, GraphHttp, GraphPlanner, MsalTokens, planner_graph_from_settings
from planning.ports.planner import PlannerUnavailable
from tests.fake_graph import CLIENT_ID, TENANT, FakeGraphServer
from tests.integration.planner.conftest import PLANNER_PLAN, Sleeps

PASSWORD = "pem-pass-never-logged"


def app_certificate(
    path: Path, *, password: str | None = None, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
) -> tuple[str, bytes]:
    """A self-signed app certificate and its private key in one PEM file (key first, as Azure's
    portal and ``openssl req -x509 -keyout k -out c; cat k c`` make it); returns the key's clear
    PEM (to look for in logs) and the certificate's PEM (to register with the fake)."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "planner-sync-app")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(key_pem + cert_pem)
    clear = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return clear.decode(), cert_pem


def _planner(server: FakeGraphServer, tls_cert: Path, certificate: ClientCertificate) -> GraphPlanner:
    tokens = MsalTokens(
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_certificate=certificate,
        scope="https://graph.microsoft.com/.default",
        authority_host=server.origin,
        verify=str(tls_cert),
    )
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(tls_cert)))
    return GraphPlanner(GraphHttp(server.url, tokens, client=client, sleep=Sleeps(), rng=random.Random(1)))


def test_msal_signs_a_client_assertion_with_the_certificate(
    https_fake: FakeGraphServer, tls: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key_pem, cert_pem = app_certificate(tmp_path / "app.pem", password=PASSWORD)
    https_fake.state.certificates.append(cert_pem)
    certificate = ClientCertificate.from_pem_file(tmp_path / "app.pem", PASSWORD)
    planner = _planner(https_fake, tls[0], certificate)

    pages = list(planner.task_pages(PLANNER_PLAN))

    assert [len(p) for p in pages] == [4, 4, 2]
    assert planner.user_email("u2") == "person2@contoso.com"
    assert https_fake.state.last_refusal is None
    assert https_fake.state.tokens_issued == 1
    body = key_pem.splitlines()[1]  # a line of the key's base64, whatever its PEM framing
    assert body not in caplog.text
    assert PASSWORD not in caplog.text
    assert body not in repr(certificate)
    assert https_fake.state.assertion_headers[0]["x5t#S256"].rstrip("=") == certificate.thumbprint_sha256


def test_the_certificate_settings_reach_graph(
    https_fake: FakeGraphServer, tls: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From PLANNER_MSGRAPH_* to a token and a Graph call, as bootstrap builds the client."""
    https_fake.state.certificates.append(app_certificate(tmp_path / "app.pem", password=PASSWORD)[1])
    # Trust the fake's TLS certificate: requests (under MSAL) and httpx read these.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls[0]))
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))
    settings = Settings.from_env(
        {
            "PLANNER_MSGRAPH_URL": https_fake.url,
            "PLANNER_MSGRAPH_AUTHORITY": https_fake.origin,
            "PLANNER_MSGRAPH_TENANT_ID": TENANT,
            "PLANNER_MSGRAPH_CLIENT_ID": CLIENT_ID,
            "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH": str(tmp_path / "app.pem"),
            "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD": PASSWORD,
        }
    )
    planner = planner_graph_from_settings(
        url=settings.msgraph_url,
        token=settings.msgraph_token,
        tenant_id=settings.msgraph_tenant_id,
        client_id=settings.msgraph_client_id,
        client_secret=settings.msgraph_client_secret,
        authority_host=settings.msgraph_authority,
        client_secret_arn=settings.msgraph_client_secret_arn,
        client_certificate_path=settings.msgraph_client_certificate_path,
        client_certificate_password=settings.msgraph_client_certificate_password,
    )

    assert planner is not None
    assert planner.user_email("u4") == "person4@contoso.com"
    assert https_fake.state.tokens_issued == 1
    assert https_fake.state.last_refusal is None


def test_a_wrong_key_or_an_unknown_certificate_is_refused_without_the_key(
    https_fake: FakeGraphServer, tls: tuple[Path, Path], tmp_path: Path
) -> None:
    _, registered = app_certificate(tmp_path / "registered.pem")
    https_fake.state.certificates.append(registered)
    other_key, other_cert = app_certificate(tmp_path / "other.pem")
    # The registered certificate with another key: the thumbprint is known, the signature is not.
    forged = ClientCertificate(private_key_pem=other_key, certificate_pem=registered.decode())

    with pytest.raises(PlannerUnavailable) as refused:
        list(_planner(https_fake, tls[0], forged).task_pages(PLANNER_PLAN))

    assert "invalid_client" in str(refused.value)
    assert other_key.splitlines()[1] not in str(refused.value)
    assert "invalid signature" in str(https_fake.state.last_refusal)

    unknown = ClientCertificate(private_key_pem=other_key, certificate_pem=other_cert.decode())
    with pytest.raises(PlannerUnavailable, match="invalid_client"):
        list(_planner(https_fake, tls[0], unknown).task_pages(PLANNER_PLAN))
    assert "not registered" in str(https_fake.state.last_refusal)
    assert https_fake.state.tokens_issued == 0


def test_certificate_settings_take_one_credential_and_a_usable_pem(tmp_path: Path) -> None:
    app_certificate(tmp_path / "app.pem", password=PASSWORD)
    app = {"PLANNER_MSGRAPH_TENANT_ID": "t", "PLANNER_MSGRAPH_CLIENT_ID": "c"}
    with_cert = {
        **app,
        "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH": str(tmp_path / "app.pem"),
        "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD": PASSWORD,
    }
    settings = Settings.from_env(with_cert)
    assert settings.msgraph_client_certificate_path == str(tmp_path / "app.pem")
    assert settings.msgraph_client_certificate_password == PASSWORD
    assert PASSWORD not in repr(settings)

    # Neither a clear key with a password, an encrypted one without, nor a mismatched pair.
    clear_cert = app_certificate(tmp_path / "clear.pem")[1]
    clear_key = (tmp_path / "clear.pem").read_bytes().split(clear_cert)[0]
    (tmp_path / "mismatched.pem").write_bytes(clear_key + app_certificate(tmp_path / "x.pem")[1])
    app_certificate(tmp_path / "ec.pem", key=ec.generate_private_key(ec.SECP256R1()))
    (tmp_path / "junk.pem").write_text("not a certificate")
    path = "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH"
    for bad, message in (
        ({**with_cert, "PLANNER_MSGRAPH_CLIENT_SECRET": "s"}, "set only one"),
        ({**with_cert, "PLANNER_MSGRAPH_CLIENT_SECRET_ARN": "arn"}, "set only one"),
        ({path: str(tmp_path / "app.pem")}, "go together"),
        ({**app, "PLANNER_MSGRAPH_CLIENT_SECRET": "s", "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD": "p"}, "needs"),
        ({**app, path: str(tmp_path / "app.pem")}, "is encrypted: set"),
        ({**with_cert, "PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD": "wrong"}, "no private key that"),
        ({**app, path: str(tmp_path / "clear.pem"), f"{path[:-4]}PASSWORD": "p"}, "not encrypted"),
        ({**app, path: str(tmp_path / "mismatched.pem")}, "matches its private key"),
        ({**app, path: str(tmp_path / "ec.pem")}, "RSA"),
        ({**app, path: str(tmp_path / "junk.pem")}, "no PEM certificate"),
        ({**app, path: str(tmp_path / "missing.pem")}, "cannot be read"),
    ):
        with pytest.raises(ValueError, match=message) as refused:
            Settings.from_env(bad)
        assert PASSWORD not in str(refused.value)
