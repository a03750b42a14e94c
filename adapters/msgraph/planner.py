"""``PlannerGraph`` over Microsoft Graph v1.0: a plan's tasks page by page, buckets, task details,
and users' e-mail addresses (cached: a plan's assignees are a handful of people)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from planning.ports.planner import PlannerTaskRecord, PlannerUnavailable

if TYPE_CHECKING:
    from adapters.msgraph.auth import TokenSource
    from adapters.msgraph.http import GraphHttp

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"


class GraphPlanner:
    def __init__(self, http: GraphHttp) -> None:
        self._http = http
        self._emails: dict[str, str | None] = {}
        self._emails_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def task_pages(self, planner_plan_id: str) -> Iterator[Sequence[PlannerTaskRecord]]:
        for page in self._pages(f"planner/plans/{_segment(planner_plan_id)}/tasks", "Planner plan"):
            yield [_task(item) for item in page]

    def buckets(self, planner_plan_id: str) -> Mapping[str, str]:
        found: dict[str, str] = {}
        for page in self._pages(f"planner/plans/{_segment(planner_plan_id)}/buckets", "Planner plan"):
            for item in page:
                found[str(item["id"])] = str(item.get("name") or "")
        return found

    def task_details(self, planner_task_id: str) -> Mapping[str, Any]:
        body = self._http.get_json(self._http.url(f"planner/tasks/{_segment(planner_task_id)}/details"))
        if body is None:
            raise PlannerUnavailable("the Planner task was not found (or the app may not read it)")
        return body

    def user_email(self, user_id: str) -> str | None:
        with self._emails_lock:
            if user_id in self._emails:
                return self._emails[user_id]
        body = self._http.get_json(
            self._http.url(f"users/{_segment(user_id)}"), {"$select": "id,mail,userPrincipalName"}
        )
        email = None
        if body is not None:
            email = body.get("mail") or body.get("userPrincipalName") or None
        with self._emails_lock:
            self._emails[user_id] = email
        return email

    def _pages(self, path: str, what: str) -> Iterator[list[dict[str, Any]]]:
        url: str | None = self._http.url(path)
        while url is not None:
            body = self._http.get_json(url)
            if body is None:
                raise PlannerUnavailable(f"the {what} was not found (or the app may not read it)")
            items = body.get("value")
            if not isinstance(items, list):
                raise PlannerUnavailable(f"Graph answered a page without a value list for {urlsplit(url).path}")
            yield [i for i in items if isinstance(i, dict)]
            link = body.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None


def _segment(value: str) -> str:
    return quote(value, safe="")


def _task(item: Mapping[str, Any]) -> PlannerTaskRecord:
    try:
        assignments = item.get("assignments") or {}
        return PlannerTaskRecord(
            id=str(item["id"]),
            etag=str(item["@odata.etag"]),
            title=str(item.get("title") or ""),
            percent_complete=int(item.get("percentComplete") or 0),
            start=_when(item.get("startDateTime")),
            due=_when(item.get("dueDateTime")),
            bucket_id=item.get("bucketId") or None,
            assignee_ids=tuple(sorted(str(k) for k in assignments)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlannerUnavailable(f"Graph answered a Planner task that cannot be read ({exc})") from None


def _when(value: Any) -> datetime | None:
    """Graph's ``DateTimeOffset`` (ISO 8601, ``Z`` for UTC, up to seven fraction digits)."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text)


def planner_graph_from_settings(
    *,
    url: str,
    token: str | None,
    tenant_id: str | None,
    client_id: str | None,
    client_secret: str | None,
    authority_host: str,
    client_secret_arn: str | None = None,
    client_certificate_path: str | None = None,
    client_certificate_password: str | None = None,
) -> GraphPlanner | None:
    """The Graph client the settings describe; None when Graph is not configured."""
    credential = client_secret or client_secret_arn or client_certificate_path
    if not token and not (tenant_id and client_id and credential):
        return None
    # MSAL, httpx and cryptography are imported once Graph is configured, not at every server
    # start (cold start).
    from adapters.msgraph.auth import MsalTokens, StaticToken, secret_from_secrets_manager
    from adapters.msgraph.certificate import ClientCertificate
    from adapters.msgraph.http import GraphHttp

    tokens: TokenSource
    parts = urlsplit(url)
    if token:
        tokens = StaticToken(token)
    elif client_certificate_path:
        tokens = MsalTokens(
            tenant_id=str(tenant_id),
            client_id=str(client_id),
            client_certificate=ClientCertificate.from_pem_file(client_certificate_path, client_certificate_password),
            scope=f"{parts.scheme}://{parts.netloc}/.default",
            authority_host=authority_host,
        )
    else:
        tokens = MsalTokens(
            tenant_id=str(tenant_id),
            client_id=str(client_id),
            client_secret=client_secret or secret_from_secrets_manager(str(client_secret_arn)),
            scope=f"{parts.scheme}://{parts.netloc}/.default",
            authority_host=authority_host,
        )
    return GraphPlanner(GraphHttp(url, tokens))
