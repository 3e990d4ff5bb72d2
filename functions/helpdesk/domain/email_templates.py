"""The words of every email we send, per event and per locale: configuration, validated when loaded.

A workspace has ``email/templates/<locale>.yaml`` files (``en.yaml``, ``de.yaml``...). Each holds:

``greeting``, ``sign_off``
    Small templates every email uses: "Hi Alice," and "The Demo Shop team".
``states``
    The sentence for a ticket's state, as the customer hears it ("We're looking into ticket #1"):
    one per state category (required) and optionally per state id (overrides its category).
``layout``
    ``text`` (and optionally ``html``) wrapping every email's ``content``.
``events``
    Per event: ``subject``, ``summary`` (one sentence: the messenger and SMS say this), ``text``, and
    optionally ``html``. Without ``html``, the HTML part is the text made into paragraphs and links
    inside the layout's HTML, so the two parts can't say different things.

Templates are Jinja2 in its sandbox (the file is configuration, not code: it can't reach Python),
with strict undefined variables and HTML autoescaping. Loading renders every template with sample
values, so a typo in a variable name fails the deployment, not a customer's email.

Variables: ``workspace.name``; ``customer.name``, ``customer.first_name``; ``agent.name``;
``ticket.number``, ``ticket.title``, ``ticket.state`` (its customer label), ``ticket.sentence``;
``body`` (a reply's or an update's words); ``link`` (open it in the messenger); ``reply_hint``;
``csat`` (a list of ``{score, label, url}``, empty unless a rating is asked for); ``unsubscribe``;
``subject`` (the thread's, for replies in an email conversation); ``link_days``; ``greeting``,
``sign_off`` and ``reply_hint`` as rendered.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk.domain.workspace import StateCategory

if TYPE_CHECKING:
    from helpdesk.domain.notifications import StatusUpdate


class EmailEvent(StrEnum):
    TICKET_CREATED = "ticket_created"
    STATE_CHANGED = "state_changed"
    AGENT_REPLY = "agent_reply"
    """An agent's reply on a ticket."""
    REMINDER = "reminder"
    RESOLVED = "resolved"
    """The resolution, and (when it is asked for) the rating request with its score links, in one email."""
    EXTERNAL_UPDATE = "external_update"
    CONVERSATION_REPLY = "conversation_reply"
    """An agent's reply in a conversation that started by email: the email thread itself."""
    LINK_RENEWAL = "link_renewal"
    """A fresh link, asked for from an expired or used one."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTemplates(_Config):
    subject: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1)
    html: str | None = None


class Layout(_Config):
    text: str = "{{ content }}"
    html: str = Field(min_length=1)


class LocaleTemplates(_Config):
    locale: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    greeting: str
    sign_off: str
    reply_hint: str = ""
    csat_labels: dict[int, str] = {}
    """What each score link says (1-5); the number alone where a label is missing."""
    states: dict[str, str]
    """Sentences by state category (all four required) or by state id."""
    layout: Layout
    events: dict[EmailEvent, EventTemplates]

    @model_validator(mode="after")
    def _complete(self) -> LocaleTemplates:
        missing_categories = [c.value for c in StateCategory if c.value not in self.states]
        if missing_categories:
            raise ValueError(f"states: a sentence for every category is needed; missing {missing_categories}")
        missing = [e.value for e in EmailEvent if e not in self.events]
        if missing:
            raise ValueError(f"events: every event needs templates; missing {missing}")
        if set(self.csat_labels) - {1, 2, 3, 4, 5}:
            raise ValueError("csat_labels: scores are 1 to 5")
        return self


@dataclass(frozen=True)
class TicketFacts:
    number: int
    title: str
    state_id: str | None = None
    state_label: str | None = None
    category: StateCategory | None = None

    @classmethod
    def of_update(cls, update: StatusUpdate) -> TicketFacts:
        """The ticket as a status update about it describes it."""
        if update.ticket_number is None:
            raise ValueError("the status update names no ticket")
        return cls(
            number=update.ticket_number,
            title=update.title or "",
            state_id=update.state_id,
            state_label=update.state_label,
            category=StateCategory(update.state_category) if update.state_category else None,
        )


@dataclass(frozen=True)
class CsatLink:
    score: int
    url: str


@dataclass(frozen=True)
class EmailFacts:
    """Everything an email may say, gathered by the sender; templates pick what they need."""

    workspace_name: str
    customer_name: str | None = None
    agent_name: str | None = None
    ticket: TicketFacts | None = None
    body: str | None = None
    link: str = ""
    csat: tuple[CsatLink, ...] = ()
    unsubscribe: str = ""
    subject: str = ""
    """The email thread's subject ("Re: ..."), for replies in a conversation that started by email."""
    link_days: int = 0


@dataclass(frozen=True)
class RenderedEmail:
    locale: str
    subject: str
    summary: str
    text: str
    html: str
    extra: dict[str, Any] = field(default_factory=dict)


class TemplateProblem(ValueError):
    """A template doesn't compile or doesn't render with the documented variables; says which."""

    def __init__(self, message: str, *, locale: str | None = None) -> None:
        super().__init__(message)
        self.locale = locale


def first_name(name: str | None) -> str | None:
    """ "Alice" from "Alice Jones"; None when there is no usable name (or it is an address)."""
    if not name or "@" in name:
        return None
    word = name.strip().split()[0] if name.strip() else ""
    return word.strip(",;\"'") or None


_URL = re.compile(r"https?://[^\s<>\"]+")


def paragraphs_html(text: str) -> str:
    """Plain text as HTML paragraphs with clickable links (everything else escaped)."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    rendered = []
    for block in blocks:
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        rendered.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(rendered)


class EmailTemplates:
    """Every locale's templates, compiled; ``render`` picks the customer's locale or the default."""

    def __init__(self, locales: dict[str, LocaleTemplates], default_locale: str, *, check: bool = True) -> None:
        """``check``: render every template with sample values now (at synth, start-up and in tests);
        functions skip it, their templates having been checked when the stack was synthesized."""
        if default_locale not in locales:
            raise TemplateProblem(f"no templates for the default locale '{default_locale}'")
        self._locales = locales
        self.default_locale = default_locale
        self._text = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self._html = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
        self._cache: dict[tuple[int, str], Template] = {}
        if check:
            for locale in locales.values():
                self._check(locale)

    @property
    def locales(self) -> list[str]:
        return sorted(self._locales)

    def locale_for(self, wanted: str | None) -> str:
        """``de-AT`` -> ``de-AT``, else ``de``, else the default."""
        if wanted:
            for candidate in (wanted, wanted.split("-")[0].lower()):
                if candidate in self._locales:
                    return candidate
        return self.default_locale

    def render(self, event: EmailEvent, facts: EmailFacts, locale: str | None = None) -> RenderedEmail:
        chosen = self.locale_for(locale)
        templates = self._locales[chosen]
        values = self._values(templates, facts)
        event_templates = templates.events[event]
        text_content = self._render_text(event_templates.text, values).strip()
        subject = " ".join(self._render_text(event_templates.subject, values).split())
        summary = " ".join(self._render_text(event_templates.summary, values).split())
        text = self._render_text(templates.layout.text, {**values, "content": text_content}).strip() + "\n"
        if event_templates.html is not None:
            html_content = self._compiled(self._html, event_templates.html).render(values)
        else:
            html_content = paragraphs_html(text_content)
        # Safe: the content was rendered with autoescaping, or escaped paragraph by paragraph.
        content = Markup(html_content)  # noqa: S704
        html_part = self._compiled(self._html, templates.layout.html).render({**values, "content": content})
        return RenderedEmail(locale=chosen, subject=subject, summary=summary, text=text, html=html_part)

    def state_sentence(self, facts: EmailFacts, locale: str | None = None) -> str:
        templates = self._locales[self.locale_for(locale)]
        return self._sentence(templates, facts)

    def _render_text(self, source: str, values: dict[str, Any]) -> str:
        return self._compiled(self._text, source).render(values)

    def _compiled(self, environment: SandboxedEnvironment, source: str) -> Template:
        key = (id(environment), source)
        template = self._cache.get(key)
        if template is None:
            template = self._cache[key] = environment.from_string(source)
        return template

    def _sentence(self, templates: LocaleTemplates, facts: EmailFacts) -> str:
        ticket = facts.ticket
        if ticket is None:
            return ""
        source = templates.states.get(ticket.state_id or "") or templates.states.get(
            (ticket.category or StateCategory.IN_PROGRESS).value, ""
        )
        values = {"number": ticket.number, "title": ticket.title, "state": ticket.state_label or ""}
        return " ".join(self._render_text(source, values).split())

    def _values(self, templates: LocaleTemplates, facts: EmailFacts) -> dict[str, Any]:
        first = first_name(facts.customer_name)
        base: dict[str, Any] = {
            "workspace": {"name": facts.workspace_name},
            "customer": {"name": facts.customer_name or "", "first_name": first or ""},
            "agent": {"name": facts.agent_name or ""},
            "body": facts.body or "",
            "link": facts.link,
            "unsubscribe": facts.unsubscribe,
            "subject": facts.subject,
            "link_days": facts.link_days,
            "csat": [
                {"score": c.score, "label": templates.csat_labels.get(c.score, str(c.score)), "url": c.url}
                for c in facts.csat
            ],
            "ticket": None,
        }
        if facts.ticket is not None:
            base["ticket"] = {
                "number": facts.ticket.number,
                "title": facts.ticket.title,
                "state": facts.ticket.state_label or "",
                "sentence": self._sentence(templates, facts),
            }
        base["greeting"] = " ".join(self._render_text(templates.greeting, base).split())
        base["sign_off"] = self._render_text(templates.sign_off, base).strip()
        base["reply_hint"] = " ".join(self._render_text(templates.reply_hint, base).split())
        return base

    def _check(self, templates: LocaleTemplates) -> None:
        """Render every template of the locale with sample facts: a mistake fails at load, named."""
        sample = EmailFacts(
            workspace_name="Sample Shop",
            customer_name="Sam Sample",
            agent_name="Alex Agent",
            ticket=TicketFacts(1, "Sample request", "sample", "In progress", StateCategory.IN_PROGRESS),
            body="Sample words",
            link="https://example.com/messenger/?ticket=T&link=L",
            csat=tuple(CsatLink(s, f"https://example.com/?score={s}") for s in range(1, 6)),
            unsubscribe="https://example.com/?unsubscribe",
            subject="Re: Sample",
            link_days=7,
        )
        for state in templates.states:
            self._render_or_explain(templates, f"states.{state}", lambda s=state: self._sentence_of(templates, s))
        for event in EmailEvent:
            self._render_or_explain(
                templates, f"events.{event.value}", lambda e=event: self.render(e, sample, templates.locale)
            )

    def _sentence_of(self, templates: LocaleTemplates, state: str) -> str:
        return self._render_text(templates.states[state], {"number": 1, "title": "Sample", "state": "Sample"})

    @staticmethod
    def _render_or_explain(templates: LocaleTemplates, where: str, render: Any) -> None:
        try:
            render()
        except TemplateError as error:
            raise TemplateProblem(f"{where}: {error}", locale=templates.locale) from error
