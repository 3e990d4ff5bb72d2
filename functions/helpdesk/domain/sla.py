"""SLA clocks that count business time, pause while waiting on the customer, and stop at resolution.

``SlaClock`` / ``SlaState``: the clocks on one ticket and the pure transitions the ticket service and
the SLA workflow call. Each transition returns a new state; nothing is mutated. Time is counted on a
``BusinessCalendar`` (``helpdesk.domain.business_hours``).

Every instant going in must be timezone-aware; every instant coming out is in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr

from helpdesk.domain.business_hours import BusinessCalendar, BusinessHours, NoBusinessTime, require_aware

if TYPE_CHECKING:
    from helpdesk.domain.workspace import SlaPolicy, StateCategory

__all__ = ["BusinessCalendar", "BusinessHours", "NoBusinessTime", "SlaClock", "SlaState"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        now = require_aware("now", now)
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
        now = require_aware("now", now)
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
        now = require_aware("now", now)
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
        now = require_aware("now", now)
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
        return self._mark(name, "breached_at", require_aware("now", now))

    def mark_warned(self, name: ClockName, now: datetime) -> SlaState:
        """Record that the warning for ``name`` was sent; it won't be sent again (idempotent)."""
        return self._mark(name, "warned_at", require_aware("now", now))

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
        now = require_aware("now", now)
        return [
            clock.name
            for clock in self._running()
            if clock.breached_at is None and clock.due_at is not None and clock.due_at <= now
        ]

    def warnings_due(self, now: datetime) -> list[ClockName]:
        """Running clocks past their warning time, not yet warned, and not already overdue (that is a breach)."""
        now = require_aware("now", now)
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
