"""Reading a raw email (RFC 5322 / MIME) as mail clients actually send it, into what support needs.

The standard library's ``email`` package with ``policy.default`` does the parsing; this module adds
what real mail needs on top of it: charsets Python doesn't know by the name clients use
(``ks_c_5601-1987``, ``unknown-8bit``...), bodies declared in one charset and written in another,
encoded words and RFC 2231 file names, a message forwarded *as an attachment* (``message/rfc822``),
and the difference between an inline picture in the text and a file attached to the message.

Nothing here decides what the text *means* (quotes and signatures: ``email_bodies``; auto-replies
and bounces: ``email_automation``): this is the faithful reading those work from.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

MAX_HEADER_IDS = 50
"""``References`` of a long thread can list hundreds of ids; the newest ones are what threading needs."""

CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",  # Outlook's name for Korean
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # clients label GBK/GB18030 text as gb2312
    "x-gbk": "gb18030",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "us-ascii": "utf-8",  # 8-bit text labelled ASCII is nearly always UTF-8
    "ansi_x3.4-1968": "utf-8",
    "x-user-defined": "windows-1252",
}
FALLBACK_CHARSETS = ("utf-8", "windows-1252")
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class Mailbox:
    """An address with its display name; ``address`` is as written (compare with ``normalized``)."""

    address: str
    name: str = ""

    @property
    def normalized(self) -> str:
        return normalize_address(self.address)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]


@dataclass(frozen=True)
class EmailFile:
    """A file carried by the email: attached, or shown inline in its HTML (``content_id``)."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    """Without angle brackets."""
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: Mailbox | None
    """``From``; None when it has no usable address."""
    reply_to: Mailbox | None
    to: tuple[Mailbox, ...]
    cc: tuple[Mailbox, ...]
    date: datetime | None
    text: str
    """The text/plain body (all text parts of the message, in order), or "" when it has none."""
    html: str
    """The text/html body, or "" when it has none."""
    files: tuple[EmailFile, ...]
    forwarded: tuple[ParsedEmail, ...] = ()
    """Messages attached whole (``message/rfc822``): a forward "as attachment"."""
    language: str | None = None
    """``Content-Language``, when the sender's client says."""
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Every header, lower-cased name to its values in order: what classification rules look at."""
    content_type: str = "text/plain"
    """The top-level content type, e.g. ``multipart/report`` for a delivery status notification."""

    def header(self, name: str) -> str:
        """The first value of a header, or ""."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The ids this email answers, most specific first: ``In-Reply-To``, then ``References`` newest first."""
        seen: dict[str, None] = {}
        for message_id in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(message_id, None)
        return tuple(seen)


def normalize_address(address: str) -> str:
    """The form addresses are compared and stored in: trimmed, lower-cased (domains are
    case-insensitive, and in practice so are local parts)."""
    return address.strip().strip("<>").lower()


def parse_email(raw: bytes) -> ParsedEmail:
    """Read raw message bytes (as SES stores them, or as an SMTP client sent them)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return _read(message)


def _read(message: EmailMessage) -> ParsedEmail:
    texts: list[str] = []
    htmls: list[str] = []
    files: list[EmailFile] = []
    forwarded: list[ParsedEmail] = []
    _walk(message, texts, htmls, files, forwarded)
    return ParsedEmail(
        message_id=_first_id(_header(message, "message-id")),
        in_reply_to=_ids(_header(message, "in-reply-to")),
        references=_ids(_header(message, "references"))[-MAX_HEADER_IDS:],
        subject=_clean_line(_header(message, "subject")),
        sender=_first_mailbox(message, "from"),
        reply_to=_first_mailbox(message, "reply-to"),
        to=_mailboxes(message, "to"),
        cc=_mailboxes(message, "cc"),
        date=_date(_header(message, "date")),
        text="\n\n".join(t for t in texts if t.strip()),
        html="\n".join(htmls),
        files=tuple(files),
        forwarded=tuple(forwarded),
        language=_header(message, "content-language").split(",")[0].strip() or None,
        headers=_all_headers(message),
        content_type=message.get_content_type(),
    )


def _walk(
    part: Message, texts: list[str], htmls: list[str], files: list[EmailFile], forwarded: list[ParsedEmail]
) -> None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload()
        inner_message = inner[0] if isinstance(inner, list) and inner else None
        if isinstance(inner_message, EmailMessage):
            forwarded.append(_read(inner_message))
        return
    if part.is_multipart():
        if content_type == "multipart/alternative":
            _walk_alternative(part, texts, htmls, files, forwarded)
            return
        for child in _children(part):
            _walk(child, texts, htmls, files, forwarded)
        return
    disposition = part.get_content_disposition()
    filename = _filename(part)
    if disposition != "attachment" and filename is None and content_type in ("text/plain", "text/html"):
        (texts if content_type == "text/plain" else htmls).append(decoded_text(part))
        return
    if content_type in ("message/delivery-status", "message/disposition-notification", "text/rfc822-headers"):
        return  # the machine-readable parts of a report: classification reads the headers instead
    data = _payload_bytes(part)
    if data is None:
        return
    content_id = _first_id(_header(part, "content-id"))
    files.append(
        EmailFile(
            filename=filename or _default_filename(content_type, content_id),
            content_type=content_type,
            data=data,
            inline=disposition == "inline" or (disposition is None and content_id is not None),
            content_id=content_id,
        )
    )


def _walk_alternative(
    part: Message, texts: list[str], htmls: list[str], files: list[EmailFile], forwarded: list[ParsedEmail]
) -> None:
    """Keep one text and one HTML rendering of the same content (clients may nest ``related`` inside)."""
    plain: list[str] = []
    rich: list[str] = []
    for child in _children(part):
        _walk(child, plain, rich, files, forwarded)
    if plain:
        texts.append(plain[-1] if len(plain) == 1 else "\n\n".join(plain))
    if rich:
        htmls.append("\n".join(rich))


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def decoded_text(part: Message) -> str:
    """A text part's content as str, whatever its declared (or wrongly declared) charset."""
    raw = part.get_payload(decode=True)
    data = raw if isinstance(raw, bytes) else b""
    declared = (part.get_content_charset() or "").strip().lower()
    candidates = [CHARSET_ALIASES.get(declared, declared)] if declared else []
    candidates += [c for c in FALLBACK_CHARSETS if c not in candidates]
    for charset in candidates:
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")  # pragma: no cover - cp1252 decodes most


def _payload_bytes(part: Message) -> bytes | None:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError):  # an RFC 2231 name in a charset Python doesn't know
        name = None
    if not name:
        return None
    name = _clean_line(str(name))
    return name or None


EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "message/rfc822": "eml",
}


def _default_filename(content_type: str, content_id: str | None) -> str:
    stem = "image" if content_type.startswith("image/") else "attachment"
    extension = EXTENSIONS.get(content_type, "bin")
    return f"{stem}.{extension}"


def _header(message: Message, name: str) -> str:
    """A header as text; a header the parser couldn't make sense of is read raw."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # pragma: no cover - the parser records defects instead
        value = None
    if value is None:
        return ""
    return str(value)


def _all_headers(message: Message) -> dict[str, tuple[str, ...]]:
    collected: dict[str, list[str]] = {}
    for name, value in message.raw_items() if isinstance(message, EmailMessage) else message.items():
        collected.setdefault(name.lower(), []).append(_clean_line(str(value)))
    return {name: tuple(values) for name, values in collected.items()}


def _clean_line(value: str) -> str:
    """One line of header text: folded whitespace and control characters become single spaces."""
    return re.sub(r"[\s\x00-\x1f\x7f]+", " ", value).strip()


def _ids(value: str) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(MESSAGE_ID.findall(value)))
    if ids:
        return ids
    bare = value.strip()
    return (bare,) if bare and " " not in bare and "@" in bare else ()


def _first_id(value: str) -> str | None:
    ids = _ids(value)
    return ids[0] if ids else None


def _mailboxes(message: Message, name: str) -> tuple[Mailbox, ...]:
    values = message.get_all(name) or []
    boxes: list[Mailbox] = []
    try:
        for value in values:
            for address in getattr(value, "addresses", ()):
                assert isinstance(address, Address)
                if address.addr_spec and "@" in address.addr_spec:
                    boxes.append(Mailbox(address=address.addr_spec, name=_clean_line(address.display_name)))
    except (ValueError, IndexError, TypeError, AttributeError):
        boxes = []
    if boxes or not values:
        return tuple(boxes)
    # A header the structured parser rejected: the old, lenient parser still finds addresses in it.
    return tuple(
        Mailbox(address=addr, name=_clean_line(display))
        for display, addr in getaddresses([str(v) for v in values])
        if "@" in addr
    )


def _first_mailbox(message: Message, name: str) -> Mailbox | None:
    boxes = _mailboxes(message, name)
    return boxes[0] if boxes else None


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None
