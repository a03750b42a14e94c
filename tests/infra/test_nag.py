"""cdk-nag's AwsSolutions checks: nothing found that is not acknowledged, and every
acknowledgement says why."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs
from planner_infra.nag import acknowledge, check

from tests.infra.conftest import Synthesized


def _acknowledgements(stack: Stack) -> dict[str, str]:
    found: dict[str, str] = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    if "AwsSolutions-" in rule:
                        found[f"{construct.node.path} {rule}"] = reason
    return found


def test_the_stack_has_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    # The fixture's synth raises on any finding; the report it leaves holds none.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []


def test_every_acknowledgement_names_a_rule_and_gives_a_reason(synthesized: Synthesized) -> None:
    acknowledged = _acknowledgements(synthesized.stack)
    assert len(acknowledged) >= 10
    for where, reason in acknowledged.items():
        assert len(reason.split()) >= 8, f"{where}: {reason!r} is no reason"


def test_a_finding_fails_the_synth(tmp_path) -> None:
    """The same checks on a queue without a dead-letter queue: the synth stops and says why."""
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Bare")
    acknowledge(sqs.Queue(stack, "Queue", enforce_ssl=True), "SQS4", "the second finding, acknowledged for the test")
    check(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [v["ruleName"] for plugin in report["pluginReports"] for v in plugin["violations"]] == ["AwsSolutions-SQS3"]
