"""A Lambda context as the runtime hands one to a handler (what Powertools reads of it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent / "events"


@dataclass
class LambdaContext:
    function_name: str = "planner-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:planner-test"
    aws_request_id: str = "8f5a6c1e-0000-4000-8000-000000000000"


def saved_event(name: str) -> Any:
    """A saved event under tests/events/ (the shapes AWS delivers)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))
