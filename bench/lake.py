"""8. The event lake: report query time at 1 million events on DuckDB, and what Athena would scan.

A year of a mid-sized help desk (about 180 conversations a day, two thirds reaching a person:
1,000,000 events in all, messages the most) is written in the lake's layout, each day's events of a
type in one gzip'd object, as a compacted lake holds them (Firehose's 5-minute buffers make more,
smaller ones: DuckDB's load time grows with their number, Athena's bytes don't).

- **Query time**: every section of the Reports page for the last 30 days, on DuckDB over those
  files (as the local runtime runs them), median of ``REPEATS`` runs each; the whole page is the sum.
- **Bytes scanned**: Athena reads whole objects of the partitions a query reaches (JSON has no
  column pruning), so per section this adds up the objects of the days and detail types it reads:
  the range's days for the facts, and every day up to the range's end for the tables a view joins
  as a dimension (``helpdesk.domain.metrics.scanned_tables``), priced at Athena's per-TB rate with its
  10 MB minimum per query.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import REPO, Result

TARGET_EVENTS = int(os.environ.get("BENCH_LAKE_EVENTS", "1000000"))
DAYS = 365
OBJECTS_PER_PARTITION = 1
REPEATS = 3
RANGE_DAYS = 30
PAGE_GOAL_SECONDS = 10.0
MB = 1024 * 1024


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Year:
    """Synthetic events with the fields the views read (the rest of each detail as the schemas say)."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
        self.sequence = 0
        self.ticket_number = 0
        self.events: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.count = 0

    def emit(self, detail_type: str, at: datetime, **detail: Any) -> None:
        self.sequence += 1
        body = {"event_id": str(uuid.UUID(int=self.random.getrandbits(128))), "occurred_at": _iso(at),
                "sequence": str(self.sequence), **detail}  # fmt: skip
        event = {"version": "0", "id": body["event_id"], "detail-type": detail_type, "source": "helpdesk",
                 "time": _iso(at), "region": "us-east-1", "resources": [], "detail": body}  # fmt: skip
        self.events[(detail_type, body["occurred_at"][:10])].append(event)
        self.count += 1

    def conversation(self, start: datetime) -> None:
        r = self.random
        cid = uuid.UUID(int=r.getrandbits(128)).hex
        team = r.choice(("frontline", "returns", "logistics", "billing"))
        channel = "email" if r.random() < 0.2 else "messenger"
        common = {"conversation_id": cid, "customer_id": f"c{r.randrange(20000)}", "team_id": team}
        self.emit("ConversationStarted", start, **common, channel=channel, status="open", assignee_id=None,
                  customer_is_visitor=False, identity_verified=True, viewed_object_type="order")  # fmt: skip
        at = start
        for _ in range(8):
            at += timedelta(seconds=r.randrange(5, 300))
            message = {"message_id": uuid.uuid4().hex, "author_type": "customer", "author_id": None}
            self.emit("MessageReceived", at, **common, **message, internal=False, message_kind="text",
                      body_length=80, attachment_count=0)  # fmt: skip
        path = r.choice(("where-is-my-order", "change-delivery-slot", "damaged-item", "something-else", None))
        if r.random() < 0.4:
            article = r.choice(("shipping", "returns", "refund-timing", "warranty", "gift-cards"))
            kb = {**common, "channel": channel, "article_id": article, "path_id": path, "step_id": "kb"}
            self.emit("KnowledgeAnswerShown", at, **kb)
            if r.random() < 0.75:
                self.emit("KnowledgeAnswerRated", at + timedelta(seconds=20), **kb, helpful=r.random() < 0.6)
        outcome = r.choices(("resolved", "handed_off", "ticket_created"), (35, 30, 35))[0]
        self.emit("BotConversationEnded", at + timedelta(seconds=30), **common, channel=channel, outcome=outcome,
                  resolved_by="kb" if outcome == "resolved" else None, path_id=path, step_id="end",
                  handoff_reason="requested" if outcome == "handed_off" else None)  # fmt: skip
        if outcome == "resolved":
            self.emit("BotResolved", at + timedelta(seconds=30), **common, resolved_by="kb", path_id=path)
        else:
            self.ticket(at + timedelta(minutes=1), cid, team)

    def ticket(self, created: datetime, conversation_id: str, team: str) -> None:
        r = self.random
        self.ticket_number += 1
        ref = {"ticket_id": uuid.uuid4().hex, "ticket_number": self.ticket_number, "category": "customer",
               "ticket_type_id": r.choice(("damaged-item", "delivery-problem", "refund-request")), "team_id": team,
               "customer_id": "c1", "assignee_id": f"agent-{r.randrange(12)}", "version": 1}  # fmt: skip
        links = {"conversation_id": conversation_id, "linked_ticket_id": None, "tracker_id": None}
        self.emit("TicketCreated", created, **ref, **links, state_id="open", state_category="submitted",
                  priority="normal", created_by_type="bot")  # fmt: skip
        self.emit("TicketAssigned", created, **ref, from_assignee_id=None, to_assignee_id=ref["assignee_id"],
                  from_team_id=team, to_team_id=team)  # fmt: skip
        first = r.randrange(60, 6 * 3600)
        started = _iso(created)
        for index in range(3):
            self.emit("TicketReplied", created + timedelta(seconds=first + index * 3600), ticket_id=ref["ticket_id"],
                      part_id=uuid.uuid4().hex, author_type="agent", author_id=ref["assignee_id"],
                      visible_to_customer=True, body_length=120, attachment_count=0)  # fmt: skip
        breached = first > 4 * 3600
        if breached:
            self.emit("SlaBreached", created + timedelta(hours=4), **ref, clock="first_response", started_at=started,
                      due_at=None, breached_at=_iso(created + timedelta(hours=4)))  # fmt: skip
        stop = {"clock": "first_response", "started_at": started, "fulfilled": True, "elapsed_seconds": first,
                "target_seconds": 4 * 3600, "stopped_at": _iso(created + timedelta(seconds=first)),
                "breached_at": _iso(created + timedelta(hours=4)) if breached else None}  # fmt: skip
        self.emit("SlaClockStopped", created + timedelta(seconds=first), **ref, **stop)
        if r.random() < 0.85:
            resolved = created + timedelta(seconds=r.randrange(3600, 3 * 86400))
            elapsed = int((resolved - created).total_seconds())
            self.emit("TicketStateChanged", resolved, **ref, from_state_id="open", to_state_id="done",
                      from_state_category="in_progress", to_state_category="resolved")  # fmt: skip
            self.emit("TicketResolved", resolved, **ref, state_id="done", from_state_category="in_progress")
            run = {"clock": "resolution", "started_at": started, "fulfilled": True, "breached_at": None}
            self.emit("SlaClockStopped", resolved, **ref, **run, elapsed_seconds=elapsed, target_seconds=2 * 86400,
                      stopped_at=_iso(resolved))  # fmt: skip
            if r.random() < 0.45:
                self.emit("CsatRated", resolved + timedelta(hours=1), **ref, score=r.choice((1, 3, 4, 5, 5)),
                          has_comment=False)  # fmt: skip


def write_year(root: Path, last_day: date) -> tuple[int, int]:
    """About ``TARGET_EVENTS`` events over ``DAYS`` days ending ``last_day``; (events, bytes) written."""
    from helpdesk.domain import lake

    year = _Year()
    first = datetime.combine(last_day - timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=UTC)
    while year.count < TARGET_EVENTS:
        day = min(DAYS - 1, year.count * DAYS // TARGET_EVENTS)  # the same number of events every day
        year.conversation(first + timedelta(days=day, seconds=year.random.randrange(8 * 3600, 18 * 3600)))
    written = 0
    for (detail_type, dt), events in year.events.items():
        if dt > last_day.isoformat():
            continue
        size = -(-len(events) // OBJECTS_PER_PARTITION)
        for index in range(0, len(events), size):
            key = lake.object_key(detail_type, dt, "bench", datetime.now(UTC), f"{index:06d}{uuid.uuid4().hex[:8]}")
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            body = lake.encode(events[index : index + size])
            path.write_bytes(body)
            written += len(body)
    return year.count, written


def partition_bytes(root: Path) -> dict[tuple[str, str], int]:
    sizes: dict[tuple[str, str], int] = defaultdict(int)
    for path in (root / "events").glob("detail_type=*/dt=*/*.json.gz"):
        detail_type = path.parent.parent.name.removeprefix("detail_type=")
        sizes[(detail_type, path.parent.name.removeprefix("dt="))] += path.stat().st_size
    return sizes


def scanned_tables(section: str) -> dict[str, bool]:
    """The detail types a section's query reaches through the views, and whether each is read whole
    (every day up to the range's end: joined as a dimension, or a query without a day range) rather
    than only the range's days. Found by reading the SQL (sqlglot), so it follows the views."""
    import sqlglot
    from helpdesk.domain import lake
    from helpdesk.domain.metrics import metric_views, section_query
    from sqlglot import exp

    views = {view.name: view.sql for view in metric_views()}
    detail_types = {table.view: table.detail_type for table in lake.event_tables(REPO / "events" / "schemas")}
    reached: dict[str, bool] = {}

    def visit(sql: str, whole: bool, own: str = "") -> None:
        tree = sqlglot.parse_one(sql, read="trino")
        ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            name = table.name
            if name in ctes or name == own:
                continue
            dimension = whole or isinstance(table.parent, exp.Join)
            if name in views:
                visit(views[name], dimension, name)
            elif name in detail_types:
                reached[detail_types[name]] = reached.get(detail_types[name], False) or dimension

    bound = section_query(section).bind(dict.fromkeys(section_query(section).parameters, "")).sql
    visit(bound, "BETWEEN" not in bound)
    return reached


def scanned_bytes(section: str, sizes: dict[tuple[str, str], int], first: str, last: str) -> int:
    total = 0
    for detail_type, whole in scanned_tables(section).items():
        total += sum(
            size
            for (kind, dt), size in sizes.items()
            if kind == detail_type and (dt <= last if whole else first <= dt <= last)
        )
    return total


def run() -> list[Result]:
    from helpdesk.adapters.duckdb_lake import DuckDbLake
    from helpdesk.domain.metrics import SECTIONS, section_query
    from helpdesk.services.reports import ReportRange

    prices = json.loads((REPO / "bench" / "prices.json").read_text())
    athena = prices["aws"]["athena_tb_scanned"]
    per_tb, minimum = athena["usd"], athena["minimum_mb_per_query"] * MB
    last_day = date(2026, 11, 30)
    report = ReportRange(last_day - timedelta(days=RANGE_DAYS - 1), last_day)
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as scratch:
        root = Path(scratch)
        started = time.monotonic()
        events, written = write_year(root, last_day)
        generated = time.monotonic() - started
        engine = DuckDbLake(root)
        began = time.perf_counter()
        engine.refresh()
        loaded = time.perf_counter() - began
        timings: dict[str, float] = {}
        for section in SECTIONS:
            bound = section_query(section).bind(report.parameters() | {"segment": "", "breakdown": "", "outcome": ""})
            runs = []
            for _ in range(REPEATS):
                began = time.perf_counter()
                execution = engine.start(bound)
                runs.append(time.perf_counter() - began)
                failure = engine.failure(execution)
                if failure:
                    raise RuntimeError(f"{section}: {failure}")
            timings[section] = statistics.median(runs)
        sizes = partition_bytes(root)
        params = report.parameters()
        scans = {s: scanned_bytes(s, sizes, params["from_day"], params["to_day"]) for s in SECTIONS}
    page_seconds = sum(timings.values())
    billed = sum(max(b, minimum) for b in scans.values())
    slowest = max(timings, key=lambda s: timings[s])
    details = {
        "events": events,
        "lake_mb": round(written / MB, 1),
        "generation_seconds": round(generated, 1),
        "load_seconds": round(loaded, 1),
        "range_days": RANGE_DAYS,
        "section_seconds": {s: round(t, 3) for s, t in timings.items()},
        "section_scanned_mb": {s: round(b / MB, 2) for s, b in scans.items()},
        "objects_per_partition": OBJECTS_PER_PARTITION,
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
    }
    return [
        Result(
            benchmark="lake",
            figure=f"Reports page, last {RANGE_DAYS} days at {events:,} events: all sections on DuckDB",
            value=round(page_seconds, 2),
            unit="s",
            goal=f"<= {PAGE_GOAL_SECONDS:g} s",
            met=page_seconds <= PAGE_GOAL_SECONDS,
            details=details,
        ),
        Result(
            benchmark="lake",
            figure="loading the lake into DuckDB (once, when the local runtime first answers a report)",
            value=round(loaded, 1),
            unit="s",
            goal="reported",
            met=None,
            details={},
        ),
        Result(
            benchmark="lake",
            figure=f"slowest section on DuckDB ({slowest})",
            value=round(timings[slowest], 2),
            unit="s",
            goal="reported",
            met=None,
            details={},
        ),
        Result(
            benchmark="lake",
            figure=f"bytes Athena would scan for the page ({RANGE_DAYS} days, {len(SECTIONS)} queries; lake "
            f"{written / MB:.0f} MB)",
            value=round(sum(scans.values()) / MB, 1),
            unit="MB",
            goal="reported",
            met=None,
            details={"section_scanned_mb": details["section_scanned_mb"]},
        ),
        Result(
            benchmark="lake",
            figure="Athena cost of one Reports page (10 MB minimum per query, list price)",
            value=round(billed / 1024**4 * per_tb, 5),
            unit="USD",
            goal="reported",
            met=None,
            details={"billed_mb": round(billed / MB, 1), "usd_per_tb": per_tb},
        ),
    ]
