"""The event brokers on the real stores: fan-out from the committed outbox, overflow, resume, NOTIFY."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine

from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from adapters.events.outbox_broker import OutboxBroker
from adapters.events.postgres_notify import PostgresNotifyBroker
from planning.commands import CreatePlan, CreateTask
from planning.events import OutboxMessage, PlanEventKind
from planning.principal import Principal
from schema.root import build_schema
from subscriptions.broker import SubscriberTooSlow
from tests.conftest import _empty_postgres

ADMIN = Principal("admin@example.com", frozenset({"admin"}))


def _plan(app: Application) -> str:
    return app.services.plans.create(CreatePlan(name="P"), ADMIN).id


def _tasks(app: Application, plan_id: str, *titles: str) -> None:
    for title in titles:
        app.services.tasks.create(CreateTask(plan_id=plan_id, title=title, duration_days=1), ADMIN)


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (a hang guard, not a measurement)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


async def _until_title(messages: AsyncIterator[OutboxMessage], title: str) -> list[OutboxMessage]:
    got = [await anext(messages)]
    while got[-1].event.data.get("title") != title:
        got.append(await anext(messages))
    return got


async def _take(messages: AsyncIterator[OutboxMessage], count: int) -> list[OutboxMessage]:
    return [await anext(messages) for _ in range(count)]


def test_an_overflowing_subscriber_is_told_and_resumes_from_its_position(app: Application) -> None:
    plan = _plan(app)
    broker = OutboxBroker(app.engine, poll_s=0.05, queue_size=2)
    broker.start()

    async def scenario() -> None:
        behind = broker.follow(plan, None)
        healthy = broker.follow(plan, None)
        healthy_messages = healthy.messages()
        # The healthy subscriber reads each change as it comes; the other reads nothing meanwhile.
        got = []
        for title in ("a", "b", "c"):
            await asyncio.to_thread(_tasks, app, plan, title)
            got += await _take(healthy_messages, 1)
        assert [m.event.data["title"] for m in got] == ["a", "b", "c"]
        # The reader hands each message to the followers one after the other: the third may
        # reach the healthy one before the other. Wait (bounded) until it reached both.
        deadline = time.monotonic() + 10
        while not behind.overflowed:
            assert time.monotonic() < deadline, "the third message never reached the slow subscriber"
            await asyncio.sleep(0.01)
        with pytest.raises(SubscriberTooSlow) as too_slow:
            await anext(behind.messages())
        behind.close()
        resumed = broker.follow(plan, too_slow.value.position)
        again = await _take(resumed.messages(), 3)
        assert [m.position for m in again] == [m.position for m in got]
        resumed.close()
        healthy.close()
        assert broker.follower_count == 0

    try:
        asyncio.run(scenario())
    finally:
        broker.stop()


def test_a_follow_from_a_position_replays_the_plan_then_goes_live_without_gap_or_repeat(app: Application) -> None:
    plan, other = _plan(app), _plan(app)
    _tasks(app, plan, "old 1", "old 2")
    _tasks(app, other, "elsewhere")
    broker = OutboxBroker(app.engine, poll_s=0.05)
    broker.start()

    async def scenario() -> None:
        follow = broker.follow(plan, 0)
        messages = follow.messages()
        replayed = await _until_title(messages, "old 2")
        await asyncio.to_thread(_tasks, app, plan, "new")
        live = await _until_title(messages, "new")
        kinds = [m.event.kind for m in replayed + live]
        assert kinds[0] is PlanEventKind.PLAN_CREATED
        titles = [m.event.data.get("title") for m in replayed + live if m.event.kind is PlanEventKind.TASK_CREATED]
        assert titles == ["old 1", "old 2", "new"]
        positions = [m.position for m in replayed + live]
        assert positions == sorted(set(positions))
        assert {m.event.plan_id for m in replayed + live} == {plan}
        follow.close()

    try:
        asyncio.run(scenario())
    finally:
        broker.stop()


@pytest.fixture
def postgres_settings(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Settings]:
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    yield Settings(database_url=url, graph_url=f"gremlite:{tmp_path}/graph.db", data_dir=str(tmp_path))
    _empty_postgres(url)


def test_postgres_notify_wakes_a_broker_for_a_commit_from_another_connection(postgres_settings: Settings) -> None:
    """The broker polls once an hour here: only the NOTIFY of the committing transaction wakes it."""
    writer = bootstrap(postgres_settings)  # another application: its commits wake only its own broker
    reader_engine = create_engine(postgres_settings.database_url)
    broker = PostgresNotifyBroker(reader_engine, postgres_settings.database_url, poll_s=3600)
    try:
        plan = _plan(writer)
        broker.start()

        async def scenario() -> None:
            await _until(lambda: broker.listening)
            follow = broker.follow(plan, None)
            await asyncio.to_thread(_tasks, writer, plan, "notified")
            (message,) = await _take(follow.messages(), 1)
            assert (message.event.kind, message.event.data["title"]) == (PlanEventKind.TASK_CREATED, "notified")
            follow.close()

        asyncio.run(scenario())
    finally:
        broker.stop()
        reader_engine.dispose()
        writer.close()


class _TooSlowFollow:
    async def _messages(self) -> AsyncIterator[OutboxMessage]:
        raise SubscriberTooSlow(41)
        yield  # pragma: no cover - makes this an async generator

    def messages(self) -> AsyncIterator[OutboxMessage]:
        return self._messages()

    def close(self) -> None:
        pass


class _TooSlowBroker:
    def follow(self, plan_id: str, after: int | None) -> _TooSlowFollow:
        return _TooSlowFollow()

    def position_before(self, plan_id: str, entity_id: str) -> int | None:
        return None


class _Connection:
    """A ``LiveContext`` that records how the connection was closed."""

    def __init__(self, app: Application) -> None:
        self.services = app.services
        self.principal = ADMIN
        self.events = _TooSlowBroker()
        self.closed: list[tuple[int, str]] = []

    async def disconnect(self, code: int, reason: str) -> None:
        self.closed.append((code, reason))


def test_a_subscriber_too_slow_for_its_queue_is_disconnected_with_4429_and_its_position(app: Application) -> None:
    from resolvers.ids import to_global_id

    plan = _plan(app)
    connection = _Connection(app)

    async def scenario() -> list[Any]:
        stream = await build_schema().subscribe(
            "subscription($p: ID!) { onPlanEvent(planId: $p) { kind } }",
            variable_values={"p": to_global_id("Plan", plan)},
            context_value=connection,
        )
        assert not isinstance(stream, dict)
        return [result async for result in stream]  # type: ignore[union-attr]

    results = asyncio.run(scenario())
    assert results == []
    assert connection.closed == [(4429, "too slow; resubscribe with after: 41")]
