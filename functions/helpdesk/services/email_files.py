"""An email's files as attachments: the messenger's type, size and count rules, and its signature check.

Which files of a received email are kept (``files_to_keep``): not the inline pictures of quoted
history or signatures (images the kept text doesn't show), and only files an upload could be: an
accepted type, within its size (and the channel's limit), at most as many as a message may carry,
and whose first bytes are what their type says (``domain/file_signatures``, the check every upload
passes). What isn't kept is named for agents (``skipped_note``); the original email keeps it all.
``store_files`` writes the kept files where uploads go and records them, once per received email.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import datetime

from helpdesk.domain.email_messages import EmailFile, ParsedEmail
from helpdesk.domain.file_signatures import HEAD_BYTES, StoredFile, upload_mismatch
from helpdesk.domain.models import Attachment, AttachmentRef, Author, AuthorType
from helpdesk.services.attachments import (
    ALLOWED_CONTENT_TYPES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    object_key,
    safe_filename,
    size_limit,
)
from helpdesk.services.email_ports import EmailRecords, MailFiles


def files_to_keep(message: ParsedEmail, shown: frozenset[str], max_bytes: int) -> tuple[list[EmailFile], list[str]]:
    """The files to attach, and what wasn't kept and why (pictures of quotes and signatures aren't news)."""
    kept: list[EmailFile] = []
    skipped: list[str] = []
    for file in message.files:
        if file.inline and file.content_id and file.content_id not in shown:
            continue
        content_type = content_type_of(file)
        limit = min(size_limit(content_type), max_bytes)
        name = safe_filename(file.filename)
        if content_type not in ALLOWED_CONTENT_TYPES:
            skipped.append(f"{name} (files of this type aren't accepted)")
        elif file.size > limit:
            skipped.append(f"{name} (over {limit // (1024 * 1024)} MB)")
        elif upload_mismatch(content_type, file.size, _stored(file, content_type)) is not None:
            skipped.append(f"{name} (its content is not the {content_type} it says it is)")
        elif len(kept) >= MAX_ATTACHMENTS_PER_MESSAGE:
            skipped.append(f"{name} (more than {MAX_ATTACHMENTS_PER_MESSAGE} files)")
        else:
            kept.append(file)
    return kept, skipped


def store_files(
    files: list[EmailFile],
    owner: str,
    *,
    at: datetime,
    ids: Callable[[int], str],
    storage: MailFiles,
    records: EmailRecords,
) -> list[AttachmentRef]:
    """Each kept file stored where uploads go and recorded (ids derived per file, so a retry rewrites the same)."""
    refs = []
    for index, file in enumerate(files):
        attachment = Attachment(
            id=ids(index),
            customer_id=owner,
            filename=safe_filename(file.filename),
            content_type=content_type_of(file),
            size=file.size,
            uploaded_by=Author(type=AuthorType.CUSTOMER, id=owner),
            created_at=at,
        )
        storage.put_attachment(object_key(attachment, owner), file.data, attachment.content_type)
        records.create_attachment_once(attachment)
        refs.append(attachment.ref())
    return refs


def content_type_of(file: EmailFile) -> str:
    """The declared type; a generic one is guessed from the file name (clients often send octet-stream)."""
    declared = file.content_type.lower()
    if declared in ("application/octet-stream", "binary/octet-stream", "application/x-download"):
        guessed, _ = mimetypes.guess_type(file.filename)
        return (guessed or declared).lower()
    return "image/jpeg" if declared == "image/jpg" else declared


def skipped_note(skipped: list[str]) -> list[str]:
    if not skipped:
        return []
    return ["Not attached (the original email is kept): " + "; ".join(skipped) + "."]


def _stored(file: EmailFile, content_type: str) -> StoredFile:
    return StoredFile(size=file.size, content_type=content_type, head=file.data[:HEAD_BYTES])
