"""Microsoft Planner as the sync reads it (Microsoft Graph v1.0), and the sync state kept here.

The adapter (``adapters.msgraph``) speaks HTTP, authenticates, pages and retries; the domain sees
plain values. Planner's delta queries exist only in Graph's beta API, so a sync reads every page
of a plan's tasks and compares each task's ETag with the one stored to find what changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class PlannerUnavailable(Exception):
    """Graph could not be read: throttled past the retry budget, down, refused the credentials,
    or the Planner plan does not exist. The message is safe to show (it never holds a secret)."""


@dataclass(frozen=True, slots=True)
class PlannerTaskRecord:
    """One Planner task as Graph's ``plannerTask`` resource gives it (the fields the sync maps)."""

    id: str
    etag: str
    title: str
    percent_complete: int
    start: datetime | None
    due: datetime | None
    bucket_id: str | None
    assignee_ids: tuple[str, ...]


class PlannerGraph(Protocol):
    """Reads of one tenant's Planner, through Microsoft Graph v1.0."""

    def task_pages(self, planner_plan_id: str) -> Iterator[Sequence[PlannerTaskRecord]]:
        """The plan's tasks, one Graph page (``@odata.nextLink``) at a time, fetched lazily.

        Raises PlannerUnavailable when a page cannot be read.
        """
        ...

    def user_email(self, user_id: str) -> str | None:
        """The e-mail address (else the user principal name) of a directory user; None if unknown.

        Answers are cached by the adapter: a plan's assignees are a handful of people.
        """
        ...

    def buckets(self, planner_plan_id: str) -> Mapping[str, str]:
        """The plan's buckets: name by bucket id."""
        ...

    def task_details(self, planner_task_id: str) -> Mapping[str, Any]:
        """The ``plannerTaskDetails`` of a task (description, checklist, references)."""
        ...


@dataclass(frozen=True, slots=True)
class PlannerLink:
    """What the last sync stored of one synced task: Planner's ETag and bucket, and the values of
    the Planner-owned fields as synced (``synced``), which tell a local edit from a Planner one."""

    task_id: str
    planner_task_id: str
    etag: str | None
    bucket_id: str | None
    synced: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class PlannerSyncState:
    """A plan's sync: when the last one started, succeeded or failed (and why), and its counts."""

    plan_id: str
    last_started_at: datetime | None = None
    last_succeeded_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


class PlannerSyncRepository(Protocol):
    """The sync's own records: links of tasks to Planner, and each plan's sync state."""

    def linked_plans(self) -> list[str]:
        """Ids of the plans that have a ``plannerPlanId``, in id order."""
        ...

    def links(self, plan_id: str) -> dict[str, PlannerLink]:
        """Every task of the plan that has a ``plannerTaskId``, by that id."""
        ...

    def set_link(self, task_id: str, etag: str, bucket_id: str | None, synced: Mapping[str, Any]) -> None: ...
    def state(self, plan_id: str) -> PlannerSyncState | None: ...
    def states(self, plan_ids: Sequence[str]) -> dict[str, PlannerSyncState]: ...
    def save_state(self, state: PlannerSyncState) -> None: ...
