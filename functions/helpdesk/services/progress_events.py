"""The events the reports are made of, beside the ticket and conversation events: how the bot's part
went (knowledge-base answers shown and judged, the end of its part and why) and each SLA clock's run
(its warning, its breach, and when it stopped with the business time it used).

Called by ``domain_events`` with the change's builder; every event goes out through its model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from helpdesk.domain.changes import iso as _iso
from helpdesk.domain.changes import json_list as _json_list
from helpdesk.domain.changes import json_map as _json_map
from helpdesk.domain.changes import when as _when
from helpdesk.domain.events import DetailType
from helpdesk.domain.models import Conversation
from helpdesk.domain.sla import SlaClock

SLA_CLOCKS = ("first_response", "next_response", "resolution")


class EventSink(Protocol):
    def event(self, detail_type: DetailType, at: datetime, data: dict[str, Any], qualifier: str = "") -> None: ...


def bot_progress(
    builder: EventSink, conversation: Conversation, bot: dict[str, Any], was: dict[str, Any], fallback: datetime
) -> None:
    """Knowledge-base answers shown and judged, and the end of the bot's part (whatever its outcome)."""
    shown, before = _json_list(bot.get("kb_answers")), _json_list(was.get("kb_answers"))
    for index, answer in enumerate(shown):
        earlier = before[index] if index < len(before) else None
        common = {
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "team_id": conversation.team_id,
            "channel": conversation.channel.value,
            "article_id": str(answer["article_id"]),
            "path_id": answer.get("path_id"),
            "step_id": answer.get("step_id"),
        }
        if earlier is None:
            builder.event(DetailType.KNOWLEDGE_ANSWER_SHOWN, fallback, common, qualifier=str(index))
        if answer.get("helpful") is not None and (earlier is None or earlier.get("helpful") is None):
            builder.event(
                DetailType.KNOWLEDGE_ANSWER_RATED,
                fallback,
                common | {"helpful": bool(answer["helpful"])},
                qualifier=str(index),
            )
    if bot.get("outcome") and not was.get("outcome"):
        builder.event(
            DetailType.BOT_CONVERSATION_ENDED,
            _when(bot.get("resolved_at"), fallback),
            {
                "conversation_id": conversation.id,
                "customer_id": conversation.customer_id,
                "team_id": conversation.team_id,
                "channel": conversation.channel.value,
                "outcome": str(bot["outcome"]),
                "resolved_by": str(bot["resolved_by"]) if bot.get("resolved_by") else None,
                "path_id": str(bot["path_id"]) if bot.get("path_id") else None,
                "step_id": str(bot["step_id"]) if bot.get("step_id") else None,
                "handoff_reason": str(bot["handoff_reason"]) if bot.get("handoff_reason") else None,
            },
        )


def sla_clocks(
    builder: EventSink, ref: dict[str, Any], old: dict[str, Any], new: dict[str, Any], fallback: datetime
) -> None:
    old_clocks, new_clocks = _json_map(old.get("clocks")), _json_map(new.get("clocks"))
    for clock in SLA_CLOCKS:
        now, was = _json_map(new_clocks.get(clock)), _json_map(old_clocks.get(clock))
        # A clock run is told apart by when it started: next_response starts anew after each reply.
        run = {"clock": clock, "started_at": _iso(_when(now.get("started_at"), fallback))} if now else {}
        for mark, detail_type in (("warned_at", DetailType.SLA_WARNING), ("breached_at", DetailType.SLA_BREACHED)):
            if now.get(mark) and not was.get(mark):
                at = _when(now[mark], fallback)
                due = now.get("due_at")
                builder.event(
                    detail_type,
                    at,
                    ref | run | {"due_at": _iso(_when(due, at)) if due else None, mark: _iso(at)},
                    qualifier=clock,
                )
        if now.get("stopped_at") and now.get("stopped_at") != was.get("stopped_at"):
            stopped = SlaClock.model_validate(now)
            builder.event(
                DetailType.SLA_CLOCK_STOPPED,
                stopped.stopped_at or fallback,
                ref | run | _clock_outcome(stopped),
                qualifier=f"{clock}/stopped",
            )


def _clock_outcome(clock: SlaClock) -> dict[str, Any]:
    """How a stopped clock did: business time used against its target, and when its breach was reported."""
    elapsed, target = int(clock.elapsed.total_seconds()), int(clock.target.total_seconds())
    return {
        "stopped_at": _iso(clock.stopped_at or clock.started_at),
        "fulfilled": clock.met_at is not None,
        "elapsed_seconds": elapsed,
        "target_seconds": target,
        "breached_at": _iso(clock.breached_at) if clock.breached_at else None,
    }
