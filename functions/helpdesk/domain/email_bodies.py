"""What the customer actually wrote: an email's new text, without quoted history or signature.

Replies carry the whole thread below (or above) the new words, and a signature under them; stored as
is, every message in a conversation would repeat all the others. The steps:

1. The text: the ``text/plain`` part when there is one, else the HTML as text (``email_html``, which
   drops what the client marked as quoted or as signature). HTML-marked quotes are authoritative, so
   when the HTML shows one, its text wins over the plain part.
2. Forwards are kept: a customer who forwards a carrier's email wants support to read it.
3. The quoted history: ``mail-parser-reply`` (maintained, multi-language) finds the attribution
   header ("On ... wrote:", "Am ... schrieb", Outlook's "From:/Sent:" block, "-----Original
   Message-----"); what comes after is history. Bottom-posted replies (new words under the quote)
   are found too, and trailing ``>`` lines are dropped.
4. The signature, conservatively (a support message must never lose a sentence): the RFC 3676
   ``-- `` delimiter, "Sent from my iPhone" lines, and a closing ("Best regards", "Mit freundlichen
   Grüßen"...) alone on its line followed by a few short lines only. The library's own signature
   rule ("Thanks," anywhere starts a signature) cuts real text, so it isn't used.

The original email stays in S3; this is only what the conversation shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply.parser import EmailMessage as ReplySplitter

from helpdesk.domain.email_html import FORWARD_START, html_to_text
from helpdesk.domain.email_messages import ParsedEmail

LANGUAGES = ["en", "de", "fr", "it", "nl", "es", "da", "sv", "pl", "cs", "ja", "ko", "zh"]
MAX_TEXT_CHARS = 200_000
INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
QUOTE_LINE = re.compile(r"^\s*>")
INLINE_IMAGE_PLACEHOLDER = re.compile(r"^\s*\[cid:[^\]]*\]\s*$|\[cid:[^\]]*\]", re.MULTILINE)
"""Outlook's text part stands ``[cid:image001.png@...]`` where a picture was; the picture is attached."""
SIGNATURE_DELIMITER = re.compile(r"^-- ?$")
SENT_FROM = re.compile(
    r"^\s*(sent from (my|mail for|outlook|yahoo|samsung)|get outlook for|sent with proton|sent via|"
    r"gesendet (von|mit) |envoy[ée] (de|depuis) |enviado (desde|de) |inviato da |verzonden (vanaf|met) |"
    r"skickat från |sendt fra |wysłano z )",
    re.IGNORECASE,
)
CLOSING = re.compile(
    r"^\s*(best( regards| wishes)?|kind regards|warm(est)? regards|regards|many thanks|thanks( a lot| again)?|"
    r"thank you( very much)?|cheers|sincerely|yours( sincerely| faithfully| truly)?|all the best|br|"
    r"mit freundlichen gr(ü|ue)(ß|ss)en|freundliche gr(ü|ue)(ß|ss)e|(viele|beste|liebe|herzliche) gr(ü|ue)(ß|ss)e|"
    r"gru(ß|ss)|lg|mfg|vielen dank|danke( schön)?|cordialement|bien (cordialement|à vous)|salutations|"
    r"merci( beaucoup)?|"
    r"saludos( cordiales)?|un saludo|atentamente|(muchas )?gracias|cordiali saluti|distinti saluti|saluti|grazie|"
    r"met vriendelijke groet(en)?|groet(en)?|bedankt|med vänliga hälsningar|vänliga hälsningar|mvh|"
    r"pozdrawiam|z poważaniem|atenciosamente|obrigad[oa]|cumprimentos)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
MAX_SIGNATURE_LINES = 7
MAX_SIGNATURE_LINE = 80


@dataclass(frozen=True)
class ReplyText:
    body: str
    """The new words, ready to store."""
    quote_removed: bool
    signature_removed: bool
    kept_images: frozenset[str]
    """``cid:`` ids of inline pictures shown in the new words (the rest sat in quotes or signatures)."""


def reply_text(message: ParsedEmail) -> ReplyText:
    """The new text of ``message`` (see the module docstring)."""
    html = html_to_text(message.html) if message.html else None
    text = _normalize(message.text)
    if html is not None and (not text.strip() or html.quote_found):
        text = _normalize(html.text)
    body, quoted = strip_quotes(INLINE_IMAGE_PLACEHOLDER.sub("", text))
    body, signed = strip_signature(body)
    for forwarded in message.forwarded:
        body = f"{body}\n\n{forwarded_text(forwarded)}".strip()
    images = html.kept_images if html is not None else frozenset()
    return ReplyText(
        body=_tidy(body),
        quote_removed=quoted or bool(html and html.quote_found),
        signature_removed=signed,
        kept_images=images,
    )


def forwarded_text(message: ParsedEmail) -> str:
    """A message forwarded as an attachment, written out as clients write an inline forward."""
    inner = reply_text(message).body if (message.text or message.html) else ""
    lines = ["---------- Forwarded message ----------"]
    if message.sender is not None:
        name = f"{message.sender.name} " if message.sender.name else ""
        lines.append(f"From: {name}<{message.sender.address}>")
    if message.date is not None:
        lines.append(f"Date: {message.date.strftime('%a, %d %b %Y %H:%M %z')}")
    if message.subject:
        lines.append(f"Subject: {message.subject}")
    return "\n".join(lines) + (f"\n\n{inner}" if inner else "")


def _normalize(text: str) -> str:
    text = INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace("\u00a0", " ")
    return text[:MAX_TEXT_CHARS]


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quotes(text: str) -> tuple[str, bool]:
    """(the new words, whether quoted history was removed). A forwarded message is kept whole."""
    lines = text.split("\n")
    forward_at = next((i for i, line in enumerate(lines) if FORWARD_START.match(line.strip())), None)
    if forward_at is not None:
        before, _ = _latest_reply("\n".join(lines[:forward_at]))
        if before == "\n".join(lines[:forward_at]).strip() or not before:
            top, _ = strip_signature(before)
            forwarded = "\n".join(_unquote(line) for line in lines[forward_at:]).strip()
            return (f"{top}\n\n{forwarded}" if top else forwarded), False
    latest, header_found = _latest_reply(text)
    if not latest.strip() and header_found:
        latest = _bottom_posted(text)
    trimmed = _drop_edge_quotes(latest, leading=header_found)
    return trimmed, header_found or trimmed != latest.strip()


def _latest_reply(text: str) -> tuple[str, bool]:
    """The text above the first attribution header, per mail-parser-reply; and whether it found one."""
    if not text.strip():
        return "", False
    parsed = ReplySplitter(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    if not parsed.replies:  # pragma: no cover - the splitter always yields at least one
        return text.strip(), False
    first = parsed.replies[0]
    found = len(parsed.replies) > 1 or bool(first.headers)
    content = first.content
    if first.headers:
        content = content.replace(first.headers, "")
    return content.strip(), found


def _bottom_posted(text: str) -> str:
    """New words written under the quote: every line that isn't quoted and isn't the attribution."""
    kept: list[str] = []
    in_quote = False
    for line in text.split("\n"):
        if QUOTE_LINE.match(line):
            in_quote = True
            continue
        if in_quote or kept or line.strip():
            kept.append(line)
    body, _ = _latest_reply("\n".join(kept))
    return body or "\n".join(kept).strip()


def _drop_edge_quotes(text: str, *, leading: bool) -> str:
    """Without the ``>`` lines below the new words, and above them (``leading``) when they follow an
    attribution line. Quotes *between* the new words, or opening an inline answer, are kept: they
    are the questions being answered."""
    lines = text.strip().split("\n")
    while lines and (QUOTE_LINE.match(lines[-1]) or not lines[-1].strip()):
        lines.pop()
    while leading and lines and (QUOTE_LINE.match(lines[0]) or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).strip()


def _unquote(line: str) -> str:
    return re.sub(r"^(> ?)+", "", line)


def strip_signature(text: str) -> tuple[str, bool]:
    """(text without its signature, whether one was removed); see the module docstring for the rules."""
    lines = text.rstrip().split("\n")
    for index, line in enumerate(lines):
        if SIGNATURE_DELIMITER.match(line) and index > 0:
            return "\n".join(lines[:index]).rstrip(), True
    removed = False
    while lines and (SENT_FROM.match(lines[-1]) or not lines[-1].strip()):
        removed = removed or bool(lines[-1].strip())
        lines.pop()
    for index in range(len(lines) - 1, 0, -1):
        if CLOSING.match(lines[index]):
            tail = [line for line in lines[index + 1 :] if line.strip()]
            if len(tail) <= MAX_SIGNATURE_LINES and all(len(line) <= MAX_SIGNATURE_LINE for line in tail):
                return "\n".join(lines[:index]).rstrip(), True
            break
        if len(lines) - index > MAX_SIGNATURE_LINES + 1:
            break
    return "\n".join(lines).rstrip(), removed
