"""``planner subscribe PLAN_ID``: follow a plan's live events from a running server, one JSON line each.

A graphql-transport-ws client of ``onPlanEvent`` (the ``websockets`` package): the command-line
counterpart of a subscription in GraphiQL. ``--after POSITION`` first prints what was missed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

QUERY = """subscription($planId: ID!, $after: Int) {
  onPlanEvent(planId: $planId, after: $after) { planId kind entityId occurredAt data position }
}"""


def add_parser(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    cmd = sub.add_parser(
        "subscribe",
        help="print a plan's live events from a running server, one JSON line each",
        description=(
            "Follow onPlanEvent on a running `planner serve` until interrupted. Identify with --token (a bearer "
            "token, such as `planner token issue` prints) or, on a development server, --user and --groups."
        ),
    )
    cmd.add_argument("plan_id", metavar="PLAN_ID", help="the plan's id, as the API gives it")
    cmd.add_argument("--url", default="http://127.0.0.1:8000", help="the server (default: %(default)s)")
    cmd.add_argument("--after", type=int, default=None, metavar="POSITION", help="first the events after it")
    cmd.add_argument("--token", default=None, help="a bearer token (sent in connection_init as Authorization)")
    cmd.add_argument("--user", default=None, help="development servers: the X-Planner-User to be")
    cmd.add_argument("--groups", default="", help="development servers: X-Planner-Groups, comma separated")
    cmd.set_defaults(handler=handler)


def connection_payload(args: argparse.Namespace) -> dict[str, str]:
    if args.token:
        return {"Authorization": args.token if args.token.startswith("Bearer ") else f"Bearer {args.token}"}
    if args.user:
        return {"X-Planner-User": args.user, "X-Planner-Groups": args.groups}
    return {}


def websocket_url(url: str) -> str:
    base = url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return base if base.endswith("/graphql") else base + "/graphql"


def follow(args: argparse.Namespace, out: TextIO = sys.stdout) -> str | None:
    """Print events until the subscription ends; None when it ended cleanly, else why it failed."""
    # The websocket client is imported when the command runs, not when `planner` builds its parser.
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect

    variables = {"planId": args.plan_id, "after": args.after}
    try:
        with connect(websocket_url(args.url), subprotocols=["graphql-transport-ws"], open_timeout=30) as ws:  # type: ignore[list-item]
            ws.send(json.dumps({"type": "connection_init", "payload": connection_payload(args)}))
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY, "variables": variables}}))
            for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    ws.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    payload = message.get("payload") or {}
                    if payload.get("errors"):
                        return "; ".join(str(e.get("message")) for e in payload["errors"])
                    print(json.dumps(payload["data"]["onPlanEvent"]), file=out, flush=True)
                elif kind == "error":
                    return "; ".join(str(e.get("message")) for e in message.get("payload") or [])
                elif kind == "complete":
                    return None
    except ConnectionClosed as exc:
        reason = exc.rcvd.reason if exc.rcvd is not None else ""
        code = exc.rcvd.code if exc.rcvd is not None else "none"
        return f"the server closed the connection ({code} {reason})".rstrip()
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        return f"cannot subscribe at {websocket_url(args.url)}: {exc}"
    return None
