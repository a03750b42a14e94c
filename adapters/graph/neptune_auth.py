"""IAM (SigV4) signing of the websocket handshake to Neptune.

Neptune with IAM auth checks the ``Authorization``, ``X-Amz-Date``, ``Host`` (and, for
temporary credentials, ``X-Amz-Security-Token``) headers of the HTTP GET that opens the
websocket. A signature is only accepted for about five minutes and the credentials behind it
rotate, so headers are produced afresh for every (re)connect: call :meth:`NeptuneIamSigner.headers`
each time, never cache its result.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials, ReadOnlyCredentials  # type: ignore[import-untyped]
from botocore.exceptions import NoCredentialsError  # type: ignore[import-untyped]

SERVICE = "neptune-db"
_DEFAULT_PORTS = {"wss": 443, "https": 443, "ws": 80, "http": 80}
_REGION_IN_HOST = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.neptune\.amazonaws\.com$")

CredentialsProvider = Callable[[], "Credentials | ReadOnlyCredentials | None"]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_credentials_provider() -> CredentialsProvider:
    """The botocore session chain (env vars, profile, SSO, container/instance role...)."""
    import botocore.session  # type: ignore[import-untyped]

    session = botocore.session.get_session()

    def provide() -> Credentials | None:
        # Refreshable credentials refresh themselves when read; ask each time.
        return session.get_credentials()

    return provide


def resolve_region(url: str, region: str | None = None) -> str:
    """``region`` if given, else AWS_REGION, AWS_DEFAULT_REGION, else the region in a Neptune host name."""
    found = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if found:
        return found
    host = urlsplit(url).hostname or ""
    match = _REGION_IN_HOST.search(host)
    if match:
        return match.group(1)
    raise ValueError("no AWS region for Neptune IAM signing: pass region=..., or set AWS_REGION / AWS_DEFAULT_REGION")


def host_header(url: str) -> str:
    """The Host header the websocket client will send (port only when not the scheme's default)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class _ClockedSigV4Auth(SigV4Auth):  # type: ignore[misc]
    """SigV4Auth whose timestamp comes from an injected clock (botocore reads the system clock)."""

    def __init__(self, credentials: object, service: str, region: str, now: dt.datetime) -> None:
        super().__init__(credentials, service, region)
        self._now = now

    def add_auth(self, request: AWSRequest) -> None:
        if self.credentials is None:
            raise NoCredentialsError()
        now = self._now.astimezone(dt.UTC).replace(tzinfo=None)
        request.context["timestamp"] = now.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


class NeptuneIamSigner:
    """Produces the signed handshake headers for a Neptune websocket URL."""

    def __init__(
        self,
        region: str | None = None,
        credentials: CredentialsProvider | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        service: str = SERVICE,
    ) -> None:
        self._region = region
        self._credentials = credentials or default_credentials_provider()
        self._clock = clock
        self.service = service

    def headers(self, url: str) -> dict[str, str]:
        """Fresh headers for ``GET url`` (a ``wss://`` or ``https://`` URL): sign at every connect."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError(f"cannot sign a {parts.scheme!r} URL; expected wss:// or https://")
        creds = self._credentials()
        if creds is None:
            raise NoCredentialsError()
        frozen = creds.get_frozen_credentials() if hasattr(creds, "get_frozen_credentials") else creds
        region = resolve_region(url, self._region)
        # The canonical request does not include the scheme; sign the https form of the URL.
        https_url = urlunsplit(("https", parts.netloc, parts.path or "/", parts.query, ""))
        request = AWSRequest(method="GET", url=https_url, data=None)
        request.headers["Host"] = host_header(url)
        _ClockedSigV4Auth(frozen, self.service, region, self._clock()).add_auth(request)
        return {name: str(value) for name, value in request.headers.items()}
