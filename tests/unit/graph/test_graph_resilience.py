"""Retries with full-jitter back-off, reconnects, attempt caps: fake callables, no waiting."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.driver.remote_connection import RemoteStrategy
from gremlin_python.process.anonymous_traversal import traversal

from adapters.graph.resilience import Failure, RetryingExecutor, RetryPolicy, classify
from planning.ports.graph import GraphUnavailable

CME = '{"requestId":"r1","code":"ConcurrentModificationException","detailedMessage":"Failed to complete Insert"}'


def server_error(message: str, code: int = 500, attributes: dict[str, Any] | None = None) -> GremlinServerError:
    return GremlinServerError({"code": code, "message": message, "attributes": attributes or {}})


class FakeRemote:
    def __init__(self, name: str) -> None:
        self.name = name
        self.g = traversal().with_remote(self)
        self.commits = 0
        self.rollbacks = 0
        self.closed = False

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1

    def close(self) -> None:
        self.closed = True


class Harness:
    def __init__(self, policy: RetryPolicy | None = None, clock: list[float] | None = None) -> None:
        self.remotes: list[FakeRemote] = []
        self.sleeps: list[float] = []
        self.now = clock or [0.0]
        self.executor = RetryingExecutor(
            self.connect,
            policy or RetryPolicy(max_attempts=4, base_delay_s=0.1, max_delay_s=1.0, max_elapsed_s=None),
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            clock=lambda: self.now[0],
        )

    def connect(self) -> FakeRemote:
        remote = FakeRemote(f"r{len(self.remotes)}")
        self.remotes.append(remote)
        return remote


def remote_of(g: Any) -> Any:
    """The RemoteConnection a traversal source submits to."""
    (strategy,) = [s for s in g.traversal_strategies.traversal_strategies if isinstance(s, RemoteStrategy)]
    return strategy.remote_connection


def failing(*errors: BaseException, result: object = "ok"):  # type: ignore[no-untyped-def]
    calls: list[Any] = []

    def submit(g: Any) -> object:
        calls.append(g)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return submit, calls


def test_concurrent_modification_is_retried_then_succeeds() -> None:
    h = Harness()
    submit, calls = failing(server_error(CME), server_error(CME))
    assert h.executor.run(submit) == "ok"
    assert len(calls) == 3
    assert h.sleeps == [pytest.approx(0.05), pytest.approx(0.1)]  # rand 0.5 * (0.1, 0.2)
    assert len(h.remotes) == 1  # a conflict keeps the connection
    assert h.remotes[0].rollbacks == 2
    assert h.remotes[0].commits == 1


def test_cme_recognised_in_status_attributes_too() -> None:
    err = server_error("500: error", attributes={"exceptions": ["ConcurrentModificationException"]})
    assert classify(err) is Failure.CONFLICT


def test_non_retryable_error_is_raised_at_once() -> None:
    h = Harness()
    submit, calls = failing(server_error('{"code":"MalformedQueryException"}', code=597))
    with pytest.raises(GremlinServerError):
        h.executor.run(submit)
    assert len(calls) == 1
    assert h.sleeps == []


def test_plain_bug_is_not_retried() -> None:
    h = Harness()
    submit, calls = failing(KeyError("task_id"))
    with pytest.raises(KeyError):
        h.executor.run(submit)
    assert len(calls) == 1


def test_attempts_are_capped() -> None:
    h = Harness()
    submit, calls = failing(*[server_error(CME)] * 10)
    with pytest.raises(GraphUnavailable) as raised:
        h.executor.run(submit)
    assert isinstance(raised.value.__cause__, GremlinServerError)
    assert len(calls) == 4
    assert len(h.sleeps) == 3


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=0.5)
    assert [policy.backoff(n, lambda: 1.0) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert policy.backoff(3, lambda: 0.0) == 0.0


def test_elapsed_budget_stops_retrying() -> None:
    clock = [0.0]
    h = Harness(RetryPolicy(max_attempts=10, max_elapsed_s=5.0), clock=clock)

    def submit(g: Any) -> None:
        clock[0] += 3.0
        raise server_error(CME)

    with pytest.raises(GraphUnavailable):
        h.executor.run(submit)
    assert len(h.sleeps) == 1  # failed at t=3 (retry), at t=6 out of budget


def test_connection_is_rebuilt_after_a_disconnect() -> None:
    h = Harness()
    submit, calls = failing(RuntimeError("Connection was closed by server."), ConnectionResetError("reset"))
    assert h.executor.run(submit) == "ok"
    assert len(h.remotes) == 3
    assert h.remotes[0].closed
    assert h.remotes[1].closed
    assert not h.remotes[2].closed
    # each attempt ran on the connection current at the time
    assert [remote_of(g) for g in calls] == h.remotes
    assert h.executor.connects == 3


def test_a_failing_handshake_is_retried_with_a_new_connect() -> None:
    attempts: list[int] = []
    sleeps: list[float] = []

    def connect() -> FakeRemote:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionRefusedError("refused")
        return FakeRemote("ok")

    executor = RetryingExecutor(connect, RetryPolicy(max_elapsed_s=None), sleep=sleeps.append, rand=lambda: 0.0)
    assert executor.run(lambda g: 42) == 42
    assert len(attempts) == 2
    assert sleeps == [0.0]


def test_read_only_after_failover_reconnects() -> None:
    h = Harness()
    submit, _ = failing(server_error('{"code":"ReadOnlyViolationException"}'))
    assert h.executor.run(submit) == "ok"
    assert len(h.remotes) == 2
    assert h.remotes[0].closed


def test_sqlite_locked_is_a_conflict_but_other_sqlite_errors_are_not() -> None:
    assert classify(sqlite3.OperationalError("database is locked")) is Failure.CONFLICT
    assert classify(sqlite3.OperationalError("no such table: quads")) is Failure.FATAL


def test_evaluation_timeout_is_sent_as_a_request_option() -> None:
    h = Harness(RetryPolicy(evaluation_timeout_ms=1234))
    captured: list[Any] = []
    h.executor.run(lambda g: captured.append(g.V().count().bytecode))
    options = DriverRemoteConnection._extract_request_options(captured[0])
    assert options == {"evaluationTimeout": 1234}


def test_no_timeout_option_when_disabled() -> None:
    h = Harness(RetryPolicy(evaluation_timeout_ms=None))
    captured: list[Any] = []
    h.executor.run(lambda g: captured.append(g.V().count().bytecode))
    assert DriverRemoteConnection._extract_request_options(captured[0]) is None


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
