"""Bearer tokens for Microsoft Graph: MSAL's client-credentials flow, or a ready token.

Secrets live only inside MSAL's application object: nothing here logs or repeats them, and a
refused token is reported by MSAL's error code alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import msal

from adapters.msgraph.certificate import ClientCertificate
from planning.ports.planner import PlannerUnavailable

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"


class TokenSource(Protocol):
    def token(self) -> str:
        """A bearer token for Graph; raises PlannerUnavailable when none can be had."""
        ...

    def invalidate(self) -> None:
        """The last token was refused (HTTP 401): the next ``token()`` gets a new one if it can."""
        ...


class StaticToken:
    """``PLANNER_MSGRAPH_TOKEN``: a ready bearer token (tests, a one-off run)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        """A ready token cannot be renewed; Graph's 401 is then reported as it is."""

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


class MsalTokens:
    """Client credentials (tenant, client id, and a secret or a certificate) through MSAL, which
    caches the token until shortly before it expires. ``client_secret`` may be a function that
    fetches it (from AWS Secrets Manager, see ``secret_from_secrets_manager``), called on first use;
    with ``client_certificate`` MSAL signs a client assertion with its private key instead."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str | Callable[[], str] | None = None,
        scope: str,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        verify: bool | str = True,
        client_certificate: ClientCertificate | None = None,
    ) -> None:
        if (client_secret is None) == (client_certificate is None):
            raise ValueError("MsalTokens takes a client secret or a client certificate, one of them")
        self._scope = scope
        self._lock = threading.Lock()
        custom = authority_host.rstrip("/") != DEFAULT_AUTHORITY_HOST

        def credential() -> str | dict[str, str]:
            if client_certificate is not None:
                return client_certificate.msal_credential()
            assert client_secret is not None  # one of the two, checked above
            return client_secret if isinstance(client_secret, str) else client_secret()

        def build() -> msal.ConfidentialClientApplication:
            return msal.ConfidentialClientApplication(
                client_id,
                client_credential=credential(),
                authority=f"{authority_host.rstrip('/')}/{tenant_id}",
                # A non-Microsoft authority (a sovereign cloud's, a test's) is not in Microsoft's list.
                instance_discovery=False if custom else None,
                verify=verify,
                timeout=30,
            )

        # Built on first use: MSAL reads the authority's metadata over the network when built, and
        # a server must start (and serve everything else) while the identity platform is away.
        self._build = build
        self._app: msal.ConfidentialClientApplication | None = None

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = self._build()
        return self._app

    def token(self) -> str:
        with self._lock:
            try:
                result = self._application().acquire_token_for_client(scopes=[self._scope])
            except Exception as exc:  # noqa: BLE001 - MSAL raises ValueError or requests' errors
                raise PlannerUnavailable(f"the token endpoint could not be reached ({type(exc).__name__})") from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            code = result.get("error", "unknown_error") if isinstance(result, dict) else "unknown_error"
            raise PlannerUnavailable(f"the token endpoint refused the client credentials ({code})")
        return str(token)

    def invalidate(self) -> None:
        with self._lock:
            if self._app is None:
                return
            cache = self._app.token_cache
            for access_token in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(access_token)

    def __repr__(self) -> str:
        return "MsalTokens(<client credentials hidden>)"


def secret_from_secrets_manager(secret_id: str) -> Callable[[], str]:
    """A function that reads the client secret from AWS Secrets Manager (its ``SecretString``, or
    the ``client_secret`` key of it when it holds JSON), with the Lambda's or host's credentials."""

    def read() -> str:
        import json

        import boto3

        try:
            value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
        except Exception as exc:  # noqa: BLE001 - botocore's many errors: the message names none of the secret
            raise PlannerUnavailable(
                f"the client secret could not be read from Secrets Manager ({type(exc).__name__})"
            ) from None
        try:
            parsed = json.loads(value)
        except ValueError:
            return str(value)
        if isinstance(parsed, dict) and isinstance(parsed.get("client_secret"), str):
            return str(parsed["client_secret"])
        return str(value)

    return read
