"""Alarms on what needs a person (function errors and throttles, anything in a dead-letter queue,
failed fan-outs, AppSync server errors) on an encrypted SNS topic, and one dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: appsync.GraphqlApi,
        functions: dict[str, lambda_.Function],
        dead_letter_queues: dict[str, sqs.Queue],
        state_machine: sfn.StateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(self, "AlarmsKey", enable_key_rotation=True, description="planner alarm topic")
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        self.alarms: list[cloudwatch.Alarm] = []
        for name, function in functions.items():
            self._alarm(f"{name}Errors", function.metric_errors(period=PERIOD), f"{name} failed")
            self._alarm(f"{name}Throttles", function.metric_throttles(period=PERIOD), f"{name} was throttled")
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}DeadLetters",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"events wait in the {name} dead-letter queue",
            )
        self._alarm("FanoutFailed", state_machine.metric_failed(period=PERIOD), "a simulation fan-out failed")
        api_errors = cloudwatch.Metric(
            namespace="AWS/AppSync",
            metric_name="5XXError",
            dimensions_map={"GraphQLAPIId": api.api_id},
            period=PERIOD,
            statistic="Sum",
        )
        self._alarm("ApiServerErrors", api_errors, "AppSync answered 5XX")
        api_latency = cloudwatch.Metric(
            namespace="AWS/AppSync",
            metric_name="Latency",
            dimensions_map={"GraphQLAPIId": api.api_id},
            period=PERIOD,
            statistic="p95",
        )
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=None)
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="AppSync 5XX and p95 latency", left=[api_errors], right=[api_latency]),
            cloudwatch.GraphWidget(
                title="Function errors", left=[f.metric_errors(period=PERIOD) for f in functions.values()]
            ),
            cloudwatch.GraphWidget(
                title="Function p95 duration",
                left=[f.metric_duration(period=PERIOD, statistic="p95") for f in functions.values()],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Dead letters",
                left=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
                    for q in dead_letter_queues.values()
                ],
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms)),
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
