"""The Microsoft Planner sync, run every five minutes by an EventBridge schedule. Its Microsoft
Graph app credentials live in a Secrets Manager secret that operators fill in."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .events import dead_letter_queue
from .functions import FunctionFactory
from .settings import PLANNER_SYNC_HANDLER

PLANNER_SYNC_RATE = Duration.minutes(5)


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: FunctionFactory, environment: dict[str, str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.graph_credentials = secretsmanager.Secret(
            self,
            "MicrosoftGraphCredentials",
            description="Microsoft Graph app registration for the Planner sync: tenantId, clientId, clientSecret",
        )
        self.planner_sync = functions.make(
            self,
            "PlannerSync",
            handler=PLANNER_SYNC_HANDLER,
            description="Keeps plans and tasks in step with Microsoft Planner",
            in_vpc=True,
            timeout=Duration.minutes(4),
            memory_size=1024,
            environment={**environment, "PLANNER_MSGRAPH_SECRET_ARN": self.graph_credentials.secret_arn},
            # Two syncs at once would race on the same plans; the next tick catches up.
            reserved_concurrent_executions=1,
        )
        self.graph_credentials.grant_read(self.planner_sync)
        self.dlq = dead_letter_queue(self, "PlannerSyncDlq")
        self.rule = events.Rule(
            self,
            "PlannerSyncSchedule",
            description="Microsoft Planner sync every five minutes",
            schedule=events.Schedule.rate(PLANNER_SYNC_RATE),
            targets=[targets.LambdaFunction(self.planner_sync, dead_letter_queue=self.dlq, retry_attempts=0)],
        )
