#!/usr/bin/env python3
"""The planner's CDK app: ``make synth`` runs it (or ``cdk synth`` through cdk.json).

Offline: it reads schema/appsync.graphql and the repository, and the Lambda dependency folder
that ``make lambda-deps`` prepared; no credentials, no Docker, no network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aws_cdk import App  # noqa: E402
from planner_infra.nag import acknowledge_findings, check  # noqa: E402
from planner_infra.settings import Stage  # noqa: E402
from planner_infra.stack import PlannerStack  # noqa: E402


def main() -> None:
    app = App(outdir=os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out"))
    stage = Stage(app.node.try_get_context("stage") or os.environ.get("PLANNER_STAGE") or "production")
    dependencies = (
        app.node.try_get_context("lambdaDependencies")
        or os.environ.get("PLANNER_LAMBDA_DEPS")
        or str(HERE / "build" / "lambda-deps")
    )
    stack = PlannerStack(app, f"Planner-{stage.name}", stage=stage, dependencies_dir=Path(dependencies))
    acknowledge_findings(stack)
    check(app)
    app.synth()


if __name__ == "__main__":
    main()
