"""Working-day calendar: maps working-day offsets to dates.

Convention (the one rule every other module relies on)
------------------------------------------------------
* The *origin* is the first working day on or after ``as_of``; time ``0`` is
  the **start** of that day and time ``k`` (an integer) is the start of the
  ``k``-th working day after it (= the end of working day ``k - 1``).
  Working day ``k`` is ``workday(k)``; non-working days never appear.
* A task occupying the working-day interval ``[s, s + d)`` with ``d > 0``
  starts on ``workday(floor(s))`` and finishes at the end of
  ``workday(ceil(s + d) - 1)``.  So a one-day task starting at ``0`` starts
  and finishes on the origin day.
* A task with no remaining work (``d == 0``) is an *instant* at ``s``; both
  its dates are the day during which or at whose end the instant falls:
  ``workday(max(ceil(s) - 1, 0))``.  At ``s == 0`` that is the origin day.
  This keeps a milestone on the same day as the work that drives it.
* An instant ``t`` (for example the project finish) therefore has the
  finish day index ``max(ceil(t) - 1, 0)``; the start of an interval has the
  start day index ``floor(s)``.  Both rounding steps forgive floating-point
  noise of a relative ``1e-9`` so that ``2.9999999999`` counts as ``3``.
* The project is on time when its finish date is on or before the event
  date, i.e. when its finish day index is at most the index of the last
  working day on or before the event date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

#: Relative tolerance used when rounding working-day times to day indices.
ROUNDING_RTOL = 1e-9

_DAY = np.timedelta64(1, "D")


def _tolerance(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return ROUNDING_RTOL * np.maximum(np.abs(t), 1.0)


def start_day_index(s: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Day index on which an interval starting at working time ``s`` starts."""
    t = np.asarray(s, dtype=np.float64)
    return np.maximum(np.floor(t + _tolerance(t)), 0).astype(np.int64)


def finish_day_index(f: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Day index on which something ending (or standing) at time ``f`` ends."""
    t = np.asarray(f, dtype=np.float64)
    index: npt.NDArray[np.int64] = np.maximum(np.ceil(t - _tolerance(t)) - 1, 0).astype(np.int64)
    return index


def interval_day_indices(
    start: npt.ArrayLike, duration: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start and finish day indices of intervals ``[start, start + duration)``.

    Zero-length intervals are instants (both indices are the finish index).
    """
    s = np.asarray(start, dtype=np.float64)
    d = np.asarray(duration, dtype=np.float64)
    finish = finish_day_index(s + d)
    instant = d <= _tolerance(s + d)
    begin = np.where(instant, finish, np.minimum(start_day_index(s), finish))
    return begin.astype(np.int64), finish


class WorkCalendar:
    """A numpy ``busdaycalendar`` with the conventions above."""

    def __init__(
        self,
        working_days: Iterable[int] = (0, 1, 2, 3, 4),
        holidays: Iterable[dt.date] = (),
    ) -> None:
        days = frozenset(working_days)
        if not days:
            raise ValueError("calendar needs at least one working day")
        if not days <= set(range(7)):
            raise ValueError("working days must be integers 0 (Monday) .. 6 (Sunday)")
        weekmask = [1 if d in days else 0 for d in range(7)]
        hol = sorted(np.datetime64(h, "D") for h in holidays)
        self.working_days = days
        self.holidays = frozenset(holidays)
        self._cal = np.busdaycalendar(weekmask=weekmask, holidays=hol)

    def origin(self, as_of: dt.date) -> np.datetime64:
        """First working day on or after ``as_of`` (time 0 is its start)."""
        return np.busday_offset(np.datetime64(as_of, "D"), 0, roll="forward", busdaycal=self._cal)

    def is_working_day(self, day: dt.date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._cal))

    def workdays(self, origin: np.datetime64, index: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
        """Dates of working days ``index`` (0 = origin), vectorised."""
        idx = np.asarray(index, dtype=np.int64)
        return np.busday_offset(origin, idx, roll="forward", busdaycal=self._cal)

    def workday(self, origin: np.datetime64, index: int) -> dt.date:
        """Date of working day ``index`` (0 = origin)."""
        return to_date(self.workdays(origin, np.int64(index)))

    def last_index_on_or_before(self, origin: np.datetime64, day: dt.date) -> int:
        """Index of the last working day ``<= day`` (-1 if ``day`` precedes the origin)."""
        end = np.datetime64(day, "D") + _DAY
        if end <= origin:
            return -1
        return int(np.busday_count(origin, end, busdaycal=self._cal)) - 1


def to_date(value: np.datetime64 | npt.NDArray[np.datetime64]) -> dt.date:
    """Convert a numpy day to a ``datetime.date``."""
    result = np.asarray(value, dtype="datetime64[D]").astype(object)
    if isinstance(result, np.ndarray):
        result = result.item()
    if not isinstance(result, dt.date):
        # numpy days beyond year 9999 have no datetime.date: they come back as plain integers.
        raise CalendarOverflowError(f"the schedule runs past the last date a calendar can hold ({result})")
    return result


class CalendarOverflowError(ValueError):
    """A schedule that ends beyond the year 9999."""
