"""Attachments: the record of each uploaded file (who uploaded it, and where it is used)."""

from __future__ import annotations

from collections.abc import Sequence

from pynamodb.exceptions import DoesNotExist

from helpdesk.adapters import mapping
from helpdesk.adapters.mapping import META
from helpdesk.adapters.store.base import TableStore
from helpdesk.adapters.table import AttachmentItem, TableItem
from helpdesk.domain.models import Attachment


class AttachmentTable(TableStore):
    def create_attachment(self, attachment: Attachment) -> None:
        mapping.attachment_item(attachment).save(condition=TableItem.pk.does_not_exist())

    def get_attachment(self, attachment_id: str) -> Attachment | None:
        try:
            item = AttachmentItem.get(mapping.attachment_pk(attachment_id), META)
        except DoesNotExist:
            return None
        return mapping.attachment_from_item(item)

    def get_attachments(self, attachment_ids: Sequence[str]) -> list[Attachment]:
        keys = [(mapping.attachment_pk(i), META) for i in dict.fromkeys(attachment_ids)]
        found = [i for i in AttachmentItem.batch_get(keys) if isinstance(i, AttachmentItem)]
        return [mapping.attachment_from_item(i) for i in found]
