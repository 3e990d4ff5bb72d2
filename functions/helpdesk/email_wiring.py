"""Builds the email channel's adapters and services, lazily, once per container.

Handlers (the email-ingest and email-feedback workers, the notifier, the messenger API's link routes
and the inbox's email view) ask here for what they need; nothing is built, no environment variable
read and no AWS client made until a function first asks.

Environment: ``SUPPORT_ADDRESS`` (``support@<domain>``, where customers write), ``NOTIFY_FROM_EMAIL``
(the SES-verified From address; defaults to the support address), ``EMAIL_SECRET_ARN`` (the key of
reply addresses and links), ``INBOUND_EMAIL_BUCKET`` (where SES stores received mail),
``ATTACHMENTS_BUCKET``, ``MESSENGER_URL``, optional ``NOTIFY_CONFIGURATION_SET`` and
``SES_REWRITES_MESSAGE_ID`` (``false`` only on the local runtime's embedded SES).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpdesk.adapters.email_config_files import EmailSetup
    from helpdesk.adapters.email_records import DynamoEmailRecords
    from helpdesk.adapters.mail_transport import S3MailFiles, SesMailSender
    from helpdesk.auth.email_keys import EmailKeys
    from helpdesk.services.email_delivery import EmailDelivery
    from helpdesk.services.email_feedback import EmailFeedback
    from helpdesk.services.email_ingestion import EmailIngestion
    from helpdesk.services.email_links import EmailLinks


class EmailNotConfigured(RuntimeError):
    """A function needs an email setting its environment doesn't carry (a deployment mistake, named)."""


def _setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name) or default
    if not value:
        raise EmailNotConfigured(f"{name} is not set: the email channel needs it")
    return value


def support_address() -> str:
    return _setting("SUPPORT_ADDRESS").strip().lower()


def sender_address() -> str:
    return _setting("NOTIFY_FROM_EMAIL", os.environ.get("SUPPORT_ADDRESS")).strip().lower()


def email_configured() -> bool:
    """Whether this function runs with the email channel (a support address and the email key)."""
    return bool(os.environ.get("SUPPORT_ADDRESS") and os.environ.get("EMAIL_SECRET_ARN"))


@cache
def email_setup() -> EmailSetup:
    from helpdesk.adapters.email_config_files import email_setup_from_environment

    return email_setup_from_environment()


def email_keys() -> EmailKeys:
    """The email key ring (Secrets Manager, cached a few minutes by powertools)."""
    from helpdesk.adapters.secrets import read_secret
    from helpdesk.auth.email_keys import EmailKeys

    return EmailKeys.from_secret(read_secret(_setting("EMAIL_SECRET_ARN")))


@cache
def email_records() -> DynamoEmailRecords:
    from helpdesk.adapters.email_records import DynamoEmailRecords

    return DynamoEmailRecords()


@cache
def mail_files() -> S3MailFiles:
    from helpdesk.adapters.mail_transport import S3MailFiles

    return S3MailFiles(
        inbound_bucket=_setting("INBOUND_EMAIL_BUCKET"),
        attachments_bucket=_setting("ATTACHMENTS_BUCKET"),
        path_style=bool(os.environ.get("AWS_ENDPOINT_URL")),
    )


@cache
def mail_sender() -> SesMailSender:
    from helpdesk.adapters.mail_transport import SesMailSender

    return SesMailSender(
        configuration_set=os.environ.get("NOTIFY_CONFIGURATION_SET") or None,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        rewrites_message_id=os.environ.get("SES_REWRITES_MESSAGE_ID", "true").lower() != "false",
    )


def email_delivery() -> EmailDelivery:
    from helpdesk.api.app import workspace
    from helpdesk.services.email_delivery import EmailAddresses, EmailDelivery

    setup = email_setup()
    channel = setup.channel
    return EmailDelivery(
        email_records(),
        mail_sender(),
        setup.templates,
        email_keys(),
        EmailAddresses(support=support_address(), sender=sender_address(), messenger_url=_setting("MESSENGER_URL")),
        workspace().name,
        reply_days=channel.reply_address_days if channel else 90,
        link_days=channel.link_days if channel else 7,
    )


def email_ingestion() -> EmailIngestion:
    from helpdesk.api.app import repository, tickets
    from helpdesk.services.email_ingestion import EmailIngestion, SupportAddresses

    channel = email_setup().channel
    if channel is None:
        raise EmailNotConfigured("the workspace has no email/channel.yaml: it doesn't take email in")
    table = repository()
    return EmailIngestion(
        records=email_records(),
        files=mail_files(),
        conversations=table,
        tickets=table,
        replies=tickets(),
        customers=table,
        keys=email_keys(),
        channel=channel,
        addresses=SupportAddresses(support=support_address(), own=frozenset({sender_address()})),
    )


def email_links() -> EmailLinks:
    from helpdesk.adapters.secrets import messenger_secret
    from helpdesk.api.app import repository, tickets
    from helpdesk.services.email_links import EmailLinks

    return EmailLinks(
        records=email_records(),
        readers=repository(),
        rater=tickets(),
        fresh_links=email_delivery(),
        keys=email_keys(),
        messenger_secret=messenger_secret,
    )


def email_feedback() -> EmailFeedback:
    from helpdesk.api.app import repository
    from helpdesk.services.email_feedback import EmailFeedback

    return EmailFeedback(email_records(), repository())


def reset() -> None:
    """Forget what was built (tests change the environment between cases)."""
    for factory in (email_setup, email_records, mail_files, mail_sender):
        factory.cache_clear()
