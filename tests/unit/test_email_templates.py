"""The words of status emails: written for a person, per locale, and checked when the workspace loads."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import pytest
import yaml
from helpdesk.adapters.email_config_files import BUILT_IN_TEMPLATES, load_email_setup, load_templates
from helpdesk.adapters.workspace_files import WorkspaceConfigError, load_workspace
from helpdesk.domain.email_templates import CsatLink, EmailEvent, EmailFacts, EmailTemplates, TicketFacts
from helpdesk.domain.workspace import StateCategory

from tests.conftest import DEMO_WORKSPACE
from tests.support.workspaces import agents_only_workspace

LINK = "https://shop.example/messenger/?ticket=T1&link=abc"


@cache
def demo_templates() -> EmailTemplates:
    return load_email_setup(DEMO_WORKSPACE, load_workspace(DEMO_WORKSPACE)).templates


def facts(**changes: object) -> EmailFacts:
    values: dict[str, object] = {
        "workspace_name": "Demo Shop",
        "customer_name": "Alice Jones",
        "ticket": TicketFacts(1, "Cracked mug", "assessing", "We're looking into it", StateCategory.IN_PROGRESS),
        "link": LINK,
    }
    return EmailFacts(**(values | changes))  # type: ignore[arg-type]


def test_a_state_change_reads_as_a_sentence_with_the_customer_s_first_name_and_the_workspace_sign_off() -> None:
    email = demo_templates().render(EmailEvent.STATE_CHANGED, facts())

    assert email.subject == "[#1] We're looking into ticket #1"
    assert email.summary == "We're looking into ticket #1."
    assert email.text.startswith('Hi Alice,\n\nWe\'re looking into ticket #1 ("Cracked mug").')
    assert "The Demo Shop team" in email.text
    assert LINK in email.text
    assert "We&#x27;re looking into ticket #1" in email.html  # escaped, as HTML must
    assert "<p>Hi Alice,</p>" in email.html


def test_a_state_without_its_own_sentence_uses_its_category_s() -> None:
    ticket = TicketFacts(7, "Late parcel", "in-transit", "On its way", StateCategory.IN_PROGRESS)

    email = demo_templates().render(EmailEvent.STATE_CHANGED, facts(ticket=ticket))

    assert email.summary == "We're working on ticket #7."


def test_an_agent_s_reply_names_the_agent_and_carries_their_words_escaped_in_html() -> None:
    email = demo_templates().render(
        EmailEvent.AGENT_REPLY, facts(agent_name="Sam", body="Use <b>code</b> SAVE10 & see https://x.example/a")
    )

    assert email.subject == "[#1] Sam replied: Cracked mug"
    assert "Use <b>code</b> SAVE10 & see https://x.example/a" in email.text
    assert "Use &lt;b&gt;code&lt;/b&gt; SAVE10 &amp; see" in email.html
    assert '<a href="https://x.example/a">' in email.html
    assert "Sam, Demo Shop" in email.text


def test_without_a_name_the_greeting_is_still_a_greeting() -> None:
    email = demo_templates().render(EmailEvent.TICKET_CREATED, facts(customer_name="a@x.example"))

    assert email.text.startswith("Hello,\n")


def test_resolution_and_the_rating_request_are_one_email_with_a_link_per_score() -> None:
    links = tuple(CsatLink(score, f"{LINK}&score={score}") for score in range(1, 6))
    resolved = TicketFacts(1, "Cracked mug", "replaced", "Resolved - replaced", StateCategory.RESOLVED)

    email = demo_templates().render(EmailEvent.RESOLVED, facts(ticket=resolved, csat=links))

    assert email.subject == "[#1] Ticket #1 is resolved: your replacement has been sent"
    for score in range(1, 6):
        assert f"{LINK}&score={score}" in email.text
        assert f'href="{html.escape(LINK)}&amp;score={score}"' in email.html
    assert "1 - Poor" in email.html
    assert email.html.count(f"score={1}") == 1  # buttons in HTML, not also the text's list


def test_a_customer_s_locale_picks_the_templates_and_falls_back_to_the_language_then_the_default() -> None:
    templates = demo_templates()

    german = templates.render(EmailEvent.STATE_CHANGED, facts(), "de-AT")
    unknown = templates.render(EmailEvent.STATE_CHANGED, facts(), "pt-BR")

    assert german.locale == "de"
    assert german.summary == "Wir sehen uns Ticket #1 genau an."
    assert german.text.startswith("Hallo Alice,")
    assert unknown.locale == "en"


def test_a_template_naming_an_unknown_variable_fails_the_workspace_with_file_and_field(tmp_path: Path) -> None:
    data = yaml.safe_load((BUILT_IN_TEMPLATES / "en.yaml").read_text())
    data["events"]["reminder"]["text"] = "Hi {{ customer.nickname }}"
    (tmp_path / "en.yaml").write_text(yaml.safe_dump(data))

    with pytest.raises(WorkspaceConfigError) as failed:
        load_templates(tmp_path, "en")

    assert "en.yaml: events.reminder:" in str(failed.value)
    assert "nickname" in str(failed.value)


def test_a_locale_file_missing_an_event_or_a_category_sentence_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((BUILT_IN_TEMPLATES / "en.yaml").read_text())
    del data["events"]["link_renewal"]
    del data["states"]["resolved"]
    (tmp_path / "en.yaml").write_text(yaml.safe_dump(data))

    with pytest.raises(WorkspaceConfigError, match=r"en\.yaml"):
        load_templates(tmp_path, "en")


def test_templates_can_t_reach_python_from_the_sandbox(tmp_path: Path) -> None:
    data = yaml.safe_load((BUILT_IN_TEMPLATES / "en.yaml").read_text())
    data["events"]["reminder"]["text"] = "{{ body.__class__.__mro__[1].__subclasses__() }}"
    (tmp_path / "en.yaml").write_text(yaml.safe_dump(data))

    with pytest.raises(WorkspaceConfigError, match=r"events\.reminder"):
        load_templates(tmp_path, "en")


def test_the_email_channel_must_name_one_of_the_workspace_s_teams() -> None:
    directory = agents_only_workspace()
    (directory / "email" / "channel.yaml").write_text("team: nobody\n")

    with pytest.raises(WorkspaceConfigError, match=r"channel\.yaml: team: 'nobody'"):
        load_email_setup(directory, load_workspace(directory))


def test_the_built_in_templates_serve_a_workspace_without_its_own() -> None:
    directory = agents_only_workspace()
    for path in (directory / "email").rglob("*.yaml"):
        path.unlink()

    setup = load_email_setup(directory, load_workspace(directory))

    assert setup.channel is None
    assert setup.templates.render(EmailEvent.TICKET_CREATED, facts()).subject == "[#1] Cracked mug"
