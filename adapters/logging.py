"""Structured logs: JSON lines in production, readable key=value lines on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,  # the CLI reconfigures per command (and tests run many)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Uvicorn's own access log is replaced by ours, which carries the request's duration.
    logging.getLogger("uvicorn.access").disabled = True
    # gremlite logs every query plan and gremlinpython every traversal source at INFO.
    for noisy in ("gremlite", "gremlinpython", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
