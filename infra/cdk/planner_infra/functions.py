"""How every planner Lambda is built: one code asset, one dependency layer, the same runtime.

The code asset is the repository root less what a function never imports (tests, infra, virtual
environments, caches); the handler strings name modules importable from it. The third-party
packages come from a layer built from a folder that ``make lambda-deps`` fills with Linux wheels
of the project's runtime dependencies, so nothing here needs Docker or the network at synth time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, IgnoreMode
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .settings import CODE_EXCLUDES, REPO_ROOT, Stage

#: Python 3.12 runs on Amazon Linux 2023, whose glibc the pinned numpy's manylinux_2_28 wheels need
#: (3.11 runs on Amazon Linux 2); the layer's wheels are built for it (``make lambda-deps``).
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64


@dataclass
class FunctionFactory:
    """Makes the stack's functions with the shared code, layer, logging, tracing and network."""

    scope: Construct
    stage: Stage
    dependencies_dir: Path
    vpc: ec2.IVpc | None = None
    security_group: ec2.ISecurityGroup | None = None
    _code: lambda_.Code | None = field(default=None, init=False)
    _layer: lambda_.LayerVersion | None = field(default=None, init=False)

    @property
    def code(self) -> lambda_.Code:
        if self._code is None:
            self._code = lambda_.Code.from_asset(
                str(REPO_ROOT), exclude=list(CODE_EXCLUDES), ignore_mode=IgnoreMode.GIT
            )
        return self._code

    @property
    def layer(self) -> lambda_.LayerVersion:
        if self._layer is None:
            if not (self.dependencies_dir / "python").is_dir():
                raise FileNotFoundError(
                    f"{self.dependencies_dir}/python is missing: run `make lambda-deps` (or `make synth`)"
                )
            self._layer = lambda_.LayerVersion(
                self.scope,
                "Dependencies",
                code=lambda_.Code.from_asset(str(self.dependencies_dir)),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="The planner's runtime dependencies (pyproject [project] dependencies, pinned)",
            )
        return self._layer

    def make(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        in_vpc: bool,
        timeout: Duration | None = None,
        memory_size: int = 1024,
        environment: dict[str, str] | None = None,
        reserved_concurrent_executions: int | None = None,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=logs.RetentionDays.ONE_MONTH if self.stage.production else logs.RetentionDays.ONE_WEEK,
        )
        network: dict[str, object] = {}
        if in_vpc:
            if self.vpc is None or self.security_group is None:
                raise ValueError("a function in the VPC needs the factory's vpc and security_group")
            network = {
                "vpc": self.vpc,
                "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                "security_groups": [self.security_group],
            }
        return lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=self.code,
            layers=[self.layer],
            description=description,
            timeout=timeout or Duration.seconds(30),
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            reserved_concurrent_executions=reserved_concurrent_executions,
            environment={
                "PLANNER_ENV": "production" if self.stage.production else "development",
                "PLANNER_LOG_JSON": "1",
                "POWERTOOLS_SERVICE_NAME": "planner",
                "POWERTOOLS_METRICS_NAMESPACE": "Planner",
                **(environment or {}),
            },
            **network,  # type: ignore[arg-type]
        )
