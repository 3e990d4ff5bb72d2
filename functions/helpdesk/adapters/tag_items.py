"""The tag views' links and agents' own macros: items of the single table (keys and access patterns:
``adapters/table.py``).

Imported by ``adapters/table.py`` itself, so the item types are registered wherever the table is used.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from helpdesk.adapters.table import TableItem

__all__ = ["MacroItem", "TagLinkItem"]


class TagLinkItem(TableItem, discriminator="tag_link"):
    """A conversation or ticket with a tag: ``TAG#<CONV|TICKET>#<tag>`` / ``<its id>`` (ids sort by age).

    Written and deleted in the transaction that changes the item's tags, so a tag's view is one Query.
    """

    tag = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class MacroItem(TableItem, discriminator="macro"):
    """An agent's own macro: ``MACRO#<id>`` / ``~META``, listed by owner on ``by_customer``."""

    id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    definition = JSONAttribute()
    created_at = UTCDateTimeAttribute()
