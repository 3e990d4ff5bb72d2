"""The composition root's email channel: the workspace's email setup, the key ring, the mail records,
files and sender, and the services that send, take in and follow up email.

Part of ``helpdesk.wiring`` (its settings, stores and services are used here); as there, adapters are
built once and kept (``@cache``; ``wiring.reset()`` forgets them too), services per call.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from helpdesk.settings import settings
from helpdesk.wiring import messenger_secret, stores, tickets, workspace

if TYPE_CHECKING:
    from helpdesk.adapters.email_config_files import EmailSetup
    from helpdesk.adapters.email_link_uses import DynamoLinkUses
    from helpdesk.adapters.email_records import DynamoEmailRecords
    from helpdesk.adapters.mail_transport import S3MailFiles, SesMailSender
    from helpdesk.auth.email_keys import EmailKeys
    from helpdesk.services.email_delivery import EmailDelivery
    from helpdesk.services.email_feedback import EmailFeedback
    from helpdesk.services.email_ingestion import EmailIngestion
    from helpdesk.services.email_links import EmailLinks


@cache
def email_setup() -> EmailSetup:
    """The workspace's email channel and templates (checked when the stack was synthesized, not again here)."""
    from helpdesk.adapters.email_config_files import load_email_setup

    directory = settings().workspace_dir
    assert directory is not None, "workspace() is loaded first and names the missing setting"
    return load_email_setup(directory, workspace(), check=False)


def email_keys() -> EmailKeys:
    """The key ring of reply addresses and links (Secrets Manager, cached a few minutes by powertools)."""
    from helpdesk.adapters.secrets import read_secret
    from helpdesk.auth.email_keys import EmailKeys

    return EmailKeys.from_secret(read_secret(settings().require("email_secret_arn")))


@cache
def email_records() -> DynamoEmailRecords:
    from helpdesk.adapters.email_records import DynamoEmailRecords

    return DynamoEmailRecords()


@cache
def mail_files() -> S3MailFiles:
    from helpdesk.adapters.mail_transport import S3MailFiles

    config = settings()
    return S3MailFiles(
        inbound_bucket=config.require("inbound_email_bucket"),
        attachments_bucket=config.require("attachments_bucket"),
        path_style=config.endpoint_url is not None,
    )


@cache
def mail_sender() -> SesMailSender:
    from helpdesk.adapters.mail_transport import SesMailSender

    config = settings()
    return SesMailSender(
        configuration_set=config.notify_configuration_set,
        region=config.region,
        rewrites_message_id=config.ses_rewrites_message_id,
    )


def email_delivery() -> EmailDelivery:
    from helpdesk.services.email_delivery import EmailAddresses, EmailDelivery

    config = settings()
    setup = email_setup()
    channel = setup.channel
    return EmailDelivery(
        email_records(),
        mail_sender(),
        setup.templates,
        email_keys(),
        EmailAddresses(
            support=str(config.require("support_address")).strip().lower(),
            sender=config.sender_address,
            messenger_url=config.require("messenger_url"),
        ),
        workspace().name,
        reply_days=channel.reply_address_days if channel else 90,
        link_days=channel.link_days if channel else 7,
        tickets=stores().tickets,
        conversations=stores().conversations,
    )


def email_ingestion() -> EmailIngestion:
    from helpdesk.services.email_ingestion import EmailIngestion, EmailNotConfigured, SupportAddresses

    config = settings()
    channel = email_setup().channel
    if channel is None:
        raise EmailNotConfigured("the workspace has no email/channel.yaml: it doesn't take email in")
    table = stores()
    return EmailIngestion(
        records=email_records(),
        files=mail_files(),
        conversations=table.conversations,
        tickets=table.tickets,
        replies=tickets(),
        customers=table.customers,
        keys=email_keys(),
        channel=channel,
        addresses=SupportAddresses(
            support=str(config.require("support_address")).strip().lower(), own=frozenset({config.sender_address})
        ),
    )


def email_links() -> EmailLinks:
    from helpdesk.services.email_links import EmailLinks

    return EmailLinks(uses=link_uses(), tickets=stores().tickets, keys=email_keys(), messenger_secret=messenger_secret)


@cache
def link_uses() -> DynamoLinkUses:
    from helpdesk.adapters.email_link_uses import DynamoLinkUses

    return DynamoLinkUses()


def email_feedback() -> EmailFeedback:
    from helpdesk.services.email_feedback import EmailFeedback

    return EmailFeedback(email_records(), stores().conversations, visibility=workspace().agent_visibility)
