"""Microsoft Graph (v1.0) for the Planner sync: MSAL tokens, httpx calls, paging, throttling."""

from adapters.msgraph.auth import MsalTokens, StaticToken, TokenSource
from adapters.msgraph.certificate import ClientCertificate
from adapters.msgraph.http import GraphHttp, RetryPolicy
from adapters.msgraph.planner import GraphPlanner, planner_graph_from_settings

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
