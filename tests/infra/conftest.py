"""The CDK app synthesized once per test session, with cdk-nag's AwsSolutions checks on.

The stack is built as ``infra/cdk/app.py`` builds it, offline, into a temporary cloud assembly;
the Lambda dependency folder is an empty stand-in (the tests look at the stack, not at the wheels).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CDK_DIR = Path(__file__).resolve().parents[2] / "infra" / "cdk"
sys.path.insert(0, str(CDK_DIR))
# jsii prints a banner on every start under Node 20 (past its end of life); it says nothing about our stack.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, CfnElement  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from constructs import IConstruct  # noqa: E402
from planner_infra.nag import acknowledge_findings, check  # noqa: E402
from planner_infra.settings import Stage  # noqa: E402
from planner_infra.stack import PlannerStack  # noqa: E402


@dataclass(frozen=True)
class Synthesized:
    stack: PlannerStack
    template: Template
    outdir: Path

    def resources(self, cfn_type: str) -> dict[str, dict]:
        return self.template.find_resources(cfn_type)

    def logical_id(self, construct: IConstruct) -> str:
        """The template's id of a construct's CloudFormation resource."""
        resource = construct.node.default_child or construct
        assert isinstance(resource, CfnElement)
        return str(self.stack.resolve(self.stack.get_logical_id(resource)))


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("cdk")
    (root / "lambda-deps" / "python").mkdir(parents=True)
    app = App(outdir=str(root / "cdk.out"))
    stack = PlannerStack(app, "Planner-production", stage=Stage("production"), dependencies_dir=root / "lambda-deps")
    acknowledge_findings(stack)
    check(app)
    app.synth()  # raises ValidationFailed on any finding cdk-nag reports that is not acknowledged
    return Synthesized(stack=stack, template=Template.from_stack(stack), outdir=root / "cdk.out")
