"""Microsoft Graph (v1.0) for the Planner sync: MSAL tokens, httpx calls, paging, throttling."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adapters.msgraph.planner import GraphPlanner, planner_graph_from_settings

if TYPE_CHECKING:
    from adapters.msgraph.auth import MsalTokens, StaticToken, TokenSource
    from adapters.msgraph.certificate import ClientCertificate
    from adapters.msgraph.http import GraphHttp, RetryPolicy

__all__ = [
    "ClientCertificate",
    "GraphHttp",
    "GraphPlanner",
    "MsalTokens",
    "RetryPolicy",
    "StaticToken",
    "TokenSource",
    "planner_graph_from_settings",
]

#: Re-exports whose modules import MSAL or httpx: loaded on first use (PEP 562), so that a server
#: without Graph configured never imports them (cold start).
_LAZY = {
    "ClientCertificate": "adapters.msgraph.certificate",
    "GraphHttp": "adapters.msgraph.http",
    "RetryPolicy": "adapters.msgraph.http",
    "MsalTokens": "adapters.msgraph.auth",
    "StaticToken": "adapters.msgraph.auth",
    "TokenSource": "adapters.msgraph.auth",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
