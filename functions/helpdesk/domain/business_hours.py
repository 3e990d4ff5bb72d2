"""Business time: the workspace's opening hours, public holidays, and arithmetic on them.

- ``BusinessHours``: the workspace's opening hours as written in ``workspace.yaml`` (an IANA time zone,
  ranges per weekday, public holidays from the ``holidays`` library plus local extra/removed dates).
- ``BusinessCalendar``: business-time arithmetic on those hours: ``add``, ``between``, ``is_open``.
  Without hours it is open 24/7.

The SLA clocks that count in this time are ``helpdesk.domain.sla``.

Every instant going in must be timezone-aware; every instant coming out is in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property, lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MAX_CLOSED_DAYS = 2 * 366
"""How many consecutive days without business time ``BusinessCalendar.add`` walks before giving up."""

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoBusinessTime(ValueError):
    """The calendar has no business time for years after an instant, so no deadline can be computed."""


def _minutes(hours: str, minutes: str, *, end: bool) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise ValueError
    return value


def _parse_range(text: Any) -> tuple[int, int]:
    """``"09:00-17:30"`` -> minutes since midnight ``(540, 1050)``; ``24:00`` is allowed as an end."""
    match = _RANGE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an opening range like '09:00-17:30' (HH:MM-HH:MM, 24-hour clock)")
    try:
        start = _minutes(match[1], match[2], end=False)
        end = _minutes(match[3], match[4], end=True)
    except ValueError:
        raise ValueError(
            f"{text!r} has a time that doesn't exist (hours 00-23, minutes 00-59, or 24:00 as end)"
        ) from None
    if start >= end:
        raise ValueError(f"{text!r} must start before it ends (use 24:00 for midnight at the end of the day)")
    return start, end


def _format_range(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


@cache
def _supported_countries() -> dict[str, list[str]]:
    import holidays  # loaded when a workspace names a country: it is large, and most functions never need it

    return holidays.list_supported_countries()


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one country (subdivision) in one year; looked up once per process."""
    import holidays

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


class HolidayRules(_Config):
    """Days the business is closed: a country's public holidays, adjusted by hand."""

    country: str = Field(description="ISO 3166-1 alpha-2 country code, e.g. GB")
    subdivision: str | None = Field(default=None, description="ISO 3166-2 subdivision, e.g. ENG for England")
    extra: tuple[date, ...] = Field(default=(), description="Further closed days, e.g. a company day off")
    removed: tuple[date, ...] = Field(default=(), description="Public holidays on which the business opens")

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str) -> str:
        code = country.strip().upper()
        if code not in _supported_countries():
            raise ValueError(
                f"'{country}' is not a country the holidays library knows; use an ISO 3166-1 alpha-2 code such as GB"
            )
        return code

    @model_validator(mode="after")
    def _known_subdivision(self) -> HolidayRules:
        known = _supported_countries()[self.country]
        if self.subdivision is not None and self.subdivision not in known:
            choices = ", ".join(known[:30]) + (", ..." if len(known) > 30 else "")
            hint = f"one of {choices}" if known else "none (leave subdivision out)"
            raise ValueError(f"subdivision: '{self.subdivision}' is not a subdivision of {self.country}; use {hint}")
        both = sorted(set(self.extra) & set(self.removed))
        if both:
            raise ValueError(f"{both[0].isoformat()} is listed in both 'extra' and 'removed'")
        return self

    @cached_property
    def _extra(self) -> frozenset[date]:
        return frozenset(self.extra)

    @cached_property
    def _removed(self) -> frozenset[date]:
        return frozenset(self.removed)

    def closed_on(self, day: date) -> bool:
        if day in self._extra:
            return True
        return day not in self._removed and day in _public_holidays(self.country, self.subdivision, day.year)


class BusinessHours(_Config):
    """When the support team works: a time zone, opening ranges per weekday and holidays.

    A weekday that isn't listed is closed. Each day takes a list of ``HH:MM-HH:MM`` ranges (one string is
    accepted too); ranges may touch but not overlap, and ``24:00`` ends a range at midnight.
    """

    time_zone: str = Field(description="IANA time zone, e.g. Europe/London")
    mon: tuple[str, ...] = ()
    tue: tuple[str, ...] = ()
    wed: tuple[str, ...] = ()
    thu: tuple[str, ...] = ()
    fri: tuple[str, ...] = ()
    sat: tuple[str, ...] = ()
    sun: tuple[str, ...] = ()
    holidays: HolidayRules | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            if not available_timezones():
                raise ValueError(
                    f"can't check '{name}': this system has no time zone database (install the tzdata package)"
                ) from None
            raise ValueError(f"'{name}' is not an IANA time zone such as Europe/London or America/New_York") from None
        return name

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _one_range_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges(cls, ranges: tuple[str, ...]) -> tuple[str, ...]:
        parsed = sorted(_parse_range(text) for text in ranges)
        for (start, end), (next_start, next_end) in pairwise(parsed):
            if next_start < end:
                raise ValueError(f"'{_format_range(start, end)}' and '{_format_range(next_start, next_end)}' overlap")
        return tuple(_format_range(start, end) for start, end in parsed)

    @model_validator(mode="after")
    def _open_some_time(self) -> BusinessHours:
        if not any(self.weekly):
            raise ValueError(
                "no opening hours on any day; give at least one range such as mon: ['09:00-17:00'] "
                "(or leave business_hours out to count SLAs around the clock)"
            )
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def weekly(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Opening ranges in minutes since midnight, indexed by ``date.weekday()`` (Monday = 0)."""
        return tuple(tuple(_parse_range(text) for text in getattr(self, day)) for day in WEEKDAYS)

    def closed_on(self, day: date) -> bool:
        """A holiday (a weekday without ranges is closed too, but that is in ``weekly``)."""
        return self.holidays is not None and self.holidays.closed_on(day)


def require_aware(what: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (got the naive date-time {value.isoformat()})")
    return value.astimezone(UTC)


class BusinessCalendar:
    """Business-time arithmetic on a workspace's ``BusinessHours``; ``None`` means open 24/7.

    Walks day by day over the opening ranges (never minute by minute); holiday lookups are cached per year.
    """

    def __init__(self, hours: BusinessHours | None = None) -> None:
        self.hours = hours

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        return cls(None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BusinessCalendar) and self.hours == other.hours

    def __hash__(self) -> int:
        return hash(self.hours)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.hours!r})"

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed after ``start``.

        A start outside opening hours counts from the next opening; a deadline that falls exactly on a closing
        time is that closing time, not the next morning. Raises ``NoBusinessTime`` if the calendar has no
        business time for two years.
        """
        start = require_aware("start", start)
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative (got {duration})")
        if self.hours is None or not duration:
            return start + duration
        remaining = duration
        for opens, closes in self._open_intervals(start, until=None):
            opens = max(opens, start)
            if closes <= opens:
                continue
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise NoBusinessTime(f"no business time after {start.isoformat()}")  # pragma: no cover (walk raises first)

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in ``[a, b)``; zero if ``b`` is not after ``a``."""
        a = require_aware("a", a)
        b = require_aware("b", b)
        if b <= a:
            return timedelta(0)
        if self.hours is None:
            return b - a
        total = timedelta(0)
        for opens, closes in self._open_intervals(a, until=b):
            overlap = min(closes, b) - max(opens, a)
            if overlap > timedelta(0):
                total += overlap
        return total

    def is_open(self, at: datetime) -> bool:
        at = require_aware("at", at)
        if self.hours is None:
            return True
        return any(opens <= at < closes for opens, closes in self._open_intervals(at, until=at))

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of one local calendar day as UTC instants.

        Wall times are converted with the zone's rules, so a range across a DST change is an hour shorter or
        longer, and a range inside the skipped hour of a spring-forward is empty.
        """
        assert self.hours is not None
        if self.hours.closed_on(day):
            return []
        zone = self.hours.zone
        intervals = []
        for start, end in self.hours.weekly[day.weekday()]:
            opens = datetime.combine(day, time(start // 60, start % 60), tzinfo=zone)
            end_day = day + timedelta(days=end // MINUTES_PER_DAY)
            end %= MINUTES_PER_DAY
            closes = datetime.combine(end_day, time(end // 60, end % 60), tzinfo=zone)
            intervals.append((opens.astimezone(UTC), closes.astimezone(UTC)))
        return intervals

    def _open_intervals(self, start: datetime, until: datetime | None) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals in time order, from the local day before ``start``'s through ``until``'s day.

        Without ``until`` the walk is endless, except that it raises ``NoBusinessTime`` after
        ``MAX_CLOSED_DAYS`` consecutive days without business time.
        """
        assert self.hours is not None
        zone = self.hours.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        last_day = until.astimezone(zone).date() if until is not None else None
        first_day = day + timedelta(days=1)
        previous_close = start - timedelta(days=2)
        closed_days = 0
        while last_day is None or day <= last_day:
            open_any = False
            for opens, closes in self._day_intervals(day):
                opens = max(opens, previous_close)  # zones that shift at midnight could make days overlap
                if closes > opens:
                    open_any = True
                    previous_close = closes
                    yield opens, closes
            closed_days = 0 if open_any else closed_days + 1
            if last_day is None and closed_days > MAX_CLOSED_DAYS:
                closed_since = max(first_day, day - timedelta(days=closed_days - 1))
                raise NoBusinessTime(
                    f"no business time in the {MAX_CLOSED_DAYS} days from {closed_since.isoformat()} "
                    f"({self.hours.time_zone}); check business_hours and holidays.extra"
                )
            day += timedelta(days=1)
