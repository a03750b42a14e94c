from __future__ import annotations

import threading

import structlog

from planning.services.agent_trigger import AgentTrigger

log = structlog.get_logger("planner.agent")


class AgentRunner:
    """Runs the agent's trigger (``AgentTrigger``) on one background thread of a server.

    ``kick()`` (after each commit that wrote events) wakes it; it also passes every
    ``interval_s``, so events committed by other processes (the CLI, another server) get their
    proposals too. Until ``start()`` (one-off commands never call it) a kick does nothing: the
    trigger stays in the outbox for a server. Failures are logged and retried on the next pass.
    """

    def __init__(self, trigger: AgentTrigger, *, interval_s: float = 5.0, lock_wait_s: float = 1.0) -> None:
        self._trigger = trigger
        self.interval_s = interval_s
        self.lock_wait_s = lock_wait_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="optimisation-agent", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                progress = self._trigger.catch_up(wait_s=self.lock_wait_s)
                if progress.handled:
                    log.info("agent proposed for new events", events=progress.handled, position=progress.position)
            except Exception as exc:  # noqa: BLE001 - the trigger stays in the outbox; the next pass retries
                log.warning("agent pass failed; retrying later", error=f"{type(exc).__name__}: {exc}")

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.join(timeout=timeout_s)
