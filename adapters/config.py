"""Settings, read once from the environment (all prefixed PLANNER_)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adapters.sql.defaults import DEFAULT_DATABASE_URL

DEFAULT_GRAPH_URL = "gremlite:.planner/graph.db"
DEFAULT_DATA_DIR = ".planner"
#: Cognito's user pool ids are ``<region>_<id>``, such as ``eu-west-1_AbCdE1234``.
COGNITO_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$")
TOKEN_USES = ("id", "access")
DEFAULT_MAX_BODY_BYTES = 1 << 20
#: Measured with `make load` (README, "Under load"): one process (one GIL) is as fast with 4
#: requests in progress as with 8, and an admitted request then waits behind 3 others, not 7.
DEFAULT_MAX_IN_FLIGHT = 4
DEFAULT_GRAPH_MEMO_SIZE = 500_000
DEFAULT_MSGRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_MSGRAPH_AUTHORITY = "https://login.microsoftonline.com"
#: Development's default CORS rule: any port of http://localhost and http://127.0.0.1.
LOCAL_ORIGINS = r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    graph_url: str = DEFAULT_GRAPH_URL
    production: bool = False
    #: Development only: trust ``X-Planner-User`` / ``X-Planner-Groups`` request headers.
    identity_headers: bool = True
    #: Where local data beside the database lives (the development token-signing key); None: the
    #: SQLite database's folder, else ``.planner``. See ``local_data_dir``.
    data_dir: str | None = None
    #: An external token issuer (Cognito or any OIDC issuer): its ``iss``, JWKS (an https URL
    #: or a local file) and accepted client ids; token uses (``id``, ``access``) checked when set.
    auth_issuer: str | None = None
    auth_jwks_url: str | None = None
    auth_audience: tuple[str, ...] = ()
    auth_token_use: tuple[str, ...] = ()
    auth_groups_claim: str = "cognito:groups"
    log_json: bool = False
    #: How long a graph question waits for the projection to apply the plan's last change
    #: before answering UNAVAILABLE.
    graph_wait_s: float = 5.0
    #: The largest request body the server reads; a larger one is answered HTTP 413.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Requests one server process handles at once; the next is answered HTTP 503 with
    #: ``Retry-After`` at once (health and readiness probes are never refused).
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    #: How much of plans' graphs, schedules and task lists a process keeps between requests,
    #: counted in tasks plus dependencies (0 keeps nothing).
    graph_memo_size: int = DEFAULT_GRAPH_MEMO_SIZE
    #: A server runs the optimisation agent in the background for each ingested external event
    #: (``PLANNER_AGENT_BACKGROUND``); off, proposals come only from proposeActions.
    agent_background: bool = True
    #: Microsoft Graph for the Planner sync (v1.0 only); a ready bearer token, else MSAL's client
    #: credentials (tenant, client id, secret). The secret and token are kept out of ``repr``.
    msgraph_url: str = DEFAULT_MSGRAPH_URL
    msgraph_tenant_id: str | None = None
    msgraph_client_id: str | None = None
    msgraph_client_secret: str | None = field(default=None, repr=False)
    msgraph_token: str | None = field(default=None, repr=False)
    msgraph_authority: str = DEFAULT_MSGRAPH_AUTHORITY
    #: On AWS: the Secrets Manager secret (ARN or name) that holds the client secret instead.
    msgraph_client_secret_arn: str | None = None
    #: Instead of a secret: a PEM file with the app's private key and its certificate (MSAL signs
    #: a client assertion with it), and the key's password when it is encrypted.
    msgraph_client_certificate_path: str | None = None
    msgraph_client_certificate_password: str | None = field(default=None, repr=False)
    #: Seconds between the server's syncs of every linked plan; 0 (the default) runs none.
    planner_sync_interval_s: float = 0.0
    #: Live subscriptions: how often the outbox is read without a wake-up (what another SQLite
    #: process committed; a missed PostgreSQL notification), the events a subscriber may fall
    #: behind before it is disconnected (4429), and the legacy graphql-ws keep-alive interval.
    events_poll_s: float = 1.0
    subscriber_queue: int = 256
    ws_keep_alive_s: float = 15.0
    #: Browser origins allowed to call the API (CORS), from ``PLANNER_CORS_ORIGINS``; when it is
    #: not set, development allows any port of http://localhost and http://127.0.0.1
    #: (``cors_origin_regex``) and production none (``from_env`` sets both).
    cors_origins: tuple[str, ...] = ()
    cors_origin_regex: str | None = LOCAL_ORIGINS
    #: A check for tests (``PLANNER_CHECK_PARENTS_AS_JSON``): resolvers get their parents written
    #: as JSON and read back, as on AppSync (``schema.direct_resolvers``); it slows every read.
    check_parents_as_json: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment.

        In production identity headers are never trusted: a caller proves who it is with a
        token from ``PLANNER_AUTH_ISSUER`` (or the Cognito user pool), else gets HTTP 401.
        """
        env = os.environ if env is None else env
        mode = env.get("PLANNER_ENV", "development").strip().lower()
        if mode not in {"development", "production"}:
            raise ValueError(f"PLANNER_ENV must be development or production, not {mode!r}")
        production = mode == "production"
        return cls(
            database_url=env.get("PLANNER_DATABASE_URL", DEFAULT_DATABASE_URL),
            graph_url=env.get("PLANNER_GRAPH_URL", DEFAULT_GRAPH_URL),
            production=production,
            identity_headers=not production and _flag(env.get("PLANNER_IDENTITY_HEADERS"), default=True),
            data_dir=(env.get("PLANNER_DATA_DIR") or "").strip() or None,
            **_auth(env),
            log_json=_flag(env.get("PLANNER_LOG_JSON"), default=production),
            graph_wait_s=_seconds(env, "PLANNER_GRAPH_WAIT_S", 5.0),
            max_body_bytes=_count(env, "PLANNER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, low=1024, high=1 << 30),
            max_in_flight=_count(env, "PLANNER_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT, low=1, high=10_000),
            graph_memo_size=_count(env, "PLANNER_GRAPH_MEMO_SIZE", DEFAULT_GRAPH_MEMO_SIZE, low=0, high=100_000_000),
            agent_background=_flag(env.get("PLANNER_AGENT_BACKGROUND"), default=True),
            **_msgraph(env),
            events_poll_s=_seconds(env, "PLANNER_EVENTS_POLL_S", 1.0) or 1.0,
            subscriber_queue=_count(env, "PLANNER_SUBSCRIBER_QUEUE", 256, low=1, high=100_000),
            ws_keep_alive_s=_seconds(env, "PLANNER_WS_KEEP_ALIVE_S", 15.0) or 15.0,
            **_cors(env, production=production),
            check_parents_as_json=_flag(env.get("PLANNER_CHECK_PARENTS_AS_JSON"), default=False),
        )

    @property
    def local_data_dir(self) -> Path:
        """``PLANNER_DATA_DIR``, else the folder of a SQLite database file, else ``.planner``: the
        development token-signing key is kept there, with the local data it guards."""
        if self.data_dir:
            return Path(self.data_dir)
        # Imported here, not at the top: settings are read by `planner --help`'s path and the
        # server's import, which need no SQLAlchemy (cold start, README "Benchmarks").
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).parent
        return Path(DEFAULT_DATA_DIR)


def _auth(env: Mapping[str, str]) -> dict[str, object]:
    """The external token issuer: ``PLANNER_AUTH_*``, or a Cognito user pool as a shortcut."""
    issuer = (env.get("PLANNER_AUTH_ISSUER") or "").strip().rstrip("/") or None
    jwks_url = (env.get("PLANNER_AUTH_JWKS_URL") or "").strip() or None
    pool = (env.get("PLANNER_COGNITO_USER_POOL_ID") or "").strip()
    if pool:
        match = COGNITO_POOL_ID.match(pool)
        if not match:
            raise ValueError(f"PLANNER_COGNITO_USER_POOL_ID must look like eu-west-1_AbC123, not {pool[:60]!r}")
        region = (env.get("AWS_REGION") or "").strip() or match["region"]
        cognito = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
        if issuer and issuer != cognito:
            raise ValueError(f"PLANNER_AUTH_ISSUER {issuer!r} is not the user pool's issuer {cognito!r}")
        issuer = cognito
    audience = tuple(a.strip() for a in env.get("PLANNER_AUTH_AUDIENCE", "").split(",") if a.strip())
    uses = tuple(u.strip().lower() for u in env.get("PLANNER_AUTH_TOKEN_USE", "").split(",") if u.strip())
    if unknown := [u for u in uses if u not in TOKEN_USES]:
        raise ValueError(f"PLANNER_AUTH_TOKEN_USE takes id and access, not {unknown[0][:30]!r}")
    groups_claim = (env.get("PLANNER_AUTH_GROUPS_CLAIM") or "").strip() or "cognito:groups"
    if issuer is None:
        if jwks_url or audience or uses:
            raise ValueError("PLANNER_AUTH_JWKS_URL, _AUDIENCE and _TOKEN_USE need PLANNER_AUTH_ISSUER")
        return {}
    if not issuer.startswith("https://") and not issuer.startswith("http://"):
        raise ValueError(f"PLANNER_AUTH_ISSUER must be the issuer's URL, not {issuer[:60]!r}")
    if not audience:
        raise ValueError("PLANNER_AUTH_AUDIENCE (the app client id or ids) is required with a token issuer")
    if not uses and ".amazonaws.com/" in issuer and "cognito-idp." in issuer:
        uses = TOKEN_USES
    return {
        "auth_issuer": issuer,
        "auth_jwks_url": jwks_url or f"{issuer}/.well-known/jwks.json",
        "auth_audience": audience,
        "auth_token_use": uses,
        "auth_groups_claim": groups_claim,
    }


def _msgraph(env: Mapping[str, str]) -> dict[str, object]:
    """``PLANNER_MSGRAPH_*`` and ``PLANNER_PLANNER_SYNC_INTERVAL_S`` (the Planner sync)."""

    def text(name: str) -> str | None:
        return (env.get(name) or "").strip() or None

    url = (text("PLANNER_MSGRAPH_URL") or DEFAULT_MSGRAPH_URL).rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"PLANNER_MSGRAPH_URL must be an http(s) URL, not {url[:60]!r}")
    if "/beta" in url:
        raise ValueError("PLANNER_MSGRAPH_URL must be Graph v1.0: the beta API is not supported in production")
    credentials = [text(f"PLANNER_MSGRAPH_{n}") for n in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET")]
    secret_arn = text("PLANNER_MSGRAPH_CLIENT_SECRET_ARN")
    certificate_path = text("PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH")
    certificate_password = env.get("PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD") or None
    if (any(credentials) or secret_arn or certificate_path) and not (
        credentials[0] and credentials[1] and (credentials[2] or secret_arn or certificate_path)
    ):
        raise ValueError(
            "PLANNER_MSGRAPH_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET (or _CLIENT_SECRET_ARN or "
            "_CLIENT_CERTIFICATE_PATH) go together"
        )
    _one_client_credential(credentials[2], secret_arn, certificate_path, certificate_password)
    interval_raw = text("PLANNER_PLANNER_SYNC_INTERVAL_S")
    interval = 0.0
    if interval_raw is not None:
        try:
            interval = float(interval_raw)
        except ValueError:
            raise ValueError(
                f"PLANNER_PLANNER_SYNC_INTERVAL_S must be a number of seconds, not {interval_raw[:40]!r}"
            ) from None
        if interval != 0 and not 10 <= interval <= 86_400:
            raise ValueError("PLANNER_PLANNER_SYNC_INTERVAL_S must be 0 (off) or between 10 and 86400 seconds")
    return {
        "msgraph_url": url,
        "msgraph_tenant_id": credentials[0],
        "msgraph_client_id": credentials[1],
        "msgraph_client_secret": credentials[2],
        "msgraph_token": text("PLANNER_MSGRAPH_TOKEN"),
        "msgraph_client_secret_arn": secret_arn,
        "msgraph_client_certificate_path": certificate_path,
        "msgraph_client_certificate_password": certificate_password,
        "msgraph_authority": (text("PLANNER_MSGRAPH_AUTHORITY") or DEFAULT_MSGRAPH_AUTHORITY).rstrip("/"),
        "planner_sync_interval_s": interval,
    }


def _one_client_credential(
    secret: str | None, secret_arn: str | None, certificate_path: str | None, certificate_password: str | None
) -> None:
    """Exactly one of the client secret, its Secrets Manager ARN and the client certificate; the
    certificate's file is read and checked now, so that a bad one stops the start, not a sync."""
    if sum(x is not None for x in (secret, secret_arn, certificate_path)) > 1:
        raise ValueError("PLANNER_MSGRAPH_CLIENT_SECRET, _CLIENT_SECRET_ARN and _CLIENT_CERTIFICATE_PATH: set only one")
    if certificate_password and not certificate_path:
        raise ValueError("PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PASSWORD needs PLANNER_MSGRAPH_CLIENT_CERTIFICATE_PATH")
    if certificate_path:
        from adapters.msgraph.certificate import ClientCertificate

        ClientCertificate.from_pem_file(certificate_path, certificate_password)


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value <= 600:
        raise ValueError(f"{name} must be between 0 and 600 seconds, not {raw!r}")
    return value


def _count(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def _cors(env: Mapping[str, str], *, production: bool) -> dict[str, object]:
    """``PLANNER_CORS_ORIGINS``: comma-separated origins (``scheme://host[:port]``) or ``*``;
    when it is unset, development allows local origins and production none."""
    raw = env.get("PLANNER_CORS_ORIGINS")
    if raw is None:
        return {"cors_origins": (), "cors_origin_regex": None if production else LOCAL_ORIGINS}
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(
                f"PLANNER_CORS_ORIGINS takes origins such as https://app.example.com or http://localhost:5173, "
                f"not {origin[:60]!r}"
            )
    return {"cors_origins": origins, "cors_origin_regex": None}
