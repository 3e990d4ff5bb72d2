"""Agents' own macros (``MACRO#<id>``), and the reads and writes of applying a macro to a conversation.

Applying a macro is one read (the ticket or conversation, and the agent's macro when it is theirs, in
one BatchGetItem) and one transaction (the reply, the changes, the tag views' links), so it is all
or nothing. Every method is one DynamoDB request.
"""

from __future__ import annotations

from collections.abc import Sequence

from pynamodb.exceptions import DeleteError, DoesNotExist
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.mapping import META
from helpdesk.adapters.store.base import TableStore, is_condition_failure
from helpdesk.adapters.store.tags import link_changes
from helpdesk.adapters.table import ConversationItem, TableItem, TicketItem
from helpdesk.adapters.tag_items import MacroItem
from helpdesk.domain.macros import Macro, MacroDefinition
from helpdesk.domain.models import Conversation, Message, Ticket, utc_now


def _macro(item: MacroItem) -> Macro:
    definition = MacroDefinition.model_validate(item.definition)
    return Macro(id=item.id, owner_id=item.owner_id, **definition.model_dump())


class MacroTable(TableStore):
    def save_macro(self, macro: Macro) -> None:
        """Create an agent's macro (``owner_id`` set)."""
        assert macro.owner_id, "workspace macros live in configuration"
        definition = macro.model_dump(mode="json", exclude={"id", "owner_id"})
        MacroItem(
            pk=mapping.macro_pk(macro.id),
            sk=META,
            id=macro.id,
            owner_id=macro.owner_id,
            definition=definition,
            created_at=utc_now(),
            gsi1pk=mapping.agent_macros_key(macro.owner_id),
            gsi1sk=macro.id,
        ).save(condition=TableItem.pk.does_not_exist())

    def get_macro(self, macro_id: str) -> Macro | None:
        try:
            item = MacroItem.get(mapping.macro_pk(macro_id), META)
        except DoesNotExist:
            return None
        return _macro(item)

    def own_macros(self, owner_id: str, *, limit: int = 100) -> list[Macro]:
        """An agent's macros, oldest first (one Query of ``by_customer``)."""
        items = TableItem.by_customer.query(mapping.agent_macros_key(owner_id), limit=limit)
        return [_macro(i) for i in items if isinstance(i, MacroItem)]

    def delete_macro(self, macro_id: str, owner_id: str) -> bool:
        """Delete an agent's macro; False if it isn't there (or isn't theirs)."""
        try:
            MacroItem(pk=mapping.macro_pk(macro_id), sk=META).delete(condition=MacroItem.owner_id == owner_id)
        except DeleteError as error:
            if is_condition_failure(error):  # type: ignore[arg-type]
                return False
            raise
        return True

    def read_ticket_and_macro(self, ticket_id: str, macro_id: str | None) -> tuple[Ticket | None, Macro | None]:
        """The ticket, and an agent's macro when one is named, in one BatchGetItem."""
        keys = [(mapping.ticket_pk(ticket_id), META)]
        if macro_id is not None:
            keys.append((mapping.macro_pk(macro_id), META))
        items = list(TableItem.batch_get(keys))
        ticket = next((i for i in items if isinstance(i, TicketItem)), None)
        macro = next((i for i in items if isinstance(i, MacroItem)), None)
        return (mapping.ticket_from_item(ticket) if ticket else None), (_macro(macro) if macro else None)

    def read_conversation_and_macro(
        self, conversation_id: str, macro_id: str | None
    ) -> tuple[Conversation | None, Macro | None]:
        """The conversation, and an agent's macro when one is named, in one BatchGetItem."""
        keys = [(mapping.conversation_pk(conversation_id), META)]
        if macro_id is not None:
            keys.append((mapping.macro_pk(macro_id), META))
        items = list(TableItem.batch_get(keys))
        conversation = next((i for i in items if isinstance(i, ConversationItem)), None)
        macro = next((i for i in items if isinstance(i, MacroItem)), None)
        return (mapping.conversation_from_item(conversation) if conversation else None), (
            _macro(macro) if macro else None
        )

    def rewrite_conversation(self, before: Conversation, after: Conversation, messages: Sequence[Message]) -> None:
        """The conversation as changed (status, tags), its new messages and its tag links, in one transaction.

        Optimistic: ``ConditionFailed`` if anything wrote to the conversation since ``before`` was read.
        """
        guard = TableItem.pk.exists() & (ConversationItem.updated_at == before.updated_at)

        def build(transaction: TransactWrite) -> None:
            transaction.save(mapping.conversation_item(after), condition=guard)
            for message in messages:
                transaction.save(
                    mapping.message_item(message, after.customer_id), condition=TableItem.pk.does_not_exist()
                )
            link_changes(transaction, mapping.CONVERSATION_TAGS, after.id, before.tags, after.tags, after.updated_at)

        self._write(build)
