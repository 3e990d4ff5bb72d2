"""The local outbox's email side: sent and received mail grouped into threads, and template previews.

Threads are what mail clients show: emails joined by their ``Message-ID``, ``In-Reply-To`` and
``References`` (the embedded SES keeps our Message-IDs, so both directions link up). Received mail
is read from the inbound bucket, with the outcome the ingest worker recorded for it.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3

_IDS = re.compile(r"<[^<>\s]+>")


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _entry(parsed: EmailMessage, direction: str, at: datetime, outcome: str | None = None) -> dict[str, Any]:
    body = parsed.get_body(("plain",)) or parsed.get_body(("html",))
    text = body.get_content().replace("\r\n", "\n") if body is not None else ""
    return {
        "direction": direction,
        "from": str(parsed.get("From", "")),
        "to": [a for _, a in getaddresses([str(v) for v in parsed.get_all("To", [])]) if a],
        "subject": str(parsed.get("Subject", "")),
        "message_id": str(parsed.get("Message-ID", "")).strip() or None,
        "in_reply_to": str(parsed.get("In-Reply-To", "")).strip() or None,
        "references": _IDS.findall(str(parsed.get("References", ""))),
        "reply_to": str(parsed.get("Reply-To", "")) or None,
        "at": at.isoformat(),
        "text": text,
        "outcome": outcome,
    }


def _date(parsed: EmailMessage) -> datetime:
    try:
        return parsedate_to_datetime(str(parsed.get("Date"))).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)


_received_cache: dict[str, dict[str, Any]] = {}


def _received(bucket: str | None) -> list[dict[str, Any]]:
    if not bucket:
        return []
    s3 = boto3.client("s3")
    entries = []
    for listed in s3.list_objects_v2(Bucket=bucket, Prefix="inbound/").get("Contents", []):
        key = str(listed["Key"])
        if key not in _received_cache:
            parsed = _parse(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            _received_cache[key] = _entry(parsed, "in", listed["LastModified"].astimezone(UTC))
        entry = dict(_received_cache[key])
        entry["outcome"] = _outcome(key.removeprefix("inbound/"))
        entries.append(entry)
    return entries


def _outcome(receipt_id: str) -> str | None:
    table = os.environ.get("TABLE_NAME")
    if not table:
        return None
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"PK": {"S": f"INBOUND#{receipt_id}"}, "SK": {"S": "RECEIPT"}}
    )
    outcome = item.get("Item", {}).get("outcome", {}).get("S")
    return outcome.replace("_", " ") if outcome else "not handled yet"


def _sent(sent_messages: list[Any]) -> list[dict[str, Any]]:
    entries = []
    for message in sent_messages:
        if hasattr(message, "raw_data"):
            parsed = _parse(message.raw_data.encode())
            entries.append(_entry(parsed, "out", _date(parsed)))
    return entries


def mail_threads(sent_messages: list[Any], inbound_bucket: str | None) -> list[dict[str, Any]]:
    """Every raw email sent or received, grouped into threads, newest thread first."""
    mails = _sent(sent_messages) + _received(inbound_bucket)
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for index, mail in enumerate(mails):
        own = mail["message_id"] or f"#{index}"
        for other in [mail["in_reply_to"], *mail["references"]]:
            if other:
                parent[find(own)] = find(other)
        find(own)
    groups: dict[str, list[dict[str, Any]]] = {}
    for index, mail in enumerate(mails):
        groups.setdefault(find(mail["message_id"] or f"#{index}"), []).append(mail)
    threads = []
    for messages in groups.values():
        messages.sort(key=lambda m: m["at"])
        threads.append({"subject": messages[0]["subject"], "messages": messages})
    threads.sort(key=lambda t: t["messages"][-1]["at"], reverse=True)
    return threads


@cache
def template_previews() -> list[dict[str, str]]:
    """Every email template of the running workspace, per locale, rendered with sample values."""
    from helpdesk.adapters.email_config_files import load_email_setup
    from helpdesk.adapters.workspace_files import load_workspace
    from helpdesk.domain.email_templates import CsatLink, EmailEvent, EmailFacts, TicketFacts
    from helpdesk.domain.workspace import StateCategory

    directory = Path(os.environ.get("WORKSPACE_DIR", "workspace/demo"))
    workspace = load_workspace(directory)
    templates = load_email_setup(directory, workspace).templates
    link = "http://127.0.0.1:8000/messenger/?ticket=01EXAMPLE&link=<token>"
    facts = EmailFacts(
        workspace_name=workspace.name,
        customer_name="Alice Jones",
        agent_name="Sam",
        ticket=TicketFacts(1042, "Cracked mug", "assessing", "We're looking into it", StateCategory.IN_PROGRESS),
        body="Could you send us a photo of the damage?",
        link=link,
        csat=tuple(CsatLink(score, f"{link}&score={score}") for score in range(1, 6)),
        unsubscribe=f"{link}&unsubscribe",
        subject="Re: My parcel arrived damaged",
        link_days=7,
    )
    previews = []
    for locale in templates.locales:
        for event in EmailEvent:
            rendered = templates.render(event, facts, locale)
            previews.append(
                {
                    "locale": locale,
                    "event": event.value,
                    "subject": rendered.subject,
                    "text": rendered.text,
                    "html": rendered.html,
                }
            )
    return previews
