"""The outbox relay: committed events land on the EventBridge bus (moto) under their detail-types,
in order, and the relay's checkpoint moves only past what the bus accepted."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from adapters.events.detail_types import DETAIL_TYPES
from adapters.events.eventbridge import message_detail, message_from_detail
from adapters.sql import SqlUnitOfWork, create_store_engine, upgrade
from planning.events import OutboxMessage, PlanEvent, PlanEventKind
from planning.services.event_relay import EVENT_BUS_CONSUMER, OutboxRelay
from tests.lambda_context import LambdaContext, saved_event

BUS = "planner-test"
KINDS = [
    PlanEventKind.PLAN_CREATED,
    PlanEventKind.TASK_CREATED,
    PlanEventKind.DEPENDENCY_ADDED,
    PlanEventKind.EXTERNAL_EVENT_RECEIVED,
    PlanEventKind.ACTION_PROPOSED,
    PlanEventKind.SIMULATION_COMPLETED,
]


@pytest.fixture
def uow(database_url: str) -> Iterator[object]:
    engine = create_store_engine(database_url)
    upgrade(engine)
    yield lambda: SqlUnitOfWork(engine)
    engine.dispose()


def _commit(uow: object, kinds: Sequence[PlanEventKind]) -> None:
    with uow() as unit:  # type: ignore[operator]
        for i, kind in enumerate(kinds):
            data = {"id": f"e{i}", "planId": "p1", "title": "Design"}
            unit.outbox.append(PlanEvent("p1", kind, f"e{i}", datetime(2025, 2, 5, 10, i, tzinfo=UTC), data))
        unit.commit()


def _checkpoint(uow: object) -> int:
    with uow() as unit:  # type: ignore[operator]
        return int(unit.outbox.checkpoint(EVENT_BUS_CONSUMER))


def test_every_kind_has_its_own_detail_type_after_the_seeds_names() -> None:
    assert set(DETAIL_TYPES) == set(PlanEventKind)
    assert len(set(DETAIL_TYPES.values())) == len(DETAIL_TYPES)
    assert DETAIL_TYPES[PlanEventKind.TASK_CREATED] == "task.created"
    assert DETAIL_TYPES[PlanEventKind.EXTERNAL_EVENT_RECEIVED] == "external.event.received"
    assert DETAIL_TYPES[PlanEventKind.ACTION_PROPOSED] == "agent.action.proposed"
    assert DETAIL_TYPES[PlanEventKind.SIMULATION_COMPLETED] == "monte_carlo.simulation.completed"


def test_detail_reads_back_as_the_message() -> None:
    message = OutboxMessage(
        7, PlanEvent("p", PlanEventKind.TASK_UPDATED, "t", datetime(2025, 1, 1, tzinfo=UTC), {"a": 1})
    )
    assert message_from_detail(json.loads(json.dumps(message_detail(message)))) == message


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def _capture_bus() -> str:
    """The bus, with a rule sending every planner event to a queue the test reads."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="captured")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["planner"]}))
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
    return queue_url


def _captured(queue_url: str) -> list[dict]:
    sqs = boto3.client("sqs")
    found: list[dict] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found += [json.loads(m["Body"]) for m in batch]
        for m in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def test_relay_handler_puts_the_outbox_on_the_bus_and_moves_its_checkpoint(
    aws: None, uow: object, database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.appsync import outbox_relay

    queue_url = _capture_bus()
    monkeypatch.setenv("PLANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{tmp_path}/graph.db")
    monkeypatch.setenv("PLANNER_EVENT_BUS_NAME", BUS)
    kinds = KINDS * 3  # 18 events: two PutEvents batches
    _commit(uow, kinds)

    answer = outbox_relay.handler(saved_event("scheduled.json"), LambdaContext())

    assert answer == {"relayed": 18, "position": answer["position"], "stuck": None}
    assert answer["position"] == _checkpoint(uow) > 0
    got = _captured(queue_url)
    assert len(got) == 18
    by_position = sorted(got, key=lambda e: e["detail"]["position"])
    assert [e["detail-type"] for e in by_position] == [DETAIL_TYPES[k] for k in kinds]
    assert {e["source"] for e in got} == {"planner"}
    assert [e["detail"]["kind"] for e in by_position] == [k.value for k in kinds]
    assert by_position[-1]["detail"]["position"] == answer["position"]

    # Nothing new: nothing relayed again, the checkpoint stays.
    again = outbox_relay.handler(saved_event("scheduled.json"), LambdaContext())
    assert again["relayed"] == 0
    assert again["position"] == answer["position"]
    assert _captured(queue_url) == []


class RefusingBus:
    """Accepts what ``accept`` says, per call, and records every put."""

    def __init__(self, refuse: dict[int, int]) -> None:
        #: outbox position -> how many more times it is refused
        self.refuse = dict(refuse)
        self.puts: list[list[int]] = []

    def put(self, messages: Sequence[OutboxMessage]) -> list[bool]:
        self.puts.append([m.position for m in messages])
        flags = []
        for m in messages:
            left = self.refuse.get(m.position, 0)
            self.refuse[m.position] = left - 1
            flags.append(left <= 0)
        return flags


def test_refused_entries_are_retried_alone_and_the_checkpoint_stops_before_one_still_refused(uow: object) -> None:
    _commit(uow, KINDS * 4)  # 24 events
    with uow() as unit:  # type: ignore[operator]
        positions = [m.position for m in unit.outbox.read_after(0, 100)]
    flaky, stuck = positions[3], positions[15]
    bus = RefusingBus({flaky: 1, stuck: 10})

    progress = OutboxRelay(uow, bus, attempts=3).relay_once()  # type: ignore[arg-type]

    assert bus.puts[0] == positions[0:10]
    assert bus.puts[1] == [flaky]  # only the refused entry is put again
    assert bus.puts[2] == positions[10:20]
    assert bus.puts[3:] == [[stuck], [stuck]]
    assert progress.stuck == stuck
    assert progress.position == positions[14] == _checkpoint(uow)

    # The bus takes it now: the next pass starts at the stuck event and drains the rest.
    bus.refuse[stuck] = 0
    bus.puts.clear()
    drained = OutboxRelay(uow, bus).relay_all()  # type: ignore[arg-type]
    assert bus.puts[0][0] == stuck
    assert drained.stuck is None
    assert drained.position == positions[-1] == _checkpoint(uow)
