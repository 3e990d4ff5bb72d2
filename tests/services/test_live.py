"""The live channel on moto: who connects to what, and which frames each connection gets from real changes.

Changes are made through the public services; the table's stream (moto's) is read and fanned out as
the live fan-out worker does, and every frame a connection would receive is recorded. So these prove
what a person at each screen would see: their own things at once, never someone else's, never an
internal note on a customer's screen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.adapters.stream_records import decode
from helpdesk.domain.errors import Forbidden, InvalidInput, NotFound
from helpdesk.domain.live import Subscriber
from helpdesk.domain.models import Availability, ConversationStatus
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.roles import Role
from helpdesk.domain.ticket_rules import NewTicket, TicketChanges
from helpdesk.services import live as live_module
from helpdesk.services.agents import AgentService
from helpdesk.services.conversations import ConversationService
from helpdesk.services.live import LiveService
from helpdesk.services.live_fanout import LiveFanOut
from helpdesk.services.tickets import TicketService

from tests.services.test_domain_events import TableStream
from tests.support.principals import ALICE, BOB, FRONTLINE_AGENT, RETURNS_AGENT
from tests.support.workspaces import workspace_with

LEAD = AgentPrincipal(id="agent-lena", name="Lena", teams=frozenset({"returns"}), role=Role.LEAD)
ADMIN = AgentPrincipal(id="agent-ada", name="Ada", role=Role.ADMIN)


@dataclass
class Screens:
    """What each connection received, frame by frame, and which connections are gone."""

    frames: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    gone: set[str] = field(default_factory=set)

    def post(self, connection_id: str, frame: Mapping[str, Any]) -> bool:
        if connection_id in self.gone:
            return False
        self.frames[connection_id].append(dict(frame))
        return True

    def of(self, connection_id: str, frame_type: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames[connection_id] if frame_type is None or f["type"] == frame_type]

    def clear(self) -> None:
        self.frames.clear()


@dataclass
class LiveWorld:
    stores: TableStores
    workspace: Any
    screens: Screens
    live: LiveService
    fanout: LiveFanOut
    conversations: ConversationService
    tickets: TicketService
    agents: AgentService
    stream: TableStream

    def connect(self, who: CustomerPrincipal | AgentPrincipal, name: str, *, presence: str | None = None) -> Subscriber:
        if isinstance(who, AgentPrincipal):
            subscriber = Subscriber(name, "agent", who.id, who.name, who.teams, who.role)
        else:
            subscriber = Subscriber(name, "visitor" if who.is_visitor else "customer", who.user_id, who.name)
        self.live.connect(subscriber, presence=presence)
        return subscriber

    def pump(self) -> int:
        """Fan out everything committed so far (and what that wrote: unread counters, presence)."""
        handled = 0
        while records := self.stream.new_records():
            changes = [c for r in records if (c := decode(r)) is not None]
            if changes:
                self.fanout.process(changes)
            handled += len(records)
        return handled


def build_world(stores: TableStores, workspace: Any) -> LiveWorld:
    screens = Screens()
    tickets = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace)
    return LiveWorld(
        stores=stores,
        workspace=workspace,
        screens=screens,
        # A clock that stands still: typing's rate limit doesn't depend on how fast the machine is.
        live=LiveService(
            stores.live, stores.conversations, stores.tickets, workspace, screens, monotonic=lambda: 100.0
        ),
        fanout=LiveFanOut(stores.live, stores.conversations, stores.tickets, stores.agents, workspace, screens),
        conversations=ConversationService(stores.conversations, workspace),
        tickets=tickets,
        agents=AgentService(stores.agents, workspace),
        stream=TableStream(),
    )


@pytest.fixture(autouse=True)
def no_typing_memory() -> Iterator[None]:
    live_module._last_typed.clear()
    yield
    live_module._last_typed.clear()


@pytest.fixture
def world(table: str, workspace: Any) -> LiveWorld:
    return build_world(TableStores(), workspace)


def bodies(frames: list[dict[str, Any]]) -> list[str]:
    return [f["data"].get("body") for f in frames if f["type"] == "message.created"]


# --- customers ----------------------------------------------------------------------------------------


def test_a_customer_sees_an_agents_reply_at_once_and_never_an_internal_note(world: LiveWorld) -> None:
    # Given Alice on two devices, and her conversation
    world.connect(ALICE, "alice-phone")
    world.connect(ALICE, "alice-laptop")
    page = world.conversations.start(ALICE, "My parcel arrived damaged", None)
    world.pump()
    world.screens.clear()

    # When an agent replies and adds a note
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "So sorry! Checking now.", internal=False)
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "NOTE: refund fraud list?", internal=True)
    world.pump()

    # Then both her screens get the reply, each once, shaped for her; no frame mentions the note
    for screen in ("alice-phone", "alice-laptop"):
        assert bodies(world.screens.of(screen)) == ["So sorry! Checking now."]
        assert "NOTE" not in str(world.screens.of(screen))
        message = world.screens.of(screen, "message.created")[0]["data"]
        assert "internal" not in message
        assert message["conversation_id"] == page.conversation.id


def test_another_customer_receives_nothing_of_alices(world: LiveWorld) -> None:
    world.connect(BOB, "bob")
    page = world.conversations.start(ALICE, "My parcel arrived damaged", None)
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "So sorry!", internal=False)
    world.pump()

    assert world.screens.of("bob") == []


def test_unread_counts_each_reply_once_even_when_the_stream_delivers_it_twice(world: LiveWorld) -> None:
    world.connect(ALICE, "alice")
    page = world.conversations.start(ALICE, "Hello?", None)
    world.pump()
    world.screens.clear()
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "Hi Alice", internal=False)
    records = world.stream.new_records()
    changes = [c for r in records if (c := decode(r)) is not None]

    # When the same batch is fanned out twice (a retried batch)
    world.fanout.process(changes)
    world.fanout.process(changes)
    world.pump()

    # Then the reply counts once, and Alice's screen was told so
    counts = world.stores.live.unread_counts("alice")
    assert [(c.thread_id, c.unread) for c in counts] == [(page.conversation.id, 1)]
    assert [f["data"]["unread"] for f in world.screens.of("alice", "unread")] == [1]
    # and the duplicated frames carry the same ids, which the page drops
    ids = [f["id"] for f in world.screens.of("alice", "message.created")]
    assert len(ids) == 2
    assert len(set(ids)) == 1


def test_a_customer_follows_her_ticket_with_customer_labels_and_no_notes(world: LiveWorld) -> None:
    world.connect(ALICE, "alice")
    page = world.conversations.start(ALICE, "My parcel arrived damaged", None)
    ticket = world.tickets.convert_conversation(
        FRONTLINE_AGENT,
        page.conversation.id,
        NewTicket(
            ticket_type_id="damaged-item",
            attributes={"order_id": "ORD-1", "description": "x", "carrier_ref": "SECRET-REF"},
        ),
    )
    world.pump()
    world.screens.clear()

    world.tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(state_id="assessing"), version=ticket.version)
    world.tickets.reply(RETURNS_AGENT, ticket.id, "A courier will collect it", internal=False)
    world.tickets.reply(RETURNS_AGENT, ticket.id, "NOTE: check the carrier", internal=True)
    world.pump()

    updates = world.screens.of("alice", "ticket.updated")
    assert updates
    assert updates[-1]["data"]["state"]["label"] == "We're looking into it"
    assert "SECRET-REF" not in str(world.screens.of("alice"))
    assert "carrier_ref" not in updates[-1]["data"]["attributes"]
    replies = [f["data"]["body"] for f in world.screens.of("alice", "ticket.reply_created")]
    assert "A courier will collect it" in replies
    assert "NOTE" not in str(world.screens.of("alice"))
    assert "New damage report" not in str(world.screens.of("alice"))  # the internal state label


# --- agents ------------------------------------------------------------------------------------------------


def test_a_new_conversation_reaches_its_teams_agents_and_no_other_team(world: LiveWorld) -> None:
    world.connect(FRONTLINE_AGENT, "frank")
    world.connect(RETURNS_AGENT, "rita")
    world.connect(ADMIN, "ada")

    page = world.conversations.start(ALICE, "Where is my order?", None)
    world.pump()

    for screen in ("frank", "ada"):
        updated = world.screens.of(screen, "conversation.updated")
        assert [u["data"]["id"] for u in updated] == [page.conversation.id]
        assert updated[0]["data"]["last_message"]["author"]["type"] == "customer"
    assert world.screens.of("rita", "conversation.updated") == []
    # message bodies go only to whoever has the conversation open
    assert bodies(world.screens.of("frank")) == []


def test_with_agent_visibility_all_every_agent_follows_every_team(table: str) -> None:
    from helpdesk.adapters.workspace_files import load_workspace

    world = build_world(TableStores(), load_workspace(workspace_with(agent_visibility="all")))
    world.connect(RETURNS_AGENT, "rita")
    page = world.conversations.start(ALICE, "Where is my order?", None)
    world.pump()

    assert [u["data"]["id"] for u in world.screens.of("rita", "conversation.updated")] == [page.conversation.id]


def test_only_agents_watching_a_conversation_get_its_messages_internal_notes_included(world: LiveWorld) -> None:
    frank = world.connect(FRONTLINE_AGENT, "frank")
    world.connect(FRONTLINE_AGENT, "frank-other-tab")
    page = world.conversations.start(ALICE, "Hello", None)
    world.live.watch(frank, conversation_id=page.conversation.id)
    world.pump()
    world.screens.clear()

    world.conversations.send_as_customer(ALICE, page.conversation.id, "Any news?")
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "NOTE: VIP", internal=True)
    world.pump()

    watched = world.screens.of("frank", "message.created")
    assert [(m["data"]["body"], m["data"]["internal"]) for m in watched] == [("Any news?", False), ("NOTE: VIP", True)]
    assert world.screens.of("frank-other-tab", "message.created") == []
    assert world.screens.of("frank-other-tab", "conversation.updated")  # its list still moves


def test_a_hand_off_tells_the_old_team_only_that_the_conversation_left(world: LiveWorld) -> None:
    world.connect(FRONTLINE_AGENT, "frank")
    world.connect(RETURNS_AGENT, "rita")
    page = world.conversations.start(ALICE, "Broken mug", None)
    world.pump()
    world.screens.clear()

    world.conversations.assign(FRONTLINE_AGENT, page.conversation.id, team_id="returns", assignee_id=None)
    world.pump()

    moved = world.screens.of("frank", "conversation.updated")
    assert [m["data"] for m in moved] == [
        {"id": page.conversation.id, "status": "open", "team_id": "returns", "assignee_id": None, "moved_away": True}
    ]
    arrived = world.screens.of("rita", "conversation.updated")
    assert arrived
    assert arrived[-1]["data"]["customer"]["name"] == "Alice"
    assert "team_id" in arrived[-1]["data"]["changed"]


def test_a_ticket_change_lists_the_fields_a_form_shows(world: LiveWorld) -> None:
    rita = world.connect(RETURNS_AGENT, "rita")
    ticket = world.tickets.create(
        RETURNS_AGENT,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "O-1", "description": "x"}
        ),
    )
    world.live.watch(rita, ticket_id=ticket.id)
    world.pump()
    world.screens.clear()

    world.tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(priority="urgent"), version=ticket.version)
    world.pump()

    updated = world.screens.of("rita", "ticket.updated")[-1]["data"]
    assert updated["changed"] == ["priority"]
    assert updated["priority"] == "urgent"
    assert updated["version"] == ticket.version + 1
    assert world.screens.of("rita", "ticket.reply_created")  # the priority change on its timeline


def test_a_gone_connection_is_forgotten(world: LiveWorld) -> None:
    world.connect(ALICE, "alice-old")
    world.connect(ALICE, "alice-new")
    world.screens.gone.add("alice-old")

    world.conversations.start(ALICE, "Hello", None)
    world.pump()

    assert [s.connection_id for s in world.stores.live.listeners("customer#alice")] == ["alice-new"]
    assert world.screens.of("alice-new", "message.created")


# --- watching, refused ---------------------------------------------------------------------------------------


def test_nobody_watches_what_they_can_t_read(world: LiveWorld) -> None:
    page = world.conversations.start(ALICE, "Hello", None)
    ticket = world.tickets.create(
        FRONTLINE_AGENT,
        NewTicket(
            ticket_type_id="damaged-item",
            team_id="frontline",
            customer_id="alice",
            attributes={"order_id": "O-1", "description": "x"},
        ),
    )
    bob, rita = world.connect(BOB, "bob"), world.connect(RETURNS_AGENT, "rita")

    with pytest.raises(NotFound):
        world.live.watch(bob, conversation_id=page.conversation.id)
    with pytest.raises(NotFound):
        world.live.watch(bob, ticket_id=ticket.id)
    with pytest.raises(Forbidden):
        world.live.watch(rita, conversation_id=page.conversation.id)
    with pytest.raises(Forbidden):
        world.live.watch(rita, ticket_id=ticket.id)
    with pytest.raises(InvalidInput):
        world.live.watch(rita)
    assert world.stores.live.listeners(f"conversation#{page.conversation.id}") == []

    # while the owner and the admin may
    world.live.watch(world.connect(ALICE, "alice"), conversation_id=page.conversation.id)
    world.live.watch(world.connect(ADMIN, "ada"), ticket_id=ticket.id)
    assert [s.id for s in world.stores.live.listeners(f"ticket#{ticket.id}")] == ["agent-ada"]


def test_a_connection_listens_to_what_the_policy_lets_it_read(world: LiveWorld) -> None:
    topics = {
        name: world.live.topics_for(Subscriber(name, "agent", who.id, who.name, who.teams, who.role))
        for name, who in (("frank", FRONTLINE_AGENT), ("lena", LEAD), ("ada", ADMIN))
    }
    assert topics["frank"] == ["agent#agent-frank", "team#frontline"]
    assert topics["lena"] == ["agent#agent-lena", "team#returns"]
    assert topics["ada"] == ["agent#agent-ada"] + [f"team#{t.id}" for t in world.workspace.teams]
    assert world.live.topics_for(Subscriber("a", "customer", "alice")) == ["customer#alice"]


# --- typing and presence ----------------------------------------------------------------------------------------


def test_typing_goes_both_ways_but_a_note_being_written_stays_among_agents(world: LiveWorld) -> None:
    page = world.conversations.start(ALICE, "Hello", None)
    alice = world.connect(ALICE, "alice")
    frank = world.connect(FRONTLINE_AGENT, "frank")
    ada = world.connect(ADMIN, "ada")
    for who in (alice, frank, ada):
        world.live.watch(who, conversation_id=page.conversation.id)

    world.live.typing(alice, page.conversation.id)
    world.live.typing(frank, page.conversation.id)
    world.live.typing(ada, page.conversation.id, internal=True)

    assert [f["data"]["author"]["id"] for f in world.screens.of("alice", "typing")] == ["agent-frank"]
    assert [(f["data"]["author"]["id"], f["data"]["internal"]) for f in world.screens.of("frank", "typing")] == [
        ("alice", False),
        ("agent-ada", True),
    ]
    assert len(world.screens.of("ada", "typing")) == 2


def test_typing_is_rate_limited_and_refused_to_outsiders(world: LiveWorld) -> None:
    page = world.conversations.start(ALICE, "Hello", None)
    alice, frank = world.connect(ALICE, "alice"), world.connect(FRONTLINE_AGENT, "frank")
    world.live.watch(frank, conversation_id=page.conversation.id)

    told = [world.live.typing(alice, page.conversation.id) for _ in range(5)]
    assert told == [1, 0, 0, 0, 0]
    with pytest.raises(NotFound):
        world.live.typing(world.connect(BOB, "bob"), page.conversation.id)
    with pytest.raises(Forbidden):
        world.live.typing(world.connect(RETURNS_AGENT, "rita"), page.conversation.id)


def test_an_agent_is_online_while_connected_and_away_when_the_last_tab_closes(world: LiveWorld) -> None:
    world.connect(RETURNS_AGENT, "rita-watching")  # a teammate sees the presence frames
    world.connect(FRONTLINE_AGENT, "frank-1")
    world.connect(FRONTLINE_AGENT, "frank-2")
    world.pump()
    assert world.agents.me(FRONTLINE_AGENT).availability is Availability.ONLINE

    world.live.disconnect("frank-1")
    world.pump()
    assert world.agents.me(FRONTLINE_AGENT).availability is Availability.ONLINE

    world.live.disconnect("frank-2")
    world.pump()
    assert world.agents.me(FRONTLINE_AGENT).availability is Availability.AWAY
    # an agent who chose away stays away while connected
    world.connect(FRONTLINE_AGENT, "frank-3", presence="away")
    world.pump()
    assert world.agents.me(FRONTLINE_AGENT).availability is Availability.AWAY


def test_agents_with_the_same_conversation_open_see_each_other(world: LiveWorld) -> None:
    page = world.conversations.start(ALICE, "Hello", None)
    frank, ada = world.connect(FRONTLINE_AGENT, "frank"), world.connect(ADMIN, "ada")
    world.live.watch(frank, conversation_id=page.conversation.id)
    world.live.watch(ada, conversation_id=page.conversation.id)
    world.pump()

    viewers = [f["data"] for f in world.screens.of("frank", "presence") if "viewers" in f["data"]]
    assert viewers[-1] == {
        "conversation_id": page.conversation.id,
        "viewers": [{"id": "agent-ada", "name": "Ada"}, {"id": "agent-frank", "name": "Frank"}],
    }

    world.live.disconnect("ada")
    world.pump()
    viewers = [f["data"] for f in world.screens.of("frank", "presence") if "viewers" in f["data"]]
    assert viewers[-1]["viewers"] == [{"id": "agent-frank", "name": "Frank"}]


def test_a_closed_conversation_tells_its_customer(world: LiveWorld) -> None:
    world.connect(ALICE, "alice")
    page = world.conversations.start(ALICE, "Hello", None)
    world.pump()
    world.screens.clear()

    world.conversations.set_status(FRONTLINE_AGENT, page.conversation.id, ConversationStatus.CLOSED)
    world.pump()

    updated = world.screens.of("alice", "conversation.updated")
    assert [u["data"]["status"] for u in updated] == ["closed"]
    assert set(updated[0]["data"]) == {"id", "status", "ticket_id", "preview", "created_at", "updated_at"}
