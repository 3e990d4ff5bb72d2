"""What belongs to a conversation or a ticket besides its own item, found from the item alone; and
deleting it once the table no longer has that item.

A closed conversation and a resolved ticket expire by the table's TTL (the workspace's retention),
and TTL deletes one item: the conversation's or ticket's ``~META``. The rest would stay for good,
the customer's words included, so the event publisher, which reads that REMOVE on the stream, hands
the removed record here (``services/record_removal.py``):

================================  ==================================================================
what                              keys
================================  ==================================================================
its partition                     ``CONV#<id>`` (messages) or ``TICKET#<id>`` (timeline, tracker links)
its first-reply marker            ``FIRSTREPLY#<conversation id>``
its email thread                  ``EMAILTHREAD#c#<id>`` or ``EMAILTHREAD#t#<id>``
the files its messages carry      ``ATTACHMENT#<id>`` (the objects expire by the bucket's rule)
its search keys and tag links     ``FIND#…`` (``adapters/search_keys``), ``TAG#…``
a ticket's object links           ``OBJECT#<type>#<id>`` / ``TICKET#<id>``; its tracker's ``LINK#<id>``
================================  ==================================================================

A Query per partition and BatchWriteItem deletes: the stream's worker, never a request path. Deleting
what is already gone is a no-op, so a retried record (or an erasure that got there first) is harmless.
"""

from __future__ import annotations

from helpdesk.adapters import mapping
from helpdesk.adapters.search_keys import search_key_items
from helpdesk.adapters.store.base import META
from helpdesk.adapters.table import MessageItem, TableItem, TicketPartItem
from helpdesk.domain.models import Conversation, Ticket


def conversation_satellites(conversation: Conversation) -> list[TableItem]:
    """Its first-reply marker, its email thread and its tag links (not its partition)."""
    return [
        TableItem(pk=f"FIRSTREPLY#{conversation.id}", sk=META),
        TableItem(pk=f"EMAILTHREAD#c#{conversation.id}", sk="THREAD"),
        *(TableItem(pk=mapping.tag_pk(mapping.CONVERSATION_TAGS, t), sk=conversation.id) for t in conversation.tags),
    ]


def ticket_satellites(ticket: Ticket) -> list[TableItem]:
    """Its object links, its tracker's link to it, its email thread and its tag links (not its partition)."""
    items = [
        TableItem(pk=mapping.object_pk(kind, oid), sk=f"TICKET#{ticket.id}")
        for kind, oid in mapping.ticket_objects(ticket)
    ]
    if ticket.tracker_id:
        items.append(TableItem(pk=mapping.ticket_pk(ticket.tracker_id), sk=f"LINK#{ticket.id}"))
    items.append(TableItem(pk=f"EMAILTHREAD#t#{ticket.id}", sk="THREAD"))
    items += [TableItem(pk=mapping.tag_pk(mapping.TICKET_TAGS, t), sk=ticket.id) for t in ticket.tags]
    return items


class RecordPartsTable:
    """``services.record_removal.RecordParts`` on the table."""

    def delete_parts_of(self, removed: Conversation | Ticket) -> int:
        from helpdesk.adapters.store.customers import CustomerTable

        if isinstance(removed, Conversation):
            doomed = _partition_with_files(mapping.conversation_pk(removed.id))
            doomed += conversation_satellites(removed)
            doomed += search_key_items(removed, CustomerTable().get_customer(removed.customer_id))
        else:
            doomed = _partition_with_files(mapping.ticket_pk(removed.id))
            doomed += ticket_satellites(removed)
            doomed += search_key_items(removed)
        return delete_items(doomed)


def _partition_with_files(pk: str) -> list[TableItem]:
    """Every item of a conversation's or ticket's partition, and the records of the files its messages
    or timeline parts carry."""
    found: list[TableItem] = []
    for item in TableItem.query(pk):
        found.append(item)
        if isinstance(item, MessageItem | TicketPartItem):
            found += [TableItem(pk=mapping.attachment_pk(a["id"]), sk=META) for a in item.attachments or []]
    return found


def delete_items(items: list[TableItem]) -> int:
    """Delete by key (one REMOVE stream record each for what existed); returns how many were asked."""
    keys = {(i.pk, i.sk): i for i in items}
    with TableItem.batch_write() as batch:
        for item in keys.values():
            batch.delete(item)
    return len(keys)
