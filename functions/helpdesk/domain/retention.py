"""How long the workspace keeps what it no longer works on, and what erasure keeps (``workspace.yaml``).

``retention`` (days; defaults below, documented in the README):

- ``closed_conversations_days``: a closed conversation (with its messages) is deleted this long after
  it was closed (the table's TTL attribute, set when it closes and cleared when it reopens);
- ``resolved_tickets_days``: likewise a resolved or closed ticket with its timeline;
- ``attachments_days``: uploaded files (an S3 lifecycle rule on ``attachments/``);
- ``lake_days``: the event lake's partitions (a lifecycle rule on ``events/``);
- ``email_originals_days``: the emails SES received, as they arrived (a lifecycle rule on ``inbound/``);
- ``exports_days``: data-protection exports (``exports/``).

The CDK app generates the lifecycle rules from the same model the functions read (an infra test
asserts them); the local runtime, whose embedded DynamoDB does not expire items, sweeps them.

``privacy.keep_agent_messages``: when a customer is erased, keep the agents' messages and notes of
their conversations and tickets, anonymized (false: the conversations and tickets go entirely).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

Days = int


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    closed_conversations_days: Days = Field(730, ge=1, le=3650)
    resolved_tickets_days: Days = Field(730, ge=1, le=3650)
    attachments_days: Days = Field(730, ge=1, le=3650)
    lake_days: Days = Field(1095, ge=1, le=3650)
    email_originals_days: Days = Field(90, ge=1, le=3650)
    exports_days: Days = Field(1, ge=1, le=30)

    def conversation_expiry(self, closed_at: datetime) -> datetime:
        return closed_at + timedelta(days=self.closed_conversations_days)

    def ticket_expiry(self, resolved_at: datetime) -> datetime:
        return resolved_at + timedelta(days=self.resolved_tickets_days)

    def lifecycle(self) -> dict[str, dict[str, int]]:
        """Expiry in days by bucket role and key prefix: what the CDK app turns into lifecycle rules."""
        return {
            "files": {
                "attachments/": self.attachments_days,
                "thumbnails/": self.attachments_days,  # a file's thumbnail goes with it
                "inbound/": self.email_originals_days,
                "exports/": self.exports_days,
            },
            "lake": {"events/": self.lake_days},
        }


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_agent_messages: bool = False
