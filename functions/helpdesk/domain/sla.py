"""SLA clocks that count business time: opening hours, public holidays and pausing.

- ``BusinessHours``: the workspace's opening hours as written in ``workspace.yaml`` (an IANA time zone,
  ranges per weekday, public holidays from the ``holidays`` library plus local extra/removed dates).
- ``BusinessCalendar``: business-time arithmetic on those hours: ``add``, ``between``, ``is_open``.
  Without hours it is open 24/7.
- ``SlaClock`` / ``SlaState``: the clocks on one ticket and the pure transitions the ticket service and
  the SLA workflow call. Each transition returns a new state; nothing is mutated.

Every instant going in must be timezone-aware; every instant coming out is in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property, lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holiday_library
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

if TYPE_CHECKING:
    from helpdesk.domain.workspace import SlaPolicy, StateCategory

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
    return holiday_library.list_supported_countries()


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one country (subdivision) in one year; looked up once per process."""
    return frozenset(holiday_library.country_holidays(country, subdiv=subdivision, years=year).keys())


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


def _require_aware(what: str, value: datetime) -> datetime:
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
        start = _require_aware("start", start)
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
        a = _require_aware("a", a)
        b = _require_aware("b", b)
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
        at = _require_aware("at", at)
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


ClockName = Literal["first_response", "next_response", "resolution"]
CLOCK_NAMES: tuple[ClockName, ...] = ("first_response", "next_response", "resolution")
Category = Literal["submitted", "in_progress", "waiting_on_customer", "resolved"]
_CATEGORIES: tuple[Category, ...] = ("submitted", "in_progress", "waiting_on_customer", "resolved")


def _category(value: StateCategory | str) -> Category:
    for category in _CATEGORIES:
        if value == category:
            return category
    raise ValueError(f"'{value}' is not a state category; use one of {', '.join(_CATEGORIES)}")


class SlaClock(_Config):
    """One promise on a ticket, counted in business time.

    Running: ``running_since`` is set and ``due_at``/``warn_at_time`` are computed from it. Paused (ticket
    waiting on the customer): not running and not stopped. Stopped: ``stopped_at`` is set, and ``met_at`` too
    when the promise was kept by the reply or resolution. A breached clock keeps running: it is still owed.
    """

    name: ClockName
    target: timedelta
    started_at: AwareDatetime
    elapsed: timedelta = timedelta(0)
    """Business time consumed by earlier runs (before ``running_since``)."""
    running_since: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    warn_at_time: AwareDatetime | None = None
    met_at: AwareDatetime | None = None
    stopped_at: AwareDatetime | None = None
    breached_at: AwareDatetime | None = None
    warned_at: AwareDatetime | None = None

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def paused(self) -> bool:
        return not self.running and not self.stopped


class SlaState(_Config):
    """The SLA clocks of one ticket, plus the policy terms they were started with.

    Stored as JSON on the ticket (``model_dump_json()``) and read back with ``SlaState.load(raw, calendar)``:
    the calendar isn't stored, so a changed opening time applies to clocks from their next start or resume.
    """

    clocks: dict[ClockName, SlaClock] = Field(default_factory=dict)
    next_response_target: timedelta | None = None
    warn_at: float = Field(default=0.8, gt=0, lt=1)
    business_hours: bool = True
    """Whether the clocks count business time (the policy's choice) or run 24/7."""
    category: Category = "submitted"
    """The ticket's state category, as last told by ``start`` or ``on_category_change``."""

    _calendar: BusinessCalendar | None = PrivateAttr(default=None)

    @classmethod
    def start(
        cls,
        policy: SlaPolicy,
        calendar: BusinessCalendar,
        now: datetime,
        *,
        category: StateCategory | str = "submitted",
    ) -> SlaState:
        """The clocks of a newly created ticket: first response and resolution running.

        ``calendar`` is the workspace's; it is ignored (24/7) when the policy says ``business_hours: false``.
        A ticket created in a waiting-on-customer state starts with resolution paused.
        """
        now = _require_aware("now", now)
        state = cls(
            next_response_target=policy.next_response,
            warn_at=policy.warn_at,
            business_hours=policy.business_hours,
            category=_category(category),
        )
        state._calendar = calendar if policy.business_hours else BusinessCalendar.always_open()
        first = state._run(SlaClock(name="first_response", target=policy.first_response, started_at=now), now)
        resolution = SlaClock(name="resolution", target=policy.resolution, started_at=now)
        if state.category != "waiting_on_customer":
            resolution = state._run(resolution, now)
        return state._with({"first_response": first, "resolution": resolution})

    @classmethod
    def load(cls, raw: str | bytes | dict[str, Any], calendar: BusinessCalendar) -> SlaState:
        """A stored state (JSON text or its parsed dict), bound to the workspace's calendar."""
        state = cls.model_validate_json(raw) if isinstance(raw, str | bytes) else cls.model_validate(raw)
        state._calendar = calendar if state.business_hours else BusinessCalendar.always_open()
        return state

    @property
    def calendar(self) -> BusinessCalendar:
        if self._calendar is None:
            raise RuntimeError("this SlaState has no calendar; create it with SlaState.start or SlaState.load")
        return self._calendar

    def clock(self, name: ClockName) -> SlaClock | None:
        return self.clocks.get(name)

    # Transitions -------------------------------------------------------------------------------------------

    def on_agent_reply(self, now: datetime) -> SlaState:
        """An agent answered the customer: the first response (if still owed) and any next response are met."""
        now = _require_aware("now", now)
        changed: dict[ClockName, SlaClock] = {}
        first = self.clocks.get("first_response")
        if first is not None and first.running:
            changed["first_response"] = self._stop(first, now, met=True)
        follow_up = self.clocks.get("next_response")
        if follow_up is not None and not follow_up.stopped:
            changed["next_response"] = self._stop(follow_up, now, met=True)
        return self._with(changed)

    def on_customer_message(self, now: datetime) -> SlaState:
        """The customer wrote again: a next-response clock starts, if the policy has one and none is owed.

        Nothing starts while the first response is still owed, nor on a resolved ticket: when a message
        reopens a ticket, call ``on_category_change`` first. On a ticket waiting on the customer the clock
        starts paused (the category change that usually follows resumes it).
        """
        now = _require_aware("now", now)
        if self.next_response_target is None or self.category == "resolved":
            return self
        first = self.clocks.get("first_response")
        current = self.clocks.get("next_response")
        if (first is not None and not first.stopped) or (current is not None and not current.stopped):
            return self
        clock = SlaClock(name="next_response", target=self.next_response_target, started_at=now)
        if self.category != "waiting_on_customer":
            clock = self._run(clock, now)
        return self._with({"next_response": clock})

    def on_category_change(self, old: StateCategory | str, new: StateCategory | str, now: datetime) -> SlaState:
        """The ticket moved between state categories.

        Entering waiting-on-customer pauses resolution and next response; leaving it resumes them. Entering
        resolved stops every clock (resolution as met); leaving resolved restarts resolution from the business
        time it had already used.
        """
        now = _require_aware("now", now)
        old_category, new_category = _category(old), _category(new)
        if old_category == new_category:
            return self._with({}, category=new_category)
        changed: dict[ClockName, SlaClock] = {}
        waiting = new_category == "waiting_on_customer"
        if new_category == "resolved":
            for name, clock in self.clocks.items():
                if not clock.stopped:
                    changed[name] = self._stop(clock, now, met=name == "resolution")
        else:
            resolution = self.clocks.get("resolution")
            if old_category == "resolved" and resolution is not None:
                resolution = resolution.model_copy(update={"stopped_at": None, "met_at": None})
                changed["resolution"] = resolution if waiting else self._run(resolution, now)
            pausable: tuple[ClockName, ...] = ("resolution", "next_response")
            for pausable_name in pausable:
                current = changed.get(pausable_name) or self.clocks.get(pausable_name)
                if current is None:
                    continue
                if waiting and current.running:
                    changed[pausable_name] = self._halt(current, now)
                elif not waiting and current.paused:
                    changed[pausable_name] = self._run(current, now)
        return self._with(changed, category=new_category)

    def mark_breached(self, name: ClockName, now: datetime) -> SlaState:
        """Record that the breach of ``name`` was reported; it won't be reported again (idempotent)."""
        return self._mark(name, "breached_at", _require_aware("now", now))

    def mark_warned(self, name: ClockName, now: datetime) -> SlaState:
        """Record that the warning for ``name`` was sent; it won't be sent again (idempotent)."""
        return self._mark(name, "warned_at", _require_aware("now", now))

    # Questions ----------------------------------------------------------------------------------------------

    @property
    def due_at(self) -> datetime | None:
        """When the ticket must be resolved: the running resolution clock's deadline (None while paused)."""
        resolution = self.clocks.get("resolution")
        return resolution.due_at if resolution is not None and resolution.running else None

    def next_deadline(self) -> datetime | None:
        """The earliest warning or breach still to report: what a workflow should wait until (None: nothing)."""
        pending: list[datetime] = []
        for clock in self._running():
            if clock.breached_at is None and clock.due_at is not None:
                pending.append(clock.due_at)
                if clock.warned_at is None and clock.warn_at_time is not None:
                    pending.append(clock.warn_at_time)
        return min(pending, default=None)

    def overdue(self, now: datetime) -> list[ClockName]:
        """Running clocks past their deadline whose breach hasn't been reported yet."""
        now = _require_aware("now", now)
        return [
            clock.name
            for clock in self._running()
            if clock.breached_at is None and clock.due_at is not None and clock.due_at <= now
        ]

    def warnings_due(self, now: datetime) -> list[ClockName]:
        """Running clocks past their warning time, not yet warned, and not already overdue (that is a breach)."""
        now = _require_aware("now", now)
        return [
            clock.name
            for clock in self._running()
            if clock.breached_at is None
            and clock.warned_at is None
            and clock.warn_at_time is not None
            and clock.warn_at_time <= now
            and (clock.due_at is None or clock.due_at > now)
        ]

    # Internals -----------------------------------------------------------------------------------------------

    def _running(self) -> Iterator[SlaClock]:
        for name in CLOCK_NAMES:
            clock = self.clocks.get(name)
            if clock is not None and clock.running:
                yield clock

    def _with(self, changed: dict[ClockName, SlaClock], **fields: Any) -> Self:
        return self.model_copy(update={"clocks": {**self.clocks, **changed}, **fields})

    def _mark(self, name: ClockName, field: str, now: datetime) -> SlaState:
        clock = self.clocks.get(name)
        if clock is None:
            raise ValueError(f"this ticket has no '{name}' SLA clock (it has: {', '.join(self.clocks) or 'none'})")
        if getattr(clock, field) is not None:
            return self
        return self._with({name: clock.model_copy(update={field: now})})

    def _run(self, clock: SlaClock, now: datetime) -> SlaClock:
        """Start or resume ``clock`` at ``now`` and compute its deadlines from the business time left."""
        calendar = self.calendar
        left = max(clock.target - clock.elapsed, timedelta(0))
        before_warning = max(clock.target * self.warn_at - clock.elapsed, timedelta(0))
        return clock.model_copy(
            update={
                "running_since": now,
                "due_at": calendar.add(now, left),
                "warn_at_time": calendar.add(now, before_warning),
            }
        )

    def _halt(self, clock: SlaClock, now: datetime) -> SlaClock:
        """Pause ``clock``, banking the business time it ran."""
        if clock.running_since is None:
            return clock
        used = self.calendar.between(clock.running_since, now)
        return clock.model_copy(
            update={"elapsed": clock.elapsed + used, "running_since": None, "due_at": None, "warn_at_time": None}
        )

    def _stop(self, clock: SlaClock, now: datetime, *, met: bool) -> SlaClock:
        halted = self._halt(clock, now)
        return halted.model_copy(update={"stopped_at": now, "met_at": now if met else None})
