"""An email's HTML as plain text, with the quoted history and the signature its client marked left out.

Mail clients mark what they quote: Gmail wraps it in ``div.gmail_quote``, Apple Mail and Thunderbird
in ``blockquote type="cite"``, Outlook on the web starts it at ``div#appendonsend`` or
``div#divRplyFwdMsg``, Yahoo in ``div.yahoo_quoted``. Signatures too: ``div.gmail_signature``,
``div#Signature``, ``div.moz-signature``. Those markers are more reliable than any guess from the
text, so the HTML is read as a tree and the marked parts are dropped before it becomes text.

A *forward* is the opposite of a quote: the customer sends support someone else's email on
purpose, so a Gmail ``gmail_quote`` that starts with "Forwarded message" is kept.

Only the standard library's ``html.parser`` is used (lxml would double the Lambda layer); the tree
builder is lenient about the unclosed tags real email HTML is full of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIPPED = {"head", "style", "script", "title", "template", "noscript", "xml", "o:p"}
BLOCK = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "table", "tbody", "tfoot", "thead", "tr", "ul",
}  # fmt: skip
IMPLICIT_CLOSE = {"p": ("p",), "li": ("li",), "td": ("td", "th"), "th": ("td", "th"), "tr": ("tr",)}
"""An open ``<p>`` (``li``, ``td``...) ends where the next one starts, or where a block starts inside a
``<p>``, never past an enclosing block: the HTML rule browsers apply, which email HTML relies on."""
QUOTE_CLASSES = {"gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
SIGNATURE_CLASSES = {"gmail_signature", "moz-signature", "protonmail_signature_block"}
QUOTE_IDS = {"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"}
SIGNATURE_IDS = {"signature", "ms-outlook-mobile-signature", "applemailsignature"}
FORWARD_START = re.compile(
    r"^\W*(-{2,}\s*)?(forwarded message|begin forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande)",
    re.IGNORECASE,
)
MAX_HTML_CHARS = 2_000_000


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").lower().split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._close_implicitly(tag)
        node = Node(tag, {k.lower(): v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in VOID:
            self._stack.append(node)

    def _close_implicitly(self, tag: str) -> None:
        closes = IMPLICIT_CLOSE.get(tag, ())
        if tag in BLOCK and tag != "p":
            closes = (*closes, "p")
        if not closes:
            return
        for depth in range(len(self._stack) - 1, 0, -1):
            open_tag = self._stack[depth].tag
            if open_tag in closes:
                del self._stack[depth:]
                return
            if open_tag in BLOCK:
                return

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Node(tag, {k.lower(): v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


@dataclass(frozen=True)
class HtmlText:
    text: str
    """What the sender wrote, as plain text."""
    quote_found: bool
    """The client marked quoted history (and it was left out)."""
    kept_images: frozenset[str]
    """``cid:`` references of the pictures shown in what was kept (not in quotes or the signature)."""


def parse_html(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html[:MAX_HTML_CHARS])
    builder.close()
    return builder.root


def html_to_text(html: str, *, drop_quotes: bool = True) -> HtmlText:
    """The text of ``html``; with ``drop_quotes``, without the parts marked as quoted history or signature."""
    renderer = _Renderer(drop_quotes=drop_quotes)
    renderer.render(parse_html(html))
    return HtmlText(text=renderer.result(), quote_found=renderer.quote_found, kept_images=frozenset(renderer.images))


class _Renderer:
    def __init__(self, *, drop_quotes: bool) -> None:
        self._drop_quotes = drop_quotes
        self._out: list[str] = []
        self._stopped = False
        self.quote_found = False
        self.images: set[str] = set()

    def result(self) -> str:
        text = "".join(self._out)
        text = re.sub(r"[ \t\u00a0]+\n", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip()

    def _newline(self, count: int = 1) -> None:
        current = "".join(self._out[-3:])
        trailing = len(current) - len(current.rstrip("\n"))
        if self._out and trailing < count:
            self._out.append("\n" * (count - trailing))

    def _is_quote(self, node: Node) -> bool:
        element_id = node.attrs.get("id", "").lower()
        if node.tag == "blockquote" and (node.attrs.get("type", "").lower() == "cite" or "gmail_quote" in node.classes):
            return True
        if node.classes & QUOTE_CLASSES or element_id in QUOTE_IDS:
            return not FORWARD_START.match(node.text().strip())
        return False

    def _is_signature(self, node: Node) -> bool:
        element_id = node.attrs.get("id", "").lower()
        return (
            bool(node.classes & SIGNATURE_CLASSES)
            or element_id in SIGNATURE_IDS
            or node.attrs.get("data-smartmail", "") == "gmail_signature"
        )

    def render(self, node: Node) -> None:
        for child in node.children:
            if self._stopped:
                return
            if isinstance(child, str):
                self._text(child)
            else:
                self._element(child)

    def _text(self, data: str) -> None:
        collapsed = re.sub(r"[ \t\r\n\f]+", " ", data)
        if not collapsed.strip() and (not self._out or self._out[-1].endswith(("\n", " "))):
            return
        if self._out and self._out[-1].endswith("\n"):
            collapsed = collapsed.lstrip()
        self._out.append(collapsed)

    def _element(self, node: Node) -> None:
        tag = node.tag
        if tag in SKIPPED:
            return
        if self._drop_quotes and self._is_quote(node):
            self.quote_found = True
            if node.attrs.get("id", "").lower() in ("appendonsend", "divrplyfwdmsg"):
                self._stopped = True  # Outlook: everything from here on is the quoted message
            return
        if self._drop_quotes and self._is_signature(node):
            return
        if tag == "br":
            self._out.append("\n")
            return
        if tag == "hr":
            self._newline(2)
            return
        if tag == "img":
            source = node.attrs.get("src", "")
            if source.lower().startswith("cid:"):
                self.images.add(source[4:].strip("<>"))
            return
        if tag == "pre":
            self._newline(2)
            self._out.append(node.text())
            self._newline(2)
            return
        if tag in BLOCK:
            self._newline(2 if tag in ("p", "blockquote", "table", "ul", "ol", "h1", "h2", "h3") else 1)
        if tag == "li":
            self._out.append("- ")
        if tag in ("td", "th") and self._out and not self._out[-1].endswith("\n"):
            self._out.append(" ")
        self.render(node)
        if tag == "a":
            self._link(node)
        if tag in BLOCK:
            self._newline(2 if tag in ("p", "blockquote", "table", "ul", "ol", "h1", "h2", "h3") else 1)

    def _link(self, node: Node) -> None:
        href = node.attrs.get("href", "").strip()
        label = node.text().strip()
        if href.lower().startswith(("http://", "https://")) and href != label and label:
            self._out.append(f" ({href})")
