from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WEEKDAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The days on which a plan's work happens: weekdays (0 = Monday) minus holidays."""

    working_weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        from planning.errors import invalid

        if not self.working_weekdays:
            raise invalid("a calendar needs at least one working day", "calendar", "workingDays")
        if not self.working_weekdays <= frozenset(range(7)):
            raise invalid("working days are MON to SUN", "calendar", "workingDays")

    @classmethod
    def from_names(cls, names: list[str], holidays: list[date]) -> WorkCalendar:
        from planning.errors import invalid

        days = set()
        for name in names:
            if name.upper() not in WEEKDAY_NAMES:
                raise invalid(f"unknown working day {name!r}; use MON..SUN", "calendar", "workingDays")
            days.add(WEEKDAY_NAMES.index(name.upper()))
        return cls(frozenset(days), frozenset(holidays))

    @property
    def weekday_names(self) -> list[str]:
        return [WEEKDAY_NAMES[d] for d in sorted(self.working_weekdays)]

    def is_default(self) -> bool:
        return self == WorkCalendar()
