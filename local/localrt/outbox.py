"""What the customer's side sent and received, read back from the embedded AWS: email threads (what
SES sent, and what the SMTP server received into the inbound bucket, with what became of it), SMS
(SNS), the events on the bus, and a preview of every email template. Served by the local gateway at
``/_local/outbox`` (JSON) and ``/_local/outbox.html`` (a page a person can read).
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import threading
from email.message import EmailMessage
from typing import Any

import boto3

from localrt.outbox_mail import mail_threads, template_previews

ACCOUNT = "123456789012"


def _backend(service: str, region: str) -> Any:
    from moto.backends import get_backend

    backends: Any = get_backend(service)  # type: ignore[call-overload]
    return backends[ACCOUNT][region]


def ses_backend(region: str) -> Any:
    """moto's SES in this process (what the functions sent through the embedded AWS)."""
    return _backend("ses", region)


def rendered_template(template: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, str]:
    if not template:
        return {}

    def fill(text: str) -> str:
        for key, value in data.items():
            text = text.replace("{{" + key + "}}", str(value))
        return text

    return {
        "subject": fill(str(template.get("subject_part", ""))),
        "text": fill(str(template.get("text_part", ""))),
    }


def _raw_email(raw: str) -> dict[str, Any]:
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    return {
        "subject": str(parsed.get("Subject", "")),
        "text": body.get_content() if body is not None else "",
        "message_id": str(parsed.get("Message-ID", "")),
        "in_reply_to": str(parsed.get("In-Reply-To", "")) or None,
        "reply_to": str(parsed.get("Reply-To", "")) or None,
        "headers": {name: str(value) for name, value in parsed.items()},
    }


class Outbox:
    """Reads SES and SNS from moto's in-process backends, and drains the bus's event-log queue."""

    def __init__(self, region: str, event_log_url: str | None, inbound_bucket: str | None = None) -> None:
        self.region = region
        self.event_log_url = event_log_url
        self.inbound_bucket = inbound_bucket
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emails(self) -> list[dict[str, Any]]:
        ses = ses_backend(self.region)
        sent = []
        for message in ses.sent_messages:
            to = message.destinations
            addresses = to.get("ToAddresses", []) if isinstance(to, dict) else list(to or [])
            entry: dict[str, Any] = {"id": message.id, "from": message.source, "to": addresses}
            if hasattr(message, "template"):
                data = json.loads(
                    message.template_data[0] if isinstance(message.template_data, list) else message.template_data
                )
                template = ses.templates.get(
                    message.template[0] if isinstance(message.template, list) else message.template
                )
                entry |= {"template": message.template, "data": data, **rendered_template(template, data)}
            elif hasattr(message, "raw_data"):
                entry |= _raw_email(message.raw_data)
            else:
                entry |= {"subject": getattr(message, "subject", None), "text": getattr(message, "body", None)}
            sent.append(entry)
        return sent

    def sms(self) -> list[dict[str, str]]:
        sns = _backend("sns", self.region)
        return [{"id": key, "to": phone, "text": text} for key, (phone, text) in sns.sms_messages.items()]

    def events(self) -> list[dict[str, Any]]:
        """Every event put on the bus so far (drained from the event-log queue and kept here)."""
        if self.event_log_url:
            sqs = boto3.client("sqs")
            with self._lock:
                while True:
                    received = sqs.receive_message(QueueUrl=self.event_log_url, MaxNumberOfMessages=10).get(
                        "Messages", []
                    )
                    if not received:
                        break
                    self._events += [json.loads(m["Body"]) for m in received]
                    sqs.delete_message_batch(
                        QueueUrl=self.event_log_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
                    )
        return list(self._events)

    def snapshot(self) -> dict[str, Any]:
        return {
            "emails": self.emails(),
            "mail_threads": mail_threads(ses_backend(self.region).sent_messages, self.inbound_bucket),
            "sms": self.sms(),
            "events": self.events(),
        }

    def page(self) -> str:
        snapshot = self.snapshot()
        threads = "".join(_thread_html(t) for t in snapshot["mail_threads"]) or "<p>No email yet.</p>"
        sms = "".join(
            f"<tr><td>{html.escape(s['to'])}</td><td>{html.escape(s['text'])}</td></tr>"
            for s in reversed(snapshot["sms"])
        )
        events = "".join(
            f"<tr><td>{html.escape(str(e.get('detail-type')))}</td><td>{html.escape(str(e.get('source')))}</td>"
            f"<td><pre>{html.escape(json.dumps(e.get('detail'), indent=1)[:600])}</pre></td></tr>"
            for e in reversed(snapshot["events"][-100:])
        )
        previews = "".join(_preview_html(p) for p in template_previews())
        count = sum(len(t["messages"]) for t in snapshot["mail_threads"])
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local outbox</title>
<meta http-equiv="refresh" content="10">
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}}
table{{border-collapse:collapse;width:100%}}pre{{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font-family:inherit}}
td,th{{border:1px solid #ccd;padding:4px 8px;vertical-align:top;text-align:left}}
.thread{{border:1px solid #ccd;border-radius:8px;margin:0 0 1.5rem;padding:0 1rem 1rem}}
.mail{{border-left:4px solid #0b5cad;background:#f6f8fa;margin:.75rem 0;padding:.5rem .75rem}}
.mail.in{{border-left-color:#1a7f37}}.meta{{font-size:.85rem;color:#3b434b}}
.badge{{display:inline-block;font-size:.75rem;font-weight:700;padding:1px 6px;border-radius:4px;color:#fff;
background:#0b5cad}}.in .badge{{background:#1a7f37}}iframe{{width:100%;height:420px;border:1px solid #ccd}}
details{{margin:.25rem 0}}summary{{cursor:pointer}}</style>
</head><body><h1>What customers were sent, and what they wrote (local)</h1>
<h2>Email threads ({count} emails in {len(snapshot["mail_threads"])} threads)</h2>{threads}
<h2>SMS ({len(snapshot["sms"])})</h2><table><tr><th>To</th><th>Text</th></tr>{sms}</table>
<h2>Events on the bus (latest 100 of {len(snapshot["events"])})</h2>
<table><tr><th>Detail type</th><th>Source</th><th>Detail</th></tr>{events}</table>
<h2>Email templates (previews with sample values)</h2>{previews}</body></html>"""


def _thread_html(thread: dict[str, Any]) -> str:
    mails = "".join(_mail_html(m) for m in thread["messages"])
    return f'<section class="thread"><h3>{html.escape(thread["subject"] or "(no subject)")}</h3>{mails}</section>'


def _mail_html(mail: dict[str, Any]) -> str:
    direction = "in" if mail["direction"] == "in" else "out"
    label = "Received" if direction == "in" else "Sent"
    outcome = f" &middot; {html.escape(mail['outcome'])}" if mail.get("outcome") else ""
    reply_to = f"<br>Reply-To: {html.escape(mail['reply_to'])}" if mail.get("reply_to") else ""
    in_reply_to = f"<br>In-Reply-To: {html.escape(mail['in_reply_to'])}" if mail.get("in_reply_to") else ""
    return (
        f'<article class="mail {direction}"><span class="badge">{label}</span>'
        f'<div class="meta">From: {html.escape(mail["from"])} &rarr; To: {html.escape(", ".join(mail["to"]))}'
        f"<br>Subject: {html.escape(mail['subject'])}<br>Message-ID: {html.escape(mail['message_id'] or '')}"
        f"{in_reply_to}{reply_to}{outcome}</div><pre>{html.escape(mail['text'])}</pre></article>"
    )


def _preview_html(preview: dict[str, str]) -> str:
    return (
        f"<details><summary>{html.escape(preview['locale'])} &middot; {html.escape(preview['event'])}: "
        f"{html.escape(preview['subject'])}</summary><pre>{html.escape(preview['text'])}</pre>"
        f'<iframe title="{html.escape(preview["event"])} ({html.escape(preview["locale"])})" sandbox '
        f'srcdoc="{html.escape(preview["html"], quote=True)}"></iframe></details>'
    )
