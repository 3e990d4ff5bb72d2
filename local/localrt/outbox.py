"""What the customer's side received, read back from the embedded AWS: emails (SES), SMS (SNS) and
the events on the bus. Served by the local gateway at ``/_local/outbox`` (JSON) and
``/_local/outbox.html`` (a page a person can read), so the demo shows what customers were sent.
"""

from __future__ import annotations

import html
import json
import threading
from typing import Any

import boto3

ACCOUNT = "123456789012"


def _backend(service: str, region: str) -> Any:
    from moto.backends import get_backend

    backends: Any = get_backend(service)  # type: ignore[call-overload]
    return backends[ACCOUNT][region]


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


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


class Outbox:
    """Reads SES and SNS from moto's in-process backends, and drains the bus's event-log queue."""

    def __init__(self, region: str, event_log_url: str | None) -> None:
        self.region = region
        self.event_log_url = event_log_url
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emails(self) -> list[dict[str, Any]]:
        ses = _backend("ses", self.region)
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
        return {"emails": self.emails(), "sms": self.sms(), "events": self.events()}

    def page(self) -> str:
        snapshot = self.snapshot()
        rows = "".join(
            f"<tr><td>{html.escape(', '.join(e['to']))}</td>"
            f"<td>{html.escape(str(e.get('subject') or ''))}</td>"
            f"<td><pre>{html.escape(str(e.get('text') or ''))}</pre></td></tr>"
            for e in reversed(snapshot["emails"])
        )
        sms = "".join(
            f"<tr><td>{html.escape(s['to'])}</td><td>{html.escape(s['text'])}</td></tr>"
            for s in reversed(snapshot["sms"])
        )
        events = "".join(
            f"<tr><td>{html.escape(str(e.get('detail-type')))}</td><td>{html.escape(str(e.get('source')))}</td>"
            f"<td><pre>{html.escape(json.dumps(e.get('detail'), indent=1)[:600])}</pre></td></tr>"
            for e in reversed(snapshot["events"][-100:])
        )
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local outbox</title>
<meta http-equiv="refresh" content="5">
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}
table{{border-collapse:collapse;width:100%}}pre{{margin:0;white-space:pre-wrap}}
td,th{{border:1px solid #ccd;padding:4px 8px;vertical-align:top;text-align:left}}</style>
</head><body><h1>What customers were sent (local)</h1>
<h2>Emails ({len(snapshot["emails"])})</h2><table><tr><th>To</th><th>Subject</th><th>Text</th></tr>{rows}</table>
<h2>SMS ({len(snapshot["sms"])})</h2><table><tr><th>To</th><th>Text</th></tr>{sms}</table>
<h2>Events on the bus (latest 100 of {len(snapshot["events"])})</h2>
<table><tr><th>Detail type</th><th>Source</th><th>Detail</th></tr>{events}</table></body></html>"""
