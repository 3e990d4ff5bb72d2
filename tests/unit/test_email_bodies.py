"""Stripping quotes and signatures never costs the customer a sentence (the cases a corpus misses)."""

from __future__ import annotations

from helpdesk.domain.email_bodies import strip_quotes, strip_signature
from helpdesk.domain.email_html import html_to_text


def test_thanks_inside_a_sentence_is_not_taken_for_a_signature() -> None:
    text = "The parcel arrived.\nThanks, but the lid is cracked and I'd like a refund.\n\nBest regards,\nAlice"

    body, removed = strip_signature(text)

    assert body == "The parcel arrived.\nThanks, but the lid is cracked and I'd like a refund."
    assert removed


def test_a_long_paragraph_after_a_closing_word_is_kept() -> None:
    paragraph = "Also, the second parcel was left at the wrong address and the neighbour opened it. " * 2
    text = f"Order ORD-1001.\nThanks\n{paragraph}"

    body, removed = strip_signature(text)

    assert body == text.rstrip()
    assert not removed


def test_a_list_of_items_with_dashes_is_not_a_signature() -> None:
    text = "Missing from the box:\n- the charger\n- the manual"

    assert strip_signature(text) == (text, False)
    assert strip_quotes(text) == (text, False)


def test_the_sig_dash_delimiter_ends_the_message() -> None:
    body, removed = strip_signature("Tomorrow is fine.\n-- \nIvan\nhttps://petrov.example")

    assert (body, removed) == ("Tomorrow is fine.", True)


def test_a_one_word_message_stays_even_when_it_is_a_closing_word() -> None:
    assert strip_signature("Thanks!") == ("Thanks!", False)


def test_answers_written_between_quoted_questions_keep_the_questions() -> None:
    text = "> Which order is it?\nORD-1001\n\n> And which item?\nThe blue mug\n\n> Thanks, Sam"

    body, _ = strip_quotes(text)

    assert body == "> Which order is it?\nORD-1001\n\n> And which item?\nThe blue mug"


def test_outlook_desktop_header_block_without_html_markers_is_history() -> None:
    text = (
        "Please cancel it.\n\nFrom: Demo Shop <support@demo-shop.example>\nSent: Monday, 9 March 2026 09:00\n"
        "To: Bob\nSubject: Ticket #7\n\nHello Bob"
    )

    assert strip_quotes(text) == ("Please cancel it.", True)


def test_html_with_unclosed_tags_and_entities_reads_as_text() -> None:
    html = "<div>Hello &amp; welcome<p>First<p>Second<br>line<table><tr><td>a<td>b</table>"

    text = html_to_text(html)

    assert text.text == "Hello & welcome\n\nFirst\n\nSecond\nline\n\na b"
    assert not text.quote_found


def test_a_gmail_forward_in_html_is_kept_not_dropped_as_a_quote() -> None:
    html = (
        '<div>See below<div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message '
        "---------<br>From: Carrier</div><p>Parcel lost.</p></div></div>"
    )

    text = html_to_text(html)

    assert "Parcel lost." in text.text
    assert not text.quote_found


def test_scripts_styles_and_quoted_pictures_leave_nothing_behind() -> None:
    html = (
        '<style>p{color:red}</style><script>alert(1)</script><p>Broken:<img src="cid:shot@x"></p>'
        '<blockquote type="cite"><img src="cid:old@x">old text</blockquote>'
    )

    text = html_to_text(html)

    assert text.text == "Broken:"
    assert text.kept_images == frozenset({"shot@x"})
    assert text.quote_found
