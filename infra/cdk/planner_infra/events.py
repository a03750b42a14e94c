"""The publish path: the outbox relay puts domain events on a custom EventBridge bus (archived for
replay); a rule sends them to the publisher, which calls the IAM-only publish mutations so that
AppSync pushes them to subscribers. A target that keeps failing leaves its event in an SQS
dead-letter queue instead of losing it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .functions import FunctionFactory
from .settings import EVENT_SOURCE, OUTBOX_RELAY_HANDLER, PUBLISHER_HANDLER, Stage

#: The outbox is drained this often (and by the relay's own loop within one run).
OUTBOX_RELAY_RATE = Duration.minutes(1)
ARCHIVE_RETENTION = Duration.days(30)


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """Encrypted, TLS only, kept 14 days: the longest SQS allows, to give people time to look."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=RemovalPolicy.RETAIN,
    )


class Events(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        database_environment: dict[str, str],
        publisher_environment: dict[str, str],
        stage: Stage,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"planner-{stage.name}")
        self.archive = self.bus.archive(
            "Archive",
            description="Every planner event, for replay",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            retention=ARCHIVE_RETENTION,
        )
        self.publisher = functions.make(
            self,
            "Publisher",
            handler=PUBLISHER_HANDLER,
            description="EventBridge to AppSync: publishPlanEvent / publishSimulationProgress (SigV4)",
            in_vpc=False,
            timeout=Duration.seconds(30),
            memory_size=512,
            environment=publisher_environment,
        )
        self.publisher_dlq = dead_letter_queue(self, "PublisherDlq")
        self.publish_rule = events.Rule(
            self,
            "ToSubscribers",
            event_bus=self.bus,
            description="Every planner event goes to the subscribers through AppSync",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            targets=[
                targets.LambdaFunction(
                    self.publisher,
                    dead_letter_queue=self.publisher_dlq,
                    retry_attempts=8,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        self.relay = functions.make(
            self,
            "OutboxRelay",
            handler=OUTBOX_RELAY_HANDLER,
            description="Outbox to EventBridge, in commit order",
            in_vpc=True,
            timeout=Duration.seconds(55),
            memory_size=512,
            environment={**database_environment, "PLANNER_EVENT_BUS_NAME": self.bus.event_bus_name},
            # One relay at a time keeps the outbox's order on the bus.
            reserved_concurrent_executions=1,
        )
        self.bus.grant_put_events_to(self.relay)
        self.relay_dlq = dead_letter_queue(self, "OutboxRelayDlq")
        self.relay_rule = events.Rule(
            self,
            "RelaySchedule",
            description="Drain the outbox",
            schedule=events.Schedule.rate(OUTBOX_RELAY_RATE),
            targets=[targets.LambdaFunction(self.relay, dead_letter_queue=self.relay_dlq, retry_attempts=0)],
        )

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {"Publisher": self.publisher_dlq, "OutboxRelay": self.relay_dlq}

    @property
    def functions(self) -> dict[str, lambda_.Function]:
        return {"Publisher": self.publisher, "OutboxRelay": self.relay}
