#!/usr/bin/env python3
"""Print the requirements of the Lambda dependency layer: the project's ``[project] dependencies``
less those no function imports, so that the layer stays under Lambda's 250 MB (unzipped).

``make lambda-deps`` installs them, pinned by constraints.txt, as Linux wheels.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

#: Left out of the layer, each with the reason.
NOT_IN_LAMBDA = {
    "matplotlib": "charts of `planner simulate` on the CLI only (about 100 MB with fonttools and pillow)",
    "tqdm": "progress bars of the CLI only",
    "boto3": "Lambda's Python runtime ships boto3 and botocore",
    "numba": "the engine's compiled kernels: about 50 MB with llvmlite, and a cold start would compile "
    "them; the engine's NumPy path gives the same numbers",
}


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def lambda_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return [r for r in dependencies if requirement_name(r) not in NOT_IN_LAMBDA]


if __name__ == "__main__":
    sys.stdout.write("".join(f"{r}\n" for r in lambda_requirements()))
