import datetime as dt

import numpy as np
import pytest

from simulation.calendar import (
    WorkCalendar,
    finish_day_index,
    interval_day_indices,
    start_day_index,
)

SAT = dt.date(2026, 11, 21)  # a Saturday
MON = dt.date(2026, 11, 23)


def test_origin_is_first_working_day_on_or_after_as_of() -> None:
    cal = WorkCalendar()
    assert cal.origin(SAT) == np.datetime64(MON)
    assert cal.origin(MON) == np.datetime64(MON)
    holiday_cal = WorkCalendar(holidays={MON})
    assert holiday_cal.origin(SAT) == np.datetime64(dt.date(2026, 11, 24))


def test_workdays_skip_weekends_and_holidays() -> None:
    cal = WorkCalendar(holidays={dt.date(2026, 11, 26)})
    origin = cal.origin(SAT)
    days = [cal.workday(origin, k) for k in range(6)]
    assert days == [
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 24),
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 27),  # Thursday 26th is a holiday
        dt.date(2026, 11, 30),  # weekend skipped
        dt.date(2026, 12, 1),
    ]


def test_custom_weekmask() -> None:
    cal = WorkCalendar(working_days={0, 2, 4})
    origin = cal.origin(SAT)
    assert [cal.workday(origin, k).weekday() for k in range(4)] == [0, 2, 4, 0]
    with pytest.raises(ValueError, match="at least one working day"):
        WorkCalendar(working_days=set())


def test_interval_start_and_end_of_day_convention() -> None:
    # [0, 1): one full day -> starts and finishes on day 0
    assert [int(x) for x in interval_day_indices(0.0, 1.0)] == [0, 0]
    # [0, 5): Monday..Friday
    assert [int(x) for x in interval_day_indices(0.0, 5.0)] == [0, 4]
    # [0, 5.5): spills into day 5
    assert [int(x) for x in interval_day_indices(0.0, 5.5)] == [0, 5]
    # [2.5, 3.2): starts during day 2, finishes during day 3
    assert [int(x) for x in interval_day_indices(2.5, 0.7)] == [2, 3]
    # starting exactly at time 3 means the start of day 3
    assert int(start_day_index(3.0)) == 3


def test_zero_length_interval_is_an_instant() -> None:
    assert [int(x) for x in interval_day_indices(0.0, 0.0)] == [0, 0]
    # an instant at time 3 (end of day 2) belongs to day 2
    assert [int(x) for x in interval_day_indices(3.0, 0.0)] == [2, 2]
    assert [int(x) for x in interval_day_indices(2.5, 0.0)] == [2, 2]


def test_rounding_forgives_floating_point_noise() -> None:
    assert int(finish_day_index(3.0000000000004)) == 2
    assert int(finish_day_index(2.9999999999996)) == 2
    assert int(finish_day_index(3.01)) == 3
    assert int(start_day_index(2.9999999999996)) == 3


def test_last_index_on_or_before_event() -> None:
    cal = WorkCalendar()
    origin = cal.origin(SAT)
    assert cal.last_index_on_or_before(origin, MON) == 0
    assert cal.last_index_on_or_before(origin, dt.date(2026, 11, 29)) == 4  # Sunday -> Friday
    assert cal.last_index_on_or_before(origin, SAT) == -1
