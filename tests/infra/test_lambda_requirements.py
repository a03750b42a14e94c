"""The dependency layer's requirements: the project's runtime dependencies less the CLI-only ones."""

from __future__ import annotations

import tomllib
from pathlib import Path

from lambda_requirements import NOT_IN_LAMBDA, lambda_requirements, requirement_name

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_layer_takes_every_runtime_dependency_but_the_cli_only_ones() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    wanted = lambda_requirements(PYPROJECT)
    names = {requirement_name(r) for r in wanted}
    assert {"strawberry-graphql", "sqlalchemy", "psycopg", "gremlinpython", "numpy", "aws-lambda-powertools"} <= names
    assert not names & set(NOT_IN_LAMBDA)
    assert len(wanted) == len(project["dependencies"]) - len(NOT_IN_LAMBDA)
    dev = {requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    assert not names & (dev | {"aws-cdk-lib", "constructs", "cdk-nag"})


def test_requirement_names_are_normalised() -> None:
    assert requirement_name("PyJWT[crypto]>=2.10") == "pyjwt"
    assert requirement_name("psycopg[binary]>=3.1") == "psycopg"
    assert requirement_name("Aws_Lambda.Powertools >=3") == "aws-lambda-powertools"
