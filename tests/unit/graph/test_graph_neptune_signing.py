"""SigV4 signing of the Neptune websocket handshake: fixed credentials, frozen clock, no network."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from adapters.graph.neptune_auth import NeptuneIamSigner, host_header, resolve_region
from adapters.graph.remotes import neptune_connector

URL = "wss://db.cluster-abc.eu-west-1.neptune.amazonaws.com:8182/gremlin"
HOST = "db.cluster-abc.eu-west-1.neptune.amazonaws.com:8182"
T0 = dt.datetime(2024, 3, 5, 10, 20, 30, tzinfo=dt.UTC)


def fixed_signer(creds: Credentials | None = None, clock=lambda: T0) -> NeptuneIamSigner:  # type: ignore[no-untyped-def]
    creds = creds or Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    return NeptuneIamSigner(region="us-east-1", credentials=lambda: creds, clock=clock)


def test_headers_carry_a_neptune_db_signature() -> None:
    headers = fixed_signer().headers(URL)
    auth = headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/neptune-db/aws4_request")
    assert "SignedHeaders=host;x-amz-date" in auth
    assert headers["X-Amz-Date"] == "20240305T102030Z"
    assert headers["Host"] == HOST
    assert "X-Amz-Security-Token" not in headers


def test_signature_matches_botocore_own_signer() -> None:
    """Our clock injection must not change the signature botocore would compute at that time."""
    creds = Credentials("AKIDEXAMPLE", "secret")
    ours = fixed_signer(creds).headers(URL)
    request = AWSRequest(method="GET", url=f"https://{HOST}/gremlin", data=None)
    request.headers["Host"] = HOST
    with mock.patch("botocore.auth.get_current_datetime", return_value=T0.replace(tzinfo=None)):
        SigV4Auth(creds, "neptune-db", "us-east-1").add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]


def test_session_token_is_sent_for_temporary_credentials() -> None:
    headers = fixed_signer(Credentials("ASIATEMP", "secret", token="session-token")).headers(URL)
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-security-token" in headers["Authorization"]


def test_every_connect_signs_afresh() -> None:
    times = iter([T0, T0 + dt.timedelta(minutes=7)])
    keys = iter([Credentials("AKID1", "s1"), Credentials("AKID2", "s2")])
    signer = NeptuneIamSigner(region="us-east-1", credentials=lambda: next(keys), clock=lambda: next(times))
    seen: list[dict[str, str]] = []

    def fake_driver(url: str, headers):  # type: ignore[no-untyped-def]
        assert url == URL
        seen.append(dict(headers))
        return mock.Mock()

    connect = neptune_connector(URL, signer, driver_factory=fake_driver)
    connect()
    connect()
    assert len(seen) == 2
    first, second = seen
    assert first["X-Amz-Date"] == "20240305T102030Z"
    assert second["X-Amz-Date"] == "20240305T102730Z"
    assert "Credential=AKID1/" in first["Authorization"]
    assert "Credential=AKID2/" in second["Authorization"]
    assert first["Authorization"] != second["Authorization"]


def test_same_moment_same_credentials_same_signature() -> None:
    """Determinism (the other side of 'fresh'): only time and credentials change a signature."""
    assert fixed_signer().headers(URL) == fixed_signer().headers(URL)


def test_host_header_drops_default_port_only() -> None:
    assert host_header("wss://h.example:443/gremlin") == "h.example"
    assert host_header("wss://h.example/gremlin") == "h.example"
    assert host_header("wss://H.Example:8182/gremlin") == "h.example:8182"


def test_no_credentials_is_an_error() -> None:
    from botocore.exceptions import NoCredentialsError  # type: ignore[import-untyped]

    signer = NeptuneIamSigner(region="us-east-1", credentials=lambda: None, clock=lambda: T0)
    with pytest.raises(NoCredentialsError):
        signer.headers(URL)


def test_region_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert resolve_region(URL, "ap-south-1") == "ap-south-1"
    assert resolve_region(URL) == "eu-west-1"  # from the Neptune host name
    with pytest.raises(ValueError, match="AWS_REGION"):
        resolve_region("wss://localhost:8182/gremlin")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert resolve_region("wss://localhost:8182/gremlin") == "us-west-2"
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    assert resolve_region(URL) == "us-east-2"


def test_region_from_env_reaches_the_credential_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "sa-east-1")
    signer = NeptuneIamSigner(credentials=lambda: Credentials("AKID", "s"), clock=lambda: T0)
    assert "/sa-east-1/neptune-db/aws4_request" in signer.headers(URL)["Authorization"]
