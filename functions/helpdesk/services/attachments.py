"""Attachments: photos, videos and PDFs the customer shares in the conversation or on a ticket.

The upload goes straight from the browser to S3 through a presigned POST whose policy pins the
declared type and caps the size. A message or reply then names the attachment; before it is linked
to that conversation or ticket (once, and only for its owner) the stored file is read back and must
be exactly what was declared: its size, its content type and its first bytes
(``helpdesk.domain.file_signatures``). Otherwise nothing is linked and the caller gets a 422.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from helpdesk.domain.errors import InvalidInput, NotFound
from helpdesk.domain.file_signatures import SIGNATURES, upload_mismatch
from helpdesk.domain.files import FileLinks, PresignedUpload, shown_inline
from helpdesk.domain.models import Attachment, AttachmentRef, Author, Conversation, Ticket, new_id, utc_now
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import INTERNAL_PREFIX, AgentPrincipal, CustomerPrincipal
from helpdesk.domain.roles import Visibility
from helpdesk.domain.thumbnails import THUMBNAIL_CONTENT_TYPE, thumbnail_filename, thumbnail_key
from helpdesk.services.ports import AttachmentFiles, AttachmentRecords, ConversationReader, TicketReader

ALLOWED_CONTENT_TYPES = frozenset(SIGNATURES)
"""Images, mp4/QuickTime video and PDF: the types whose files can be checked by their first bytes."""
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ATTACHMENTS_PER_MESSAGE = 10
MAX_LINKS_PER_PAGE = 100
"""Files a conversation or ticket page signs links for: what one BatchGetItem reads. Beyond that (or
on a page that already took two reads) the page lists the files without links, and the inbox asks
``GET /inbox/attachments/{id}`` for each one it shows."""


def object_key(attachment: Attachment | AttachmentRef, customer_id: str) -> str:
    return f"attachments/{customer_id}/{attachment.id}"


def safe_filename(filename: str) -> str:
    name = re.sub(r"[^\w.\- ]+", "_", filename.strip().replace("\\", "/").rsplit("/", 1)[-1])
    return name[:120] or "file"


def ticket_attachment_owner(ticket: Ticket, *, internal: bool) -> str:
    """Whose a file on a ticket is: the customer's when shared with them, the ticket's when internal."""
    if ticket.customer_id and not internal:
        return ticket.customer_id
    return f"{INTERNAL_PREFIX}{ticket.id}"


def conversation_attachment_owner(conversation_id: str, customer_id: str, *, internal: bool) -> str:
    """Whose a file in a conversation is: its customer's when shared, the conversation's when internal."""
    return f"{INTERNAL_PREFIX}{conversation_id}" if internal else customer_id


def size_limit(content_type: str) -> int:
    return MAX_IMAGE_BYTES if content_type.startswith("image/") else MAX_FILE_BYTES


class AttachmentService:
    def __init__(
        self,
        attachments: AttachmentRecords,
        files: AttachmentFiles,
        *,
        conversations: ConversationReader | None = None,
        tickets: TicketReader | None = None,
        visibility: Visibility = Visibility.TEAM,
    ) -> None:
        """``conversations`` and ``tickets``: where an agent's download finds the file's team."""
        self._store = attachments
        self._files = files
        self._conversations = conversations
        self._tickets = tickets
        self._visibility = visibility

    def start_upload(
        self, customer: CustomerPrincipal, filename: str, content_type: str, size: int
    ) -> tuple[Attachment, PresignedUpload]:
        return self._start(customer.user_id, customer.author, filename, content_type, size)

    def start_agent_upload(
        self, agent: AgentPrincipal, ticket: Ticket, filename: str, content_type: str, size: int, *, internal: bool
    ) -> tuple[Attachment, PresignedUpload]:
        """An agent attaches a file to a ticket: shared with its customer, or kept internal."""
        authorize(agent, Action.WORK, Resource.ticket(ticket), self._visibility)
        return self._start(
            ticket_attachment_owner(ticket, internal=internal), agent.author, filename, content_type, size
        )

    def start_conversation_upload(
        self,
        agent: AgentPrincipal,
        conversation: Conversation,
        filename: str,
        content_type: str,
        size: int,
        *,
        internal: bool,
    ) -> tuple[Attachment, PresignedUpload]:
        """An agent attaches a file to a conversation reply (shared with its customer) or internal note."""
        authorize(agent, Action.WORK, Resource.conversation(conversation), self._visibility)
        return self._start(
            conversation_attachment_owner(conversation.id, conversation.customer_id, internal=internal),
            agent.author,
            filename,
            content_type,
            size,
        )

    def _start(
        self, owner: str, uploaded_by: Author, filename: str, content_type: str, size: int
    ) -> tuple[Attachment, PresignedUpload]:
        content_type = content_type.strip().lower()
        if content_type not in ALLOWED_CONTENT_TYPES:
            raise InvalidInput(
                f"files of type '{content_type}' can't be shared",
                [("content_type", f"must be one of: {', '.join(sorted(ALLOWED_CONTENT_TYPES))}")],
            )
        limit = size_limit(content_type)
        if size > limit:
            raise InvalidInput(
                f"the file is too large ({size} bytes)",
                [("size", f"must be at most {limit // (1024 * 1024)} MB for {content_type}")],
            )
        attachment = Attachment(
            id=new_id(),
            customer_id=owner,
            filename=safe_filename(filename),
            content_type=content_type,
            size=size,
            uploaded_by=uploaded_by,
            created_at=utc_now(),
        )
        upload = self._files.presigned_upload(object_key(attachment, owner), content_type, size)
        self._store.create_attachment(attachment)
        return attachment, upload

    def refs_for_message(
        self, customer_id: str, attachment_ids: list[str], *, known: Sequence[Attachment] | None = None
    ) -> list[AttachmentRef]:
        """Check the customer may use these attachments and that they were uploaded.

        ``known``: the attachments as already read with their conversation or ticket (no read here).
        """
        if not attachment_ids:
            return []
        if len(attachment_ids) > MAX_ATTACHMENTS_PER_MESSAGE or len(set(attachment_ids)) != len(attachment_ids):
            raise InvalidInput(
                "too many or repeated attachments",
                [("attachment_ids", f"at most {MAX_ATTACHMENTS_PER_MESSAGE} distinct attachment ids")],
            )
        found = {a.id: a for a in (known if known is not None else self._store.get_attachments(attachment_ids))}
        refs = []
        for attachment_id in attachment_ids:
            attachment = found.get(attachment_id)
            if attachment is None or attachment.customer_id != customer_id:
                raise InvalidInput(
                    "unknown attachment", [("attachment_ids", f"'{attachment_id}' is not an upload of yours")]
                )
            if attachment.conversation_id or attachment.ticket_id:
                raise InvalidInput(
                    "attachment already shared", [("attachment_ids", f"'{attachment_id}' was already sent")]
                )
            stored = self._files.stored_file(object_key(attachment, customer_id))
            if stored is None:
                raise InvalidInput(
                    "attachment not uploaded yet", [("attachment_ids", f"'{attachment_id}' has no uploaded file")]
                )
            mismatch = upload_mismatch(attachment.content_type, attachment.size, stored)
            if mismatch is not None:
                raise InvalidInput(
                    "the uploaded file is not the one declared", [("attachment_ids", f"'{attachment_id}': {mismatch}")]
                )
            refs.append(attachment.ref())
        return refs

    def refs_for_ticket(self, ticket: Ticket, attachment_ids: list[str], *, internal: bool) -> list[AttachmentRef]:
        """Check that the files an agent names were uploaded for this ticket (shared or internal)."""
        return self.refs_for_message(ticket_attachment_owner(ticket, internal=internal), attachment_ids)

    def download_for_customer(self, customer: CustomerPrincipal, attachment_id: str) -> tuple[Attachment, FileLinks]:
        attachment = self._store.get_attachment(attachment_id)
        if attachment is None or attachment.customer_id != customer.user_id:
            raise NotFound(f"attachment {attachment_id} not found")
        return attachment, self._links(attachment, thumbnail_checked=True)

    def download_for_agent(self, agent: AgentPrincipal, attachment_id: str) -> tuple[Attachment, FileLinks]:
        """A file on a ticket or conversation the agent may read (two reads: the file, then where it is)."""
        attachment = self._store.get_attachment(attachment_id)
        if attachment is None or not _shared(attachment):
            # An upload nobody has sent yet is still private to the customer.
            raise NotFound(f"attachment {attachment_id} not found")
        authorize(agent, Action.READ, self._where(attachment), self._visibility)
        return attachment, self._links(attachment, thumbnail_checked=True)

    def links_for_page(
        self, agent: AgentPrincipal, where: Resource, attachment_ids: Sequence[str]
    ) -> dict[str, FileLinks]:
        """Links to the files on a conversation or ticket page the agent reads, by attachment id.

        The ids come from the page itself (what the system recorded on its messages or timeline), so
        reading ``where`` is what entitles the agent to them; the policy is asked again here so that no
        caller can get links without it. One BatchGetItem (the files' records, for their storage
        keys); only files that were shared (and so checked against their declared type) get links.
        """
        authorize(agent, Action.READ, where, self._visibility)
        wanted = list(dict.fromkeys(attachment_ids))[:MAX_LINKS_PER_PAGE]
        if not wanted:
            return {}
        return {a.id: self._links(a) for a in self._store.get_attachments(wanted) if _shared(a)}

    def _where(self, attachment: Attachment) -> Resource:
        if attachment.ticket_id is not None and self._tickets is not None:
            ticket = self._tickets.get_ticket(attachment.ticket_id)
            if ticket is not None:
                return Resource.ticket(ticket)
        if attachment.conversation_id is not None and self._conversations is not None:
            conversation = self._conversations.get_conversation(attachment.conversation_id)
            if conversation is not None:
                return Resource.conversation(conversation)
        raise NotFound(f"attachment {attachment.id} not found")

    def _links(self, attachment: Attachment, *, thumbnail_checked: bool = False) -> FileLinks:
        """A link that shows the file in the page (only a checked image, video or PDF), one that saves it,
        and for a checked image one to its thumbnail.

        ``thumbnail_checked``: link the thumbnail only if it exists (one S3 HEAD, no table read), for one
        file; a page's many files get the link unchecked and the inbox falls back on the original.
        """
        key = object_key(attachment, attachment.customer_id)
        inline = shown_inline(attachment.content_type, verified=_shared(attachment))
        download = self._files.presigned_download(key, attachment.filename, attachment.content_type)
        view = (
            self._files.presigned_download(key, attachment.filename, attachment.content_type, inline=True)
            if inline
            else download
        )
        thumbnail = None
        if inline and attachment.content_type.startswith("image/"):
            small = thumbnail_key(key)
            if not thumbnail_checked or self._files.exists(small):
                thumbnail = self._files.presigned_download(
                    small, thumbnail_filename(attachment.filename), THUMBNAIL_CONTENT_TYPE, inline=True
                )
        return FileLinks(view=view, download=download, thumbnail=thumbnail)


def _shared(attachment: Attachment) -> bool:
    """Linked to a message or a ticket: its stored bytes were checked against its declared type then."""
    return bool(attachment.conversation_id or attachment.ticket_id)
