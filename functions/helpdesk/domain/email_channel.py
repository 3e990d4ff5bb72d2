"""How a workspace runs its email channel: ``email/channel.yaml`` in the workspace directory.

::

    team: email                 # new email conversations land in this team's inbox
    default_locale: en          # templates used when the customer's locale has none
    spam: flag                  # SES spam verdict FAIL: flag (agents see it) or drop
    virus: drop                 # SES virus verdict FAIL: drop (the original stays in S3) or flag
    reply_address_days: 90     # how long a reply address in an email keeps working
    link_days: 7                # how long a link in an email opens the messenger
    max_attachment_bytes: 10485760

A DMARC failure is always flagged (the sender may not be who they say), never silently dropped.
The support address itself (``support@<domain>``) is a deployment setting (``SUPPORT_ADDRESS``), not
configuration of the workspace: the same workspace runs at another domain in another account.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.domain.workspace import Slug


class VerdictAction(StrEnum):
    FLAG = "flag"
    """Create the conversation, marked for agents."""
    DROP = "drop"
    """Create nothing; the original stays in the inbound bucket until its lifecycle removes it."""


class EmailChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    team: Slug
    default_locale: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    spam: VerdictAction = VerdictAction.FLAG
    virus: VerdictAction = VerdictAction.DROP
    reply_address_days: int = Field(default=90, ge=1, le=3650)
    link_days: int = Field(default=7, ge=1, le=90)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=40 * 1024 * 1024)
    """Files larger than this (and than the messenger's own limits) are not attached; agents are told."""
