from __future__ import annotations

import json
import logging

import structlog

from adapters.logging import configure_logging


def test_json_logs_carry_the_traceback_but_not_local_variables(capsys) -> None:
    configure_logging(json=True)
    secret = "hunter2"  # a local variable a traceback with locals would copy
    try:
        raise ZeroDivisionError(f"division by zero near {len(secret)}")
    except ZeroDivisionError:
        structlog.get_logger("test").error("resolver fault", exc_info=True)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "resolver fault"
    assert line["exception"][0]["exc_type"] == "ZeroDivisionError"
    assert line["exception"][0]["frames"][-1]["name"].startswith("test_json_logs")
    assert "hunter2" not in json.dumps(line)
    logging.getLogger().handlers.clear()
