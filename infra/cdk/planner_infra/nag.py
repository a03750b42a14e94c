"""cdk-nag's AwsSolutions rules over the app, and the findings this design accepts, each on the
narrowest construct that has it and with its reason. ``tests/infra/`` asserts that nothing else
is found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, App, CfnResource, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

if TYPE_CHECKING:
    from .stack import PlannerStack


def check(app: App) -> None:
    """Run AwsSolutions on every stack at synth; any unacknowledged finding fails the synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason))


def _invoke_versions(function: lambda_.IFunction) -> str:
    """The finding for ``lambda:InvokeFunction`` on ``<function ARN>:*`` that invoke grants add."""
    stack = Stack.of(function)
    cfn = function.node.default_child
    assert isinstance(cfn, CfnResource)
    return f"IAM5[Resource::<{stack.resolve(stack.get_logical_id(cfn))}.Arn>:*]"


def acknowledge_findings(stack: PlannerStack) -> None:
    acknowledge(
        stack,
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "Lambda's own managed policy for writing its logs; CDK attaches it to every function role.",
    )
    acknowledge(
        stack,
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        "Lambda's own managed policy for the network interfaces of functions in the VPC.",
    )
    acknowledge(
        stack,
        "IAM5[Resource::*]",
        "Only X-Ray's PutTraceSegments/PutTelemetryRecords (and Step Functions' log delivery), which "
        "take no resource: tracing and logs are on for every function and the state machine.",
    )
    acknowledge(
        stack,
        "L1",
        "Python 3.12 on purpose: the nearest to the 3.11 the project is tested on whose Amazon Linux "
        "runs the pinned wheels; the layer is built for it (make lambda-deps): move both together.",
    )
    acknowledge(
        stack,
        f"IAM5[Resource::arn:<AWS::Partition>:neptune-db:<AWS::Region>:<AWS::AccountId>:"
        f"<{stack.resolve(stack.get_logical_id(stack.graph.cluster))}.ClusterResourceId>/*]",
        "Neptune's IAM data actions name a cluster as <cluster resource id>/*; this is the one cluster "
        "(graph.grant_data, for the functions that read or write the graph).",
    )
    for function in (stack.simulation.shard, stack.simulation.merge):
        acknowledge(
            stack.simulation.state_machine,
            _invoke_versions(function),
            "Step Functions' invoke grant covers the function's versions and aliases; the one function.",
        )
    acknowledge(
        stack.api,
        _invoke_versions(stack.api.handler),
        "AppSync's invoke grant covers the handler's versions and aliases; the one function.",
    )
    acknowledge(
        stack.api,
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSAppSyncPushToCloudWatchLogs]",
        "AppSync's own managed policy for writing the API's logs.",
    )
    acknowledge(
        stack.api.api,
        "ASC3",
        "Field logs at ERROR without verbose content: verbose request logs would hold callers' tokens "
        "and plan data; X-Ray traces every request.",
    )
    for queue in (stack.events.publisher_dlq, stack.events.relay_dlq, stack.schedules.dlq):
        acknowledge(
            queue,
            "SQS3",
            "This queue is a dead-letter queue itself (of an EventBridge target), watched by an alarm.",
        )
    acknowledge(
        stack.schedules.graph_credentials,
        "SMG4",
        "A Microsoft Entra ID client secret: it is issued and rotated in Entra ID, then stored here.",
    )
