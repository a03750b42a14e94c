"""Structured logs: JSON lines in production, readable key=value lines on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog
import structlog.tracebacks


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        # Tracebacks without local variables: those would copy request input into the logs.
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
            if _has_rich()
            else structlog.dev.plain_traceback,
        )
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
    # JSON lines carry the traceback as structured data; without this they lose it.
    tracebacks: list[structlog.typing.Processor] = (
        [structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False))]
        if json
        else []
    )
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tracebacks, renderer],
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


def _has_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True
