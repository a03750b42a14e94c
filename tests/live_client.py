"""Real servers and a real websocket client for the live-update tests.

``ThreadServer`` serves an application with uvicorn (websockets-sansio, as `planner serve` does)
on a thread of the test process; ``LiveClient`` speaks graphql-transport-ws (or the legacy
graphql-ws) over the ``websockets`` package, as a frontend does.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import uvicorn
from websockets.sync.client import ClientConnection, connect

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application

#: How long a test waits for one message before it fails (a hang guard, not a measurement).
RECEIVE_TIMEOUT_S = 60.0

PLAN_EVENTS = """subscription($planId: ID!, $after: Int) {
  onPlanEvent(planId: $planId, after: $after) { planId kind entityId occurredAt data position }
}"""
SIMULATION_PROGRESS = """subscription($id: ID!) {
  onSimulationProgress(simulationId: $id) { simulationId planId status progress completedIterations }
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadServer:
    def __init__(self, app: Application) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_asgi_app(app),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            ws="websockets-sansio",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="test-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive(), "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)


def open_websocket(url: str, protocol: str = "graphql-transport-ws", **options: Any) -> ClientConnection:
    """A websocket to the server's /graphql (closed by its owner)."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    return connect(ws_url, subprotocols=[protocol], open_timeout=30, **options).__enter__()  # type: ignore[list-item]


class LiveClient:
    """One websocket connection; ``payload`` is the connection_init payload."""

    def __init__(self, url: str, payload: dict[str, Any] | None = None, protocol: str = "graphql-transport-ws") -> None:
        self.protocol = protocol
        self.ws: ClientConnection = open_websocket(url, protocol)
        self.send({"type": "connection_init", "payload": payload or {}})
        ack = self.receive()
        assert ack["type"] == "connection_ack", ack
        self._ids = 0

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self) -> dict[str, Any]:
        """The next message, keep-alives and pings left out (pings are answered)."""
        while True:
            message: dict[str, Any] = json.loads(self.ws.recv(timeout=RECEIVE_TIMEOUT_S))
            if message["type"] == "ping":
                self.send({"type": "pong"})
                continue
            if message["type"] in ("ka", "pong"):
                continue
            return message

    def subscribe(self, query: str, variables: dict[str, Any], name: str | None = None) -> str:
        self._ids += 1
        op = str(self._ids)
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        payload = {"query": query, "variables": variables, "operationName": name}
        self.send({"id": op, "type": kind, "payload": payload})
        return op

    def next(self, op: str) -> dict[str, Any]:
        """The next result of ``op`` (its data; fails on errors or an end)."""
        message = self.receive()
        assert message.get("id") == op, message
        assert message["type"] in ("next", "data"), message
        assert not message["payload"].get("errors"), message["payload"]["errors"]
        return dict(message["payload"]["data"])

    def receive_error(self, op: str) -> dict[str, Any]:
        """The error that ends ``op`` (then its end)."""
        message = self.receive()
        assert message.get("id") == op, message
        if message["type"] == "error":
            return dict(message["payload"][0])
        assert message["type"] in ("next", "data"), message
        assert message["payload"].get("errors"), message
        assert message["payload"].get("data") is None, message
        end = self.receive()
        assert (end.get("id"), end["type"]) == (op, "complete"), end
        return dict(message["payload"]["errors"][0])

    def event(self, op: str) -> dict[str, Any]:
        event: dict[str, Any] = self.next(op)["onPlanEvent"]
        event["data"] = json.loads(event["data"])
        return event

    def events_until(self, op: str, kind: str) -> list[dict[str, Any]]:
        """Events of ``op`` up to and with the first of ``kind``."""
        seen = [self.event(op)]
        while seen[-1]["kind"] != kind:
            seen.append(self.event(op))
        return seen

    def close(self) -> None:
        self.ws.close()
