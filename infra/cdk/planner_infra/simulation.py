"""Simulations at scale: ``runSimulation`` queues a run on SQS; the worker runs it, or, above
``FANOUT_ITERATIONS``, starts a Step Functions Map over shard functions whose results the merge
function combines (the engine's shards merge exactly). Progress and completion go through the
outbox like every other change."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .events import dead_letter_queue
from .functions import FunctionFactory
from .settings import (
    SIMULATION_MERGE_HANDLER,
    SIMULATION_SHARD_HANDLER,
    SIMULATION_WORKER_HANDLER,
)

#: A run of more iterations than this fans out over the state machine; smaller ones run in the worker.
FANOUT_ITERATIONS = 200_000
#: Shards run at once (the run's ``shards``, at most 64, are the Map's items).
MAX_CONCURRENT_SHARDS = 16
WORKER_TIMEOUT = Duration.minutes(5)
#: A message is retried this often before it goes to the dead-letter queue.
MAX_RECEIVE_COUNT = 3


class Simulation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = dead_letter_queue(self, "RunsDlq")
        self.queue = sqs.Queue(
            self,
            "Runs",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Six times the worker's timeout, as Lambda's SQS poller recommends.
            visibility_timeout=Duration.minutes(30),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.shard = functions.make(
            self,
            "Shard",
            handler=SIMULATION_SHARD_HANDLER,
            description="One shard of a Monte Carlo run",
            in_vpc=True,
            timeout=Duration.minutes(15),
            memory_size=3008,
            environment=environment,
        )
        self.merge = functions.make(
            self,
            "Merge",
            handler=SIMULATION_MERGE_HANDLER,
            description="Merges a run's shards and records the result",
            in_vpc=True,
            timeout=Duration.minutes(5),
            memory_size=2048,
            environment=environment,
        )
        self.state_machine = self._state_machine()
        self.worker = functions.make(
            self,
            "Worker",
            handler=SIMULATION_WORKER_HANDLER,
            description="Runs a queued simulation, or fans a large one out over the state machine",
            in_vpc=True,
            timeout=WORKER_TIMEOUT,
            memory_size=3008,
            environment={
                **environment,
                "PLANNER_SIMULATION_STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
                "PLANNER_SIMULATION_FANOUT_ITERATIONS": str(FANOUT_ITERATIONS),
            },
        )
        self.worker.add_event_source(sources.SqsEventSource(self.queue, batch_size=1, report_batch_item_failures=True))
        self.state_machine.grant_start_execution(self.worker)

    def _state_machine(self) -> sfn.StateMachine:
        shard = tasks.LambdaInvoke(
            self,
            "RunShard",
            lambda_function=self.shard,
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        shards = sfn.Map(
            self,
            "Shards",
            items_path="$.shards",
            item_selector={
                "runId.$": "$.runId",
                "shard.$": "$$.Map.Item.Value",
            },
            max_concurrency=MAX_CONCURRENT_SHARDS,
            result_path="$.shardResults",
        )
        shards.item_processor(shard)
        merge = tasks.LambdaInvoke(
            self,
            "MergeShards",
            lambda_function=self.merge,
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        return sfn.StateMachine(
            self,
            "Fanout",
            definition_body=sfn.DefinitionBody.from_chainable(shards.next(merge)),
            timeout=Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(
                    self,
                    "FanoutLogs",
                    retention=logs.RetentionDays.ONE_MONTH,
                    removal_policy=RemovalPolicy.DESTROY,
                ),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )

    def grant_enqueue(self, grantee: iam.IGrantable) -> None:
        self.queue.grant_send_messages(grantee)

    @property
    def functions(self) -> dict[str, lambda_.Function]:
        return {"SimulationWorker": self.worker, "SimulationShard": self.shard, "SimulationMerge": self.merge}
