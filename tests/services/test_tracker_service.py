"""Tracker tickets and back-office tickets against moto's DynamoDB, with an in-memory fan-out queue."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from helpdesk.adapters import mapping
from helpdesk.adapters.store import TableStores
from helpdesk.adapters.table import TableItem, TrackerLinkItem
from helpdesk.domain.errors import Conflict, InvalidInput
from helpdesk.domain.models import FanOutJob, PartType, TicketCategory, new_id, utc_now
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import StateCategory
from helpdesk.services.tickets import NewTicket, TicketChanges, TicketService
from helpdesk.services.trackers import TrackerService

from tests.support.principals import ALICE, FRONTLINE_AGENT, RETURNS_AGENT

LINKED = 500
LOGISTICS_AGENT = AgentPrincipal(id="agent-lou", name="Lou", teams=frozenset({"logistics"}))


class MemoryQueue:
    """Stands in for SQS: what was sent waits until a worker takes it."""

    def __init__(self) -> None:
        self.messages: deque[FanOutJob] = deque()

    def send(self, job: FanOutJob) -> None:
        self.messages.append(job)


@pytest.fixture
def queue() -> MemoryQueue:
    return MemoryQueue()


@pytest.fixture
def trackers(stores: TableStores, workspace: Any, queue: MemoryQueue) -> TrackerService:
    return TrackerService(stores.tickets, stores.trackers, workspace, queue)


@pytest.fixture
def desk(stores: TableStores, workspace: Any, trackers: TrackerService) -> TicketService:
    return TicketService(stores.tickets, stores.conversations, stores.attachments, workspace, trackers)


def customer_ticket(desk: TicketService, n: int) -> str:
    request = NewTicket(
        ticket_type_id="delivery-problem",
        customer_id=f"customer-{n}",
        attributes={"order_id": f"O-{n}", "problem": "late"},
    )
    return desk.create(FRONTLINE_AGENT, request).id


def seed_linked_tickets(desk: TicketService, tracker_id: str, count: int) -> list[str]:
    """Many linked customer tickets, fast: one built through the service, the rest copied in batches.

    (moto copies the whole table on every transaction, so 500 service calls would take minutes;
    linking through the service is covered by the other tests.)
    """
    template = desk.create(
        FRONTLINE_AGENT,
        NewTicket(
            ticket_type_id="delivery-problem",
            customer_id="customer-0",
            attributes={"order_id": "O-0", "problem": "late"},
        ),
    )
    now = utc_now()
    ids = []
    with TableItem.batch_write() as batch:
        for n in range(count):
            ticket = template.model_copy(
                update={"id": new_id(), "number": 10_000 + n, "customer_id": f"customer-{n}", "tracker_id": tracker_id}
            )
            ids.append(ticket.id)
            item = mapping.ticket_item(ticket)
            item.version = 1  # what a first save through the service stores
            batch.save(item)
            batch.save(
                TrackerLinkItem(
                    pk=mapping.ticket_pk(tracker_id),
                    sk=f"LINK#{ticket.id}",
                    tracker_id=tracker_id,
                    ticket_id=ticket.id,
                    created_at=now,
                )
            )
    return ids


def drain(queue: MemoryQueue, trackers: TrackerService) -> int:
    pages = 0
    while queue.messages:
        trackers.run(queue.messages[0])
        queue.messages.popleft()  # acknowledged only once the page is done, like SQS
        pages += 1
    return pages


@pytest.fixture
def no_table_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto copies the whole table for every item of every transaction (to roll back on failure).

    With 500 tickets and their timelines that is minutes and gigabytes. In the test below no
    transaction fails, so nothing needs rolling back: skip moto's snapshots, keep its semantics.
    """
    import moto.dynamodb.models as moto_dynamodb

    class NoTableSnapshots:
        @staticmethod
        def deepcopy(value: Any) -> Any:
            return value

    monkeypatch.setattr(moto_dynamodb, "copy", NoTableSnapshots)


@pytest.mark.usefixtures("no_table_snapshots")
def test_resolving_a_tracker_resolves_all_500_linked_tickets_and_tells_each_customer(
    desk: TicketService, trackers: TrackerService, queue: MemoryQueue, stores: TableStores
) -> None:
    # Given a tracker for a carrier outage with 500 customers' tickets linked to it
    tracker = desk.create(
        RETURNS_AGENT,
        NewTicket(
            ticket_type_id="delivery-problem",
            category=TicketCategory.TRACKER,
            team_id="logistics",
            attributes={"order_id": "many", "problem": "late"},
            title="Carrier outage in the north",
        ),
    )
    ids = seed_linked_tickets(desk, tracker.id, LINKED)

    # When the tracker is resolved
    logistics = LOGISTICS_AGENT
    desk.update(logistics, tracker.id, TicketChanges(state_id="delivered"), version=tracker.version)
    pages = drain(queue, trackers)

    # Then every linked ticket is resolved, each with one customer-visible update, in pages
    assert LINKED // 25 <= pages <= LINKED // 25 + 1  # the last full page may be followed by an empty one
    for ticket_id in ids:
        ticket, timeline, _ = stores.tickets.ticket_page(ticket_id, before=None, limit=10)
        assert ticket is not None
        assert ticket.state_category is StateCategory.RESOLVED
        updates = [p for p in timeline if p.changes and p.changes.get("tracker_id") == tracker.id]
        assert len(updates) == 1
        assert updates[0].visible_to_customer
        assert updates[0].type is PartType.STATE_CHANGE


def test_an_interrupted_fan_out_retried_loses_nothing_and_duplicates_nothing(
    desk: TicketService, trackers: TrackerService, queue: MemoryQueue, stores: TableStores, monkeypatch
) -> None:
    logistics = LOGISTICS_AGENT
    tracker = desk.create(
        logistics,
        NewTicket(
            ticket_type_id="delivery-problem",
            category=TicketCategory.TRACKER,
            attributes={"order_id": "x", "problem": "lost"},
        ),
    )
    ids = [customer_ticket(desk, n) for n in range(40)]
    trackers.link(logistics, tracker.id, ids)
    desk.reply(logistics, tracker.id, "The carrier found the lost van; parcels move again today.", internal=False)

    # The worker dies in the middle of the first page
    real_update = stores.tickets.update_ticket
    calls = {"n": 0}

    def crash_after_ten(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 11:
            raise RuntimeError("worker lost")
        return real_update(*args, **kwargs)

    monkeypatch.setattr(stores.tickets, "update_ticket", crash_after_ten)
    with pytest.raises(RuntimeError):
        trackers.run(queue.messages[0])
    monkeypatch.setattr(stores.tickets, "update_ticket", real_update)

    # The message was not acknowledged, so it is delivered again, and the rest runs
    drain(queue, trackers)

    for ticket_id in ids:
        _, timeline, _ = stores.tickets.ticket_page(ticket_id, before=None, limit=10)
        replies = [p for p in timeline if p.changes and p.changes.get("tracker_id") == tracker.id]
        assert [p.body for p in replies] == ["The carrier found the lost van; parcels move again today."]


def test_only_customer_tickets_not_on_another_tracker_can_be_linked(
    desk: TicketService, trackers: TrackerService
) -> None:
    logistics = LOGISTICS_AGENT
    make_tracker = NewTicket(
        ticket_type_id="delivery-problem",
        category=TicketCategory.TRACKER,
        attributes={"order_id": "x", "problem": "lost"},
    )
    first, second = desk.create(logistics, make_tracker), desk.create(logistics, make_tracker)
    ticket_id = customer_ticket(desk, 1)
    trackers.link(logistics, first.id, [ticket_id])

    with pytest.raises(Conflict):
        trackers.link(logistics, second.id, [ticket_id])
    with pytest.raises(Conflict):
        trackers.link(logistics, second.id, [first.id])
    with pytest.raises(InvalidInput):
        trackers.link(logistics, ticket_id, [first.id])


BILLING_AGENT = AgentPrincipal(id="agent-bea", name="Bea", teams=frozenset({"billing"}))


def test_back_office_tickets_are_internal_and_must_serve_something(desk: TicketService) -> None:
    customer = desk.create(
        FRONTLINE_AGENT,
        NewTicket(
            ticket_type_id="refund-request",
            customer_id="alice",
            attributes={"order_id": "O", "amount": "5", "reason": "charged-twice"},
        ),
    )
    back_office = desk.create(
        BILLING_AGENT,  # who works the customer ticket opens the internal work it needs
        NewTicket(
            ticket_type_id="refund-request",
            category=TicketCategory.BACK_OFFICE,
            team_id="billing",
            linked_ticket_id=customer.id,
            attributes={"order_id": "O", "amount": "5", "reason": "charged-twice"},
        ),
    )

    assert back_office.linked_ticket_id == customer.id
    assert [t.id for t in desk.list_for_customer(ALICE, cursor=None, limit=10).items] == [customer.id]
    with pytest.raises(InvalidInput):
        desk.create(
            FRONTLINE_AGENT,
            NewTicket(
                ticket_type_id="refund-request",
                category=TicketCategory.BACK_OFFICE,
                attributes={"order_id": "O", "amount": "5", "reason": "charged-twice"},
            ),
        )
    with pytest.raises(InvalidInput):
        desk.create(
            FRONTLINE_AGENT,
            NewTicket(
                ticket_type_id="refund-request",
                category=TicketCategory.BACK_OFFICE,
                customer_id="alice",
                linked_ticket_id=customer.id,
                attributes={"order_id": "O", "amount": "5", "reason": "charged-twice"},
            ),
        )
