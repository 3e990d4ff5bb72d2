"""One customer's data in the table, gathered for an export and removed by an erasure; and the
records of those requests (the erasure's being its audit entry).

==============================  ==========================  ==========  ===================================
item                            PK                          SK          what
==============================  ==========================  ==========  ===================================
data-protection request         ``PRIVACY#<request id>``    ``~META``   an export or erasure: who asked, when,
                                                                        its state; the customer as a hash
==============================  ==========================  ==========  ===================================

Access patterns, none a Scan: a request is one GetItem or PutItem/UpdateItem. Gathering a customer
(the worker, never a route): GetItem of the profile, Query ``by_customer`` for their conversations
and tickets, one Query per conversation or ticket partition (messages, timeline), BatchGet of the
attachments their messages and parts name, Query PK=CUSTOMER#uid for their unread counters.

Erasing deletes items with DeleteItem (BatchWriteItem) and anonymizes the ones kept with UpdateItem,
so the table's stream carries a REMOVE or MODIFY for every record that held their data: anything fed
by the stream (the live channel, a search index) forgets them as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from helpdesk.adapters import mapping
from helpdesk.adapters.email_records import ADDRESS_DIRECTORY_PREFIX, EmailAddressItem
from helpdesk.adapters.privacy_items import REQUEST_PREFIX, DataRequestItem
from helpdesk.adapters.search_keys import search_key_items
from helpdesk.adapters.store.base import META, TableStore
from helpdesk.adapters.store.record_parts import conversation_satellites, delete_items, ticket_satellites
from helpdesk.adapters.table import (
    AttachmentItem,
    ConversationItem,
    CustomerItem,
    MessageItem,
    TableItem,
    TicketItem,
    TicketPartItem,
)
from helpdesk.domain.email_messages import normalize_address
from helpdesk.domain.privacy import (
    ConversationRecord,
    CustomerHoldings,
    DataRequest,
    ErasureCounts,
    RequestKind,
    RequestStatus,
    erased_customer_id,
    said_by_customer,
    scrub,
)


def _request_item(request: DataRequest) -> DataRequestItem:
    return DataRequestItem(
        pk=f"{REQUEST_PREFIX}{request.id}",
        sk=META,
        id=request.id,
        request_kind=request.kind.value,
        customer_id=request.customer_id,
        customer_ref=request.customer_ref,
        status=request.status.value,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        finished_at=request.finished_at,
        object_key=request.object_key,
        counts=request.counts.model_dump() if request.counts else None,
        failure=request.failure,
    )


class CustomerDataTable(TableStore):
    # --- requests -------------------------------------------------------------------------------

    def customer_exists(self, customer_id: str) -> bool:
        """One GetItem: every customer who ever wrote has a profile (written with their first conversation)."""
        try:
            CustomerItem.get(mapping.customer_pk(customer_id), "PROFILE", attributes_to_get=["PK"])
        except DoesNotExist:
            return False
        return True

    def save_request(self, request: DataRequest) -> None:
        _request_item(request).save()

    def get_request(self, request_id: str) -> DataRequest | None:
        try:
            item = DataRequestItem.get(f"{REQUEST_PREFIX}{request_id}", META)
        except DoesNotExist:
            return None
        return DataRequest(
            id=item.id,
            kind=RequestKind(item.request_kind),
            customer_id=item.customer_id,
            customer_ref=item.customer_ref,
            status=RequestStatus(item.status),
            requested_by=item.requested_by,
            requested_at=item.requested_at,
            finished_at=item.finished_at,
            object_key=item.object_key,
            counts=ErasureCounts.model_validate(item.counts) if item.counts else None,
            failure=item.failure,
        )

    # --- gathering --------------------------------------------------------------------------------

    def holdings(self, customer_id: str) -> CustomerHoldings:
        """Everything of theirs (several requests: for the worker, never for a route)."""
        from helpdesk.adapters.store.customers import CustomerTable

        held = CustomerHoldings(customer_id=customer_id, profile=CustomerTable().get_customer(customer_id))
        attachment_ids: list[str] = []

        def children[C: MessageItem | TicketPartItem](parent: TableItem, kind: type[C], prefix: str) -> list[C]:
            """A conversation's messages or a ticket's timeline, noting the files they name."""
            rows: list[C] = [c for c in kind.query(parent.pk, kind.sk.startswith(prefix)) if isinstance(c, kind)]
            attachment_ids.extend(a["id"] for row in rows for a in row.attachments or [])
            return rows

        for item in TableItem.by_customer.query(mapping.customer_key(customer_id)):
            if isinstance(item, ConversationItem):
                messages = [mapping.message_from_item(m) for m in children(item, MessageItem, "MSG#")]
                conversation = mapping.conversation_from_item(item)
                held.conversations.append(ConversationRecord(conversation=conversation, messages=messages))
            elif isinstance(item, TicketItem):
                from helpdesk.domain.privacy import TicketRecord

                parts = [mapping.part_from_item(p) for p in children(item, TicketPartItem, "PART#")]
                held.tickets.append(TicketRecord(ticket=mapping.ticket_from_item(item), parts=parts))
        if attachment_ids:
            keys = [(mapping.attachment_pk(i), META) for i in dict.fromkeys(attachment_ids)]
            found = [i for i in AttachmentItem.batch_get(keys) if isinstance(i, AttachmentItem)]
            held.attachments = sorted((mapping.attachment_from_item(i) for i in found), key=lambda a: a.id)
        held.conversations.sort(key=lambda r: r.conversation.id)
        held.tickets.sort(key=lambda r: r.ticket.id)
        return held

    # --- erasing ----------------------------------------------------------------------------------

    def erase(self, held: CustomerHoldings, *, keep_agent_messages: bool) -> ErasureCounts:
        """Delete the customer's items; with ``keep_agent_messages``, keep their conversations' and
        tickets' agent words anonymized (no customer id, name, address or phone left in them)."""
        counts = ErasureCounts()
        doomed: list[TableItem] = []
        secrets, stand_in = held.secrets, erased_customer_id(held.customer_id)
        for record in held.conversations:
            conversation = record.conversation
            kept = (
                [m for m in record.messages if not said_by_customer(m.author.type.value)] if keep_agent_messages else []
            )
            for message in record.messages:
                if message in kept:
                    MessageItem(pk=mapping.conversation_pk(conversation.id), sk=f"MSG#{message.id}").update(
                        actions=[
                            MessageItem.customer_id.set(stand_in),
                            MessageItem.body.set(scrub(message.body, secrets) or ""),
                        ]
                    )
                    counts.items_anonymized += 1
                else:
                    doomed.append(MessageItem(pk=mapping.conversation_pk(conversation.id), sk=f"MSG#{message.id}"))
            meta = ConversationItem(pk=mapping.conversation_pk(conversation.id), sk=META)
            if kept:
                meta.update(actions=_anonymized_conversation(stand_in, scrub(conversation.preview, secrets)))
                counts.items_anonymized += 1
            else:
                doomed.append(meta)
            doomed += conversation_satellites(conversation)
        for ticket_record in held.tickets:
            ticket = ticket_record.ticket
            pk = mapping.ticket_pk(ticket.id)
            kept_parts = (
                [p for p in ticket_record.parts if not said_by_customer(p.author.type.value)]
                if keep_agent_messages
                else []
            )
            for part in ticket_record.parts:
                if part in kept_parts:
                    TicketPartItem(pk=pk, sk=f"PART#{part.id}").update(
                        actions=[TicketPartItem.body.set(scrub(part.body, secrets) or "")]
                        if part.body
                        else [TicketPartItem.changes.set(_scrub_json(part.changes, secrets))]
                    )
                    counts.items_anonymized += 1
                else:
                    doomed.append(TicketPartItem(pk=pk, sk=f"PART#{part.id}"))
            if kept_parts:
                TicketItem(pk=pk, sk=META, version=0).update(
                    actions=_anonymized_ticket(ticket.title, ticket.attributes, secrets), add_version_condition=False
                )
                counts.items_anonymized += 1
            else:
                doomed += [TableItem(pk=pk, sk=META), *ticket_satellites(ticket)]
            doomed.append(TableItem(pk=f"EMAILTHREAD#t#{ticket.id}", sk="THREAD"))
        doomed += [TableItem(pk=mapping.attachment_pk(a.id), sk=META) for a in held.attachments]
        doomed += self._owned_by(held)
        doomed += _search_keys_and_tag_links(held)
        counts.items_deleted = delete_items(doomed)
        return counts

    def _owned_by(self, held: CustomerHoldings) -> list[TableItem]:
        """Their profile, unread counters and the address-directory entries pointing at them."""
        owned: list[TableItem] = list(TableItem.query(mapping.customer_pk(held.customer_id)))
        for address in held.email_addresses:
            pk = f"{ADDRESS_DIRECTORY_PREFIX}{normalize_address(address)}"
            try:
                entry = EmailAddressItem.get(pk, "CUSTOMER")
            except DoesNotExist:
                continue
            if entry.customer_id == held.customer_id:
                owned.append(entry)
        return owned


def _search_keys_and_tag_links(held: CustomerHoldings) -> list[TableItem]:
    """The search keys that find the customer, their conversations and tickets (their email, name, phone,
    titles, attribute values), and the tag links that list those conversations and tickets: deleted
    whether the conversation or ticket itself goes or stays anonymized."""
    keys: list[TableItem] = []
    if held.profile is not None:
        keys += search_key_items(held.profile)
    for record in held.conversations:
        conversation = record.conversation
        keys += search_key_items(conversation, held.profile)  # its tag links: conversation_satellites
    for ticket_record in held.tickets:
        ticket = ticket_record.ticket
        keys += search_key_items(ticket)
        keys += [TableItem(pk=mapping.tag_pk(mapping.TICKET_TAGS, t), sk=ticket.id) for t in ticket.tags]
    return keys


def _anonymized_conversation(stand_in: str, preview: str | None) -> list[Any]:
    return [
        ConversationItem.customer_id.set(stand_in),
        ConversationItem.customer_name.remove(),
        ConversationItem.customer_email.remove(),
        ConversationItem.verified_attributes.remove(),
        ConversationItem.context.remove(),
        ConversationItem.capsule.remove(),
        ConversationItem.email_subject.remove(),
        ConversationItem.preview.set(preview or ""),
        ConversationItem.gsi1pk.remove(),
        ConversationItem.gsi1sk.remove(),
        ConversationItem.updated_at.set(datetime.now().astimezone()),
    ]


def _anonymized_ticket(title: str, attributes: dict[str, Any], secrets: list[str | None]) -> list[Any]:
    return [
        TicketItem.customer_id.remove(),
        TicketItem.title.set(scrub(title, secrets) or ""),
        TicketItem.attributes.set(_scrub_json(attributes, secrets) or {}),
        TicketItem.context.remove(),
        TicketItem.verified_attributes.remove(),
        TicketItem.rating.remove(),
        TicketItem.capsule.remove(),
        TicketItem.gsi1pk.remove(),
        TicketItem.gsi1sk.remove(),
    ]


def _scrub_json(value: Any, secrets: list[str | None]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v, secrets) for v in value]
    return value
