"""A fake Microsoft Graph for the Planner sync's tests: a small ASGI app served by uvicorn on a
free localhost port, which the real client (``adapters.msgraph``) talks to over HTTP.

Its answers are shaped like Graph v1.0's documented ones: ``plannerTask`` resources (with
``@odata.etag`` and ``assignments``) in pages of ``value`` + ``@odata.nextLink``, ``plannerBucket``,
``plannerTaskDetails``, ``user``; Graph's error body ``{"error": {"code", "message"}}``; and the
Microsoft identity platform's OpenID configuration and client-credentials token endpoint.
Faults are scripted per path: a run of 429s or 503s with ``Retry-After``, or a status until cleared.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "fake-graph-token"
TENANT = "contoso-tenant"
CLIENT_ID = "planner-sync-app"
CLIENT_SECRET = "s3cret-never-logged"
GRAPH_PREFIX = "/v1.0"


@dataclass
class Fault:
    status: int
    retry_after: str | None = None


@dataclass
class FakeGraphState:
    """What the fake serves; tests change it between syncs. Guarded by ``lock`` (uvicorn serves
    from its own thread)."""

    page_size: int = 100
    tasks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    scripted: dict[str, deque[Fault]] = field(default_factory=dict)
    broken: dict[str, int] = field(default_factory=dict)
    held: dict[str, threading.Event] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    #: The app's registered certificates (PEM), for client assertions signed with their keys.
    certificates: list[bytes] = field(default_factory=list)
    #: The token endpoint's last refusal (``error_description``), for tests to read.
    last_refusal: str | None = None
    #: The JOSE headers of the client assertions received.
    assertion_headers: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _etags: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def etag(self) -> str:
        return f'W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBA{next(self._etags):06d}Jw=="'

    def add_user(self, user_id: str, mail: str | None) -> None:
        with self.lock:
            self.users[user_id] = {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName)/$entity",
                "id": user_id,
                "mail": mail,
                "userPrincipalName": f"{user_id}@contoso.onmicrosoft.com",
            }

    def add_plan(self, plan_id: str, count: int, users: list[str], start: date) -> list[str]:
        """A plan of ``count`` tasks over two buckets, each assigned to one or two of ``users``."""
        self.buckets[plan_id] = [
            {"@odata.etag": self.etag(), "id": f"{plan_id}-b{i}", "name": name, "planId": plan_id, "orderHint": "8585"}
            for i, name in enumerate(("To do", "Doing"))
        ]
        ids = []
        for i in range(count):
            task_id = f"{plan_id}-t{i:04d}"
            ids.append(task_id)
            assignees = [users[i % len(users)]] + ([users[(i + 1) % len(users)]] if i % 3 == 0 else [])
            task = self._task(
                plan_id,
                task_id,
                title=f"Task {i}",
                percent=(0, 50, 100)[i % 3],
                start=start + timedelta(days=i % 20),
                due=start + timedelta(days=i % 20 + 5),
                bucket=f"{plan_id}-b{i % 2}",
                assignees=assignees,
            )
            with self.lock:
                self.tasks.setdefault(plan_id, []).append(task)
        return ids

    def _task(
        self,
        plan_id: str,
        task_id: str,
        *,
        title: str,
        percent: int,
        start: date | None,
        due: date | None,
        bucket: str,
        assignees: list[str],
    ) -> dict[str, Any]:
        def stamp(d: date | None) -> str | None:
            return None if d is None else f"{d.isoformat()}T00:00:00Z"

        return {
            "@odata.etag": self.etag(),
            "planId": plan_id,
            "bucketId": bucket,
            "title": title,
            "orderHint": "8585269235419217847",
            "assigneePriority": "",
            "percentComplete": percent,
            "priority": 5,
            "startDateTime": stamp(start),
            "createdDateTime": "2026-11-01T09:12:44.6327811Z",
            "dueDateTime": stamp(due),
            "hasDescription": False,
            "previewType": "automatic",
            "completedDateTime": "2026-11-20T10:00:00Z" if percent == 100 else None,
            "completedBy": None,
            "referenceCount": 0,
            "checklistItemCount": 0,
            "activeChecklistItemCount": 0,
            "conversationThreadId": None,
            "id": task_id,
            "createdBy": {"user": {"displayName": None, "id": assignees[0] if assignees else None}},
            "appliedCategories": {},
            "assignments": {
                user: {
                    "@odata.type": "#microsoft.graph.plannerAssignment",
                    "assignedDateTime": "2026-11-01T09:12:44.6327811Z",
                    "orderHint": "8585269235419217847",
                    "assignedBy": {"user": {"displayName": None, "id": user}},
                }
                for user in assignees
            },
        }

    def change(self, plan_id: str, task_id: str, **fields: Any) -> None:
        """Change a task as Planner would: its fields and a new ETag."""
        with self.lock:
            task = next(t for t in self.tasks[plan_id] if t["id"] == task_id)
            task.update(fields)
            task["@odata.etag"] = self.etag()

    def delete(self, plan_id: str, task_id: str) -> None:
        with self.lock:
            self.tasks[plan_id] = [t for t in self.tasks[plan_id] if t["id"] != task_id]

    def script(self, path: str, *faults: Fault) -> None:
        """The next requests of ``path`` (a prefix, after /v1.0) answer these faults, in order."""
        with self.lock:
            self.scripted.setdefault(path, deque()).extend(faults)

    def break_path(self, path: str, status: int) -> None:
        """Every request of ``path`` (a prefix) answers ``status`` until ``mend``."""
        with self.lock:
            self.broken[path] = status

    def hold(self, path: str) -> None:
        """Requests of ``path`` (a prefix) get no answer until ``mend``: a client stuck mid-call."""
        with self.lock:
            self.held[path] = threading.Event()

    def mend(self) -> None:
        with self.lock:
            self.broken.clear()
            self.scripted.clear()
            for event in self.held.values():
                event.set()
            self.held.clear()

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.startswith(prefix))


def _error(status: int, code: str, message: str, retry_after: str | None = None) -> JSONResponse:
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _assertion_refusal(form: dict[str, str], token_endpoint: str, state: FakeGraphState) -> str | None:
    """Why Entra ID would refuse this client assertion (AADSTS codes), or None: a JWT signed with the
    key of a registered certificate, named by its ``x5t#S256`` (or SHA-1 ``x5t``) thumbprint, for
    this token endpoint (``aud``), issued by and about the client (``iss`` = ``sub`` = client id)."""
    import base64

    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return "AADSTS50027: unsupported client_assertion_type"
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return "AADSTS50027: JWT token is invalid or malformed."
    with state.lock:
        state.assertion_headers.append(header)

    def thumbprint(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
        # base64url; MSAL pads it, RFC 7515 does not: compared without padding.
        return base64.urlsafe_b64encode(cert.fingerprint(algorithm)).decode().rstrip("=")

    with state.lock:
        registered = [x509.load_pem_x509_certificate(pem) for pem in state.certificates]
    certificate = next(
        (
            c
            for c in registered
            if str(header.get("x5t#S256")).rstrip("=") == thumbprint(c, hashes.SHA256())
            or str(header.get("x5t")).rstrip("=") == thumbprint(c, hashes.SHA1())  # MSAL's legacy (ADFS) thumbprint
        ),
        None,
    )
    if certificate is None:
        return "AADSTS700027: The certificate used to sign the client assertion is not registered on the application."
    try:
        claims = jwt.decode(
            assertion,
            certificate.public_key(),  # type: ignore[arg-type]  # an RSA key: MSAL signs PS256 or RS256
            algorithms=["PS256", "RS256"],
            audience=token_endpoint,
            issuer=CLIENT_ID,
            options={"require": ["exp", "aud", "iss", "sub", "jti"]},
        )
    except jwt.InvalidSignatureError:
        return "AADSTS700027: Client assertion contains an invalid signature."
    except jwt.PyJWTError as exc:
        return f"AADSTS700027: Client assertion failed signature validation ({type(exc).__name__})."
    if claims["sub"] != CLIENT_ID or form.get("client_id", CLIENT_ID) != CLIENT_ID:
        return "AADSTS700016: Application not found in the directory."
    return None


def build_app(state: FakeGraphState) -> Starlette:
    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def fault_for(path: str) -> Response | None:
        with state.lock:
            state.requests.append(path)
            for prefix, status in state.broken.items():
                if path.startswith(prefix):
                    return _error(status, "InternalServerError", "scripted outage")
            for prefix, faults in state.scripted.items():
                if path.startswith(prefix) and faults:
                    fault = faults.popleft()
                    code = "TooManyRequests" if fault.status == 429 else "ServiceUnavailable"
                    return _error(fault.status, code, "scripted throttling", fault.retry_after)
        return None

    async def held(path: str) -> None:
        with state.lock:
            events = [e for prefix, e in state.held.items() if path.startswith(prefix)]
        for event in events:
            while not event.is_set():
                await asyncio.sleep(0.05)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            path = request.url.path.removeprefix(GRAPH_PREFIX)
            if not authorised(request):
                return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            fault = fault_for(path)
            await held(path)
            return fault or handler(request)

        return endpoint

    def tasks(request: Request) -> Response:
        plan_id = request.path_params["plan_id"]
        with state.lock:
            if plan_id not in state.tasks:
                return _error(404, "NotFound", "The requested item is not found.")
            everything = list(state.tasks[plan_id])
        skip = int(request.query_params.get("$skiptoken", "0"))
        page = everything[skip : skip + state.page_size]
        body: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#planner/plans('{plan_id}')/tasks",
            "value": page,
        }
        if skip + state.page_size < len(everything):
            body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skiptoken": skip + state.page_size}))
        return JSONResponse(body)

    def buckets(request: Request) -> Response:
        plan_id = request.path_params["plan_id"]
        with state.lock:
            found = state.buckets.get(plan_id)
        if found is None:
            return _error(404, "NotFound", "The requested item is not found.")
        return JSONResponse({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#buckets", "value": found})

    def details(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        return JSONResponse(
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#planner/tasks('x')/details/$entity",
                "@odata.etag": 'W/"JzEtVGFza0RldGFpbHMgQEBAQEBAQEBAQEBAQEBAQCc="',
                "description": f"Details of {task_id}",
                "previewType": "automatic",
                "id": task_id,
                "references": {},
                "checklist": {},
            }
        )

    def user(request: Request) -> Response:
        with state.lock:
            found = state.users.get(request.path_params["user_id"])
        if found is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        return JSONResponse(found)

    async def openid(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        base = f"{request.url.scheme}://{request.url.netloc}/{tenant}"
        return JSONResponse(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "token"],
            }
        )

    async def token(request: Request) -> Response:
        # The token request is form-encoded (parsed here without python-multipart).
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if request.path_params["tenant"] != TENANT:
            return JSONResponse({"error": "invalid_tenant", "error_description": "AADSTS90002"}, status_code=400)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if "client_assertion" in form:
            refusal = _assertion_refusal(form, f"{request.url.scheme}://{request.url.netloc}{request.url.path}", state)
            with state.lock:
                state.last_refusal = refusal
            if refusal is not None:
                return JSONResponse({"error": "invalid_client", "error_description": refusal}, status_code=401)
        elif form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
                status_code=401,
            )
        with state.lock:
            state.tokens_issued += 1
        return JSONResponse({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN})

    return Starlette(
        routes=[
            Route(GRAPH_PREFIX + "/planner/plans/{plan_id}/tasks", guarded(tasks)),
            Route(GRAPH_PREFIX + "/planner/plans/{plan_id}/buckets", guarded(buckets)),
            Route(GRAPH_PREFIX + "/planner/tasks/{task_id}/details", guarded(details)),
            Route(GRAPH_PREFIX + "/users/{user_id}", guarded(user)),
            Route("/{tenant}/v2.0/.well-known/openid-configuration", openid),
            Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        ]
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeGraphServer:
    """Serves ``build_app(state)`` from a thread; ``url`` is the Graph base URL (``…/v1.0``)."""

    def __init__(self, state: FakeGraphState, *, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        self.state = state
        self.port = _free_port()
        scheme = "https" if certfile else "http"
        self.origin = f"{scheme}://127.0.0.1:{self.port}"
        self.url = self.origin + GRAPH_PREFIX
        config = uvicorn.Config(
            build_app(state),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-graph", daemon=True)

    def __enter__(self) -> FakeGraphServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake Graph server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._server.force_exit = True  # clients' keep-alive connections are not waited for
        self._thread.join(timeout=10)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), for serving the fake over HTTPS as MSAL requires."""
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "fake-graph.crt", directory / "fake-graph.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certfile, keyfile
