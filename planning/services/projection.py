from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from planning.errors import DomainError, ErrorCode
from planning.events import OutboxMessage, PlanEventKind
from planning.graph_projection import graph_edge, graph_edge_from_snapshot, graph_task, graph_task_from_snapshot
from planning.ports import DependencyGraph, MissingVertex, UnitOfWorkFactory

GRAPH_CONSUMER = "graph"
# How long a lease on a consumer's checkpoint lasts unless renewed. Holders renew it from a
# background thread every LEASE_S / 5, so it only runs out when the holder's process stalls or
# loses the store for that long; it is far longer than the worst single graph call (a Neptune
# evaluation timeout of 30 s, retried up to 6 times).
LEASE_S = 300.0

log = logging.getLogger("planner.projection")


@dataclass(frozen=True, slots=True)
class ProjectionProgress:
    """What a pass applied and where the checkpoint stands.

    ``held_by`` names the holder of the checkpoint's lease when it was someone else's: the pass
    did nothing (another process or a rebuild is projecting), and ``position`` is the checkpoint.
    """

    applied: int
    position: int
    held_by: str | None = None

    @property
    def skipped(self) -> bool:
        return self.held_by is not None


class ProjectionBusy(DomainError):
    """Another holder kept the checkpoint's lease for longer than the caller would wait."""

    def __init__(self, consumer: str, holder: str | None, until: datetime | None) -> None:
        who = f"{holder} (until {until.isoformat(timespec='seconds')})" if holder and until else "another holder"
        super().__init__(
            ErrorCode.UNAVAILABLE,
            f"the {consumer} projection is busy: its checkpoint is leased by {who}; "
            "another `planner graph rebuild`, `planner graph project` or a server is applying events. "
            "Try again shortly.",
        )
        self.holder = holder


class LeaseLost(RuntimeError):
    """The checkpoint's lease expired and another holder took it while this one worked."""


def lease_holder_id(role: str) -> str:
    """A holder id unique to this object in this process: role, host, process id, a nonce."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseWatch:
    """What a holder knows, in memory, about its lease while a keep-alive thread renews it.

    ``lost`` turns True when a renewal found the lease taken over, or when no renewal has
    succeeded for long enough that the lease may have expired (the store unreachable, the
    process stalled): checking it costs no query, so a holder checks it before every write.
    """

    def __init__(self, lease_s: float) -> None:
        self._lease_s = lease_s
        self._taken_over = threading.Event()
        # The lease is safe until this monotonic time: a renewal sent at t lasts until t + lease_s
        # on the store's clock; keep a margin for the round trip and the writes in flight.
        self._valid_until = time.monotonic() + lease_s * 0.8

    def renewed(self, sent_at: float) -> None:
        self._valid_until = max(self._valid_until, sent_at + self._lease_s * 0.8)

    def taken_over(self) -> None:
        self._taken_over.set()

    @property
    def lost(self) -> bool:
        return self._taken_over.is_set() or time.monotonic() >= self._valid_until


class CheckpointLease:
    """The lease on one consumer's checkpoint row, shared by every process on the store.

    Whoever holds it is the only one applying that consumer's events (or rebuilding its target);
    checkpoint writes under it only move forward, except a rebuild's explicit reset. A holder
    that dies leaves a lease that expires after ``lease_s`` by the store's clock.
    """

    def __init__(self, uow: UnitOfWorkFactory, consumer: str, holder: str, lease_s: float = LEASE_S) -> None:
        self._uow = uow
        self.consumer = consumer
        self.holder = holder
        self.lease_s = lease_s

    def try_acquire(self) -> tuple[bool, int, tuple[str, datetime] | None]:
        """(taken, checkpoint position, the other holder and its expiry when not taken)."""
        with self._uow() as uow:
            taken = uow.outbox.acquire_lease(self.consumer, self.holder, self.lease_s)
            other = None if taken else uow.outbox.lease_holder(self.consumer)
            position = uow.outbox.checkpoint(self.consumer)
            uow.commit()
        return taken, position, other

    def acquire(self, wait_s: float, poll_s: float = 0.2) -> int:
        """Take the lease, waiting up to ``wait_s``; the checkpoint position. ProjectionBusy if not."""
        deadline = time.monotonic() + wait_s
        while True:
            taken, position, other = self.try_acquire()
            if taken:
                return position
            if time.monotonic() >= deadline:
                raise ProjectionBusy(self.consumer, *(other or (None, None)))
            time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.0)))

    def renew(self) -> bool:
        with self._uow() as uow:
            renewed = uow.outbox.renew_lease(self.consumer, self.holder, self.lease_s)
            uow.commit()
        return renewed

    def advance(self, position: int) -> bool:
        """Move the checkpoint forward to ``position`` and renew; False when the lease was lost."""
        with self._uow() as uow:
            saved = uow.outbox.advance_checkpoint(self.consumer, self.holder, position, self.lease_s)
            uow.commit()
        return saved

    def reset_and_release(self, position: int) -> bool:
        """Set the checkpoint (even backwards) and give the lease up, in one transaction."""
        with self._uow() as uow:
            reset = uow.outbox.reset_checkpoint(self.consumer, self.holder, position)
            uow.outbox.release_lease(self.consumer, self.holder)
            if reset:
                uow.commit()
        return reset

    def release(self) -> None:
        """Give the lease up; a failure only leaves it to expire."""
        try:
            with self._uow() as uow:
                uow.outbox.release_lease(self.consumer, self.holder)
                uow.commit()
        except Exception:
            log.warning("could not release the %s checkpoint lease; it expires by itself", self.consumer, exc_info=True)

    @contextlib.contextmanager
    def kept_alive(self) -> Iterator[LeaseWatch]:
        """Renew the lease from a background thread every ``lease_s / 5`` while the block runs.

        Call right after taking the lease. Yields a LeaseWatch whose ``lost`` turns True once
        the lease was taken over or may have expired; the block checks it before every write.
        """
        stop = threading.Event()
        watch = LeaseWatch(self.lease_s)

        def renew_until_stopped() -> None:
            while not stop.wait(self.lease_s / 5):
                sent_at = time.monotonic()
                try:
                    if not self.renew():
                        watch.taken_over()
                        return
                except Exception:
                    log.warning("could not renew the %s checkpoint lease", self.consumer, exc_info=True)
                    continue
                watch.renewed(sent_at)

        keeper = threading.Thread(target=renew_until_stopped, name=f"{self.consumer}-lease", daemon=True)
        keeper.start()
        try:
            yield watch
        finally:
            stop.set()
            keeper.join()


class GraphProjector:
    """Applies the outbox to the dependency graph, in order, and records how far it got.

    The relational store is the system of record; the graph follows it. Every graph write is
    idempotent, so a message applied twice (after a crash between the write and the
    checkpoint) leaves the graph as applying it once, and a graph that is down only delays the
    projection: the checkpoint stays at the last message the graph took.

    One projector at a time: threads of a process take a lock, processes take the lease on the
    checkpoint row (a pass that finds it held elsewhere does nothing and says who holds it).
    A background thread renews the lease for the whole pass, however long one graph call takes,
    and the pass stops before its next graph write once that thread reports the lease lost.

    The limit: the graph itself knows nothing of the lease (it takes no fencing token), so a
    write already sent when the lease is lost still lands. That takes a holder that cannot renew
    for ``lease_s`` (five minutes: its process stalled, or it lost the store) while one graph
    call is in flight; a pass whose graph call timed out keeps the lease until it expires
    instead of releasing it, so the call it gave up on is not overtaken by another process.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        graph: DependencyGraph,
        *,
        batch_size: int = 500,
        holder: str | None = None,
        lease_s: float = LEASE_S,
    ) -> None:
        self._uow = uow
        self._graph = graph
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._watch: LeaseWatch | None = None
        self.lease = CheckpointLease(uow, GRAPH_CONSUMER, holder or lease_holder_id("projector"), lease_s)

    def catch_up(self, *, wait_s: float | None = None) -> ProjectionProgress:
        """Apply every message not applied yet; raise what the graph raised, keeping progress.

        ``wait_s`` bounds the wait for another thread of this process that is projecting; when it
        runs out, nothing is done and ``held_by`` names this projector.
        """
        if not self._lock.acquire(timeout=-1 if wait_s is None else wait_s):
            return ProjectionProgress(0, self._checkpoint(), held_by=self.lease.holder)
        try:
            taken, position, other = self.lease.try_acquire()
            if not taken:
                return ProjectionProgress(0, position, held_by=other[0] if other else "another holder")
            release = True
            try:
                with self.lease.kept_alive() as watch:
                    self._watch = watch
                    return self._apply_after(position)
            except TimeoutError:
                # The graph may still carry out the call this pass gave up on: hold the lease
                # until it expires rather than let another process apply later events first.
                release = False
                raise
            finally:
                self._watch = None
                if release:
                    self.lease.release()
        finally:
            self._lock.release()

    def _check_lease(self) -> None:
        watch = self._watch
        if watch is not None and watch.lost:
            raise LeaseLost(f"the {GRAPH_CONSUMER} checkpoint lease was lost; stopped before the next graph write")

    def _apply_after(self, position: int) -> ProjectionProgress:
        applied = 0
        while True:
            with self._uow() as uow:
                batch = uow.outbox.read_after(position, self._batch_size)
            if not batch:
                return ProjectionProgress(applied, position)
            done = position
            kept = True
            try:
                for message in batch:
                    self._apply(message)
                    done = message.position
                    applied += 1
            finally:
                if done > position:
                    kept = self.lease.advance(done)
                    position = done
            if not kept:
                raise LeaseLost(f"the {GRAPH_CONSUMER} checkpoint lease was taken over; stopped at {position}")

    def pending(self) -> int:
        with self._uow() as uow:
            return uow.outbox.last_position() - uow.outbox.checkpoint(GRAPH_CONSUMER)

    def _heal_edge(self, dependency_id: str) -> None:
        """An edge whose task vertex is missing: the graph lost the vertex, or the edge is gone.

        The relational store decides: a dependency it still holds gets its task vertices
        written again first; one it no longer holds is skipped (its removal is in the outbox).
        """
        with self._uow() as uow:
            dep = uow.dependencies.get(dependency_id)
            tasks = uow.tasks.get_many([dep.predecessor_id, dep.successor_id]) if dep else []
        if dep is None:
            return
        for task in tasks:
            self._check_lease()
            self._graph.upsert_task(graph_task(task))
        self._check_lease()
        self._graph.upsert_dependency(graph_edge(dep))

    def _checkpoint(self) -> int:
        with self._uow() as uow:
            return uow.outbox.checkpoint(GRAPH_CONSUMER)

    def _apply(self, message: OutboxMessage) -> None:
        event = message.event
        kind = event.kind
        self._check_lease()
        if kind in (PlanEventKind.TASK_CREATED, PlanEventKind.TASK_UPDATED):
            self._graph.upsert_task(graph_task_from_snapshot(event.data))
        elif kind is PlanEventKind.TASK_DELETED:
            self._graph.remove_task(event.entity_id)
        elif kind is PlanEventKind.DEPENDENCY_ADDED:
            try:
                self._graph.upsert_dependency(graph_edge_from_snapshot(event.data))
            except MissingVertex:
                self._heal_edge(event.entity_id)
        elif kind is PlanEventKind.DEPENDENCY_REMOVED:
            self._graph.remove_dependency(event.entity_id)
