"""The Lambda functions: handler strings, the code asset (the repository less tests, infra and
caches) and the dependency layer, which holds no infra package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized

HANDLERS = {
    "adapters.appsync.handler.handler",
    "adapters.appsync.publisher.handler",
    "adapters.appsync.simulation_worker.handler",
    "adapters.appsync.simulation_shard.handler",
    "adapters.appsync.simulation_merge.handler",
    "adapters.appsync.migrate.handler",
    "adapters.appsync.outbox_relay.handler",
    "adapters.appsync.planner_sync.handler",
}


def _ours(synthesized: Synthesized) -> dict[str, dict]:
    return {
        r["Properties"]["Handler"]: r["Properties"]
        for r in synthesized.resources("AWS::Lambda::Function").values()
        if r["Properties"].get("Handler", "").startswith("adapters.")
    }


def test_one_function_per_handler_string_on_the_shared_code_and_layer(synthesized: Synthesized) -> None:
    functions = _ours(synthesized)
    assert set(functions) == HANDLERS
    ((layer_id, layer_resource),) = synthesized.resources("AWS::Lambda::LayerVersion").items()
    assert layer_resource["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert len({str(f["Code"]) for f in functions.values()}) == 1
    for handler, props in functions.items():
        assert props["Runtime"] == "python3.12", handler
        assert props["Layers"] == [{"Ref": layer_id}], handler
        assert props["TracingConfig"] == {"Mode": "Active"}, handler
        assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "planner", handler


def _asset_dir(synthesized: Synthesized, handler: str) -> Path:
    key = _ours(synthesized)[handler]["Code"]["S3Key"]
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


def test_the_code_asset_is_the_source_without_tests_infra_or_caches(synthesized: Synthesized) -> None:
    code = _asset_dir(synthesized, "adapters.appsync.handler.handler")
    for wanted in ("resolvers/registry.py", "planning", "simulation", "schema/appsync.graphql", "adapters/sql"):
        assert (code / wanted).exists(), wanted
    for unwanted in ("tests", "infra", ".venv", ".git", "bench", "scripts", "cdk.out"):
        assert not (code / unwanted).exists(), unwanted
    assert not list(code.rglob("__pycache__"))
    assert not list(code.rglob("*.pyc"))


def test_the_layer_is_the_prepared_dependency_folder(synthesized: Synthesized) -> None:
    ((_, layer),) = synthesized.resources("AWS::Lambda::LayerVersion").items()
    folder = synthesized.outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    assert (folder / "python").is_dir()
    assert not list(folder.rglob("aws_cdk"))
    assert not list(folder.rglob("cdk_nag"))


def test_the_migration_runs_on_deploy_after_the_database(synthesized: Synthesized) -> None:
    version = synthesized.logical_id(synthesized.stack.database.migrate.current_version)
    proxy = synthesized.logical_id(synthesized.stack.database.proxy)
    cluster = synthesized.logical_id(synthesized.stack.database.cluster)
    ((_, trigger),) = synthesized.resources("Custom::Trigger").items()
    # The version's id carries a hash of the code, so that a new migration runs again.
    assert trigger["Properties"]["HandlerArn"]["Ref"].startswith(version)
    assert proxy in trigger["DependsOn"]
    assert cluster in trigger["DependsOn"]
    assert _ours(synthesized)["adapters.appsync.migrate.handler"]["Timeout"] == 600


def test_no_statement_grants_every_action_of_a_service(synthesized: Synthesized) -> None:
    for name, policy in synthesized.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if a == "*" or a.endswith(":*")], name
            if statement["Resource"] == "*":
                assert all(a.startswith(("xray:", "logs:")) for a in actions), (name, actions)


def test_a_missing_dependency_folder_is_named_with_the_make_target(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from planner_infra.functions import FunctionFactory
    from planner_infra.settings import Stage

    factory = FunctionFactory(Stack(App(outdir=str(tmp_path / "out")), "Bare"), Stage(), tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=r"absent/python is missing: run `make lambda-deps`"):
        _ = factory.layer
