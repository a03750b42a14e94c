"""The publish path, the simulation fan-out, the Planner schedule and the alarms in the template."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized


def _function_id(synthesized: Synthesized, handler: str) -> str:
    (logical_id,) = synthesized.template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    return logical_id


def test_every_queue_is_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    assert len(queues) == 5
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in queues.values())
    denied = [
        statement
        for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denied) == 5


def test_bus_archive_and_the_rule_to_the_publisher_with_a_dead_letter_queue(synthesized: Synthesized) -> None:
    ((bus_id, _),) = synthesized.resources("AWS::Events::EventBus").items()
    synthesized.template.has_resource_properties(
        "AWS::Events::Archive",
        {
            "SourceArn": {"Fn::GetAtt": [bus_id, "Arn"]},
            "EventPattern": {"source": ["planner"]},
            "RetentionDays": 30,
        },
    )
    publisher = _function_id(synthesized, "adapters.appsync.publisher.handler")
    dlq = synthesized.logical_id(synthesized.stack.events.publisher_dlq)
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": bus_id},
            "EventPattern": {"source": ["planner"]},
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [publisher, "Arn"]},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}},
                        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200},
                    }
                )
            ],
        },
    )


def test_the_publisher_may_call_the_publish_mutations_only(synthesized: Synthesized) -> None:
    publisher = _function_id(synthesized, "adapters.appsync.publisher.handler")
    role = synthesized.resources("AWS::Lambda::Function")[publisher]["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy,) = [
        p["Properties"]
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    appsync = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "appsync:GraphQL"]
    (statement,) = appsync
    tails = sorted(part["Fn::Join"][1][-1] for part in statement["Resource"])
    assert tails == ["/types/Mutation/fields/publishPlanEvent", "/types/Mutation/fields/publishSimulationProgress"]
    assert "VpcConfig" not in synthesized.resources("AWS::Lambda::Function")[publisher]["Properties"]


def test_the_outbox_relay_puts_events_on_the_bus_alone_one_at_a_time(synthesized: Synthesized) -> None:
    ((bus_id, _),) = synthesized.resources("AWS::Events::EventBus").items()
    relay = _function_id(synthesized, "adapters.appsync.outbox_relay.handler")
    relay_props = synthesized.resources("AWS::Lambda::Function")[relay]["Properties"]
    assert relay_props["ReservedConcurrentExecutions"] == 1
    assert relay_props["Environment"]["Variables"]["PLANNER_EVENT_BUS_NAME"] == {"Ref": bus_id}
    synthesized.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [{"Action": "events:PutEvents", "Effect": "Allow", "Resource": {"Fn::GetAtt": [bus_id, "Arn"]}}]
                )
            }
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [relay, "Arn"]}})],
        },
    )


def test_the_simulation_queue_feeds_the_worker_with_a_dead_letter_queue(synthesized: Synthesized) -> None:
    runs = synthesized.logical_id(synthesized.stack.simulation.queue)
    dlq = synthesized.logical_id(synthesized.stack.simulation.dlq)
    queue = synthesized.resources("AWS::SQS::Queue")[runs]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": 3}
    assert queue["VisibilityTimeout"] == 1800
    worker = _function_id(synthesized, "adapters.appsync.simulation_worker.handler")
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [runs, "Arn"]},
            "FunctionName": {"Ref": worker},
            "BatchSize": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    handler = _function_id(synthesized, "adapters.appsync.handler.handler")
    variables = synthesized.resources("AWS::Lambda::Function")[handler]["Properties"]["Environment"]["Variables"]
    assert variables["PLANNER_SIMULATION_QUEUE_URL"] == {"Ref": runs}


def test_the_state_machine_maps_shards_then_merges(synthesized: Synthesized) -> None:
    ((machine_id, machine),) = synthesized.resources("AWS::StepFunctions::StateMachine").items()
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    parts = props["DefinitionString"]["Fn::Join"][1]
    shard = _function_id(synthesized, "adapters.appsync.simulation_shard.handler")
    merge = _function_id(synthesized, "adapters.appsync.simulation_merge.handler")
    placeholders = {json.dumps(p): f"<{p['Fn::GetAtt'][0]}>" for p in parts if isinstance(p, dict)}
    text = "".join(p if isinstance(p, str) else placeholders[json.dumps(p)] for p in parts)
    definition = json.loads(text)
    assert definition["StartAt"] == "Shards"
    shards = definition["States"]["Shards"]
    assert shards["Type"] == "Map"
    assert shards["ItemsPath"] == "$.shards"
    assert shards["MaxConcurrency"] == 16
    assert shards["Next"] == "MergeShards"
    (shard_state,) = shards["ItemProcessor"]["States"].values()
    assert shard_state["Type"] == "Task"
    assert shard_state["Resource"] == f"<{shard}>"
    assert shard_state["End"] is True
    merge_state = definition["States"]["MergeShards"]
    assert merge_state["Resource"] == f"<{merge}>"
    assert merge_state["End"] is True
    worker = _function_id(synthesized, "adapters.appsync.simulation_worker.handler")
    variables = synthesized.resources("AWS::Lambda::Function")[worker]["Properties"]["Environment"]["Variables"]
    assert variables["PLANNER_SIMULATION_STATE_MACHINE_ARN"] == {"Ref": machine_id}
    assert variables["PLANNER_SIMULATION_FANOUT_ITERATIONS"] == "200000"


def test_the_planner_sync_runs_every_five_minutes(synthesized: Synthesized) -> None:
    sync = _function_id(synthesized, "adapters.appsync.planner_sync.handler")
    dlq = synthesized.logical_id(synthesized.stack.schedules.dlq)
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(5 minutes)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {"Arn": {"Fn::GetAtt": [sync, "Arn"]}, "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}}
                )
            ],
        },
    )


def test_alarms_on_dead_letters_and_errors_and_a_dashboard(synthesized: Synthesized) -> None:
    ((topic_id, topic),) = synthesized.resources("AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    alarms = [a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()]
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    dead_letters = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert len(dead_letters) == 4
    assert all(a["Threshold"] == 1 and a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" for a in dead_letters)
    errors = [a for a in alarms if a["MetricName"] == "Errors" and a["Namespace"] == "AWS/Lambda"]
    assert len(errors) == 8
    assert any(a["MetricName"] == "ExecutionsFailed" for a in alarms)
    assert any(a["MetricName"] == "5XXError" and a["Namespace"] == "AWS/AppSync" for a in alarms)
    ((_, dashboard),) = synthesized.resources("AWS::CloudWatch::Dashboard").items()
    assert "AppSync 5XX" in json.dumps(dashboard["Properties"]["DashboardBody"])
