"""What SES says about an email it received for us: where it stored it, for whom, and its verdicts.

SES receiving (a receipt rule's S3 action with a topic) publishes this notification to SNS, which
delivers it raw to the ingest queue; the local runtime's SMTP server writes the same shape. Only the
fields we use are modelled; SES adds more.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    GRAY = "GRAY"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    DISABLED = "DISABLED"


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class VerdictStatus(_Open):
    status: Verdict = Verdict.DISABLED


class ReceiptAction(_Open):
    type: str
    bucket_name: str | None = Field(default=None, alias="bucketName")
    object_key: str | None = Field(default=None, alias="objectKey")


class Receipt(_Open):
    recipients: list[str] = []
    """The envelope recipients (RCPT TO) the rule matched: where the email was really sent."""
    spam_verdict: VerdictStatus = Field(default_factory=VerdictStatus, alias="spamVerdict")
    virus_verdict: VerdictStatus = Field(default_factory=VerdictStatus, alias="virusVerdict")
    spf_verdict: VerdictStatus = Field(default_factory=VerdictStatus, alias="spfVerdict")
    dkim_verdict: VerdictStatus = Field(default_factory=VerdictStatus, alias="dkimVerdict")
    dmarc_verdict: VerdictStatus = Field(default_factory=VerdictStatus, alias="dmarcVerdict")
    action: ReceiptAction


class Mail(_Open):
    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    """SES's id of the received email (also the S3 object's name)."""
    source: str = ""
    """The envelope sender (MAIL FROM); empty for a bounce."""


class ReceivedEmail(_Open):
    notification_type: str = Field(alias="notificationType")
    mail: Mail
    receipt: Receipt

    @property
    def spam(self) -> bool:
        return self.receipt.spam_verdict.status is Verdict.FAIL

    @property
    def virus(self) -> bool:
        return self.receipt.virus_verdict.status is Verdict.FAIL

    @property
    def dmarc_failed(self) -> bool:
        return self.receipt.dmarc_verdict.status is Verdict.FAIL

    @property
    def spf_failed(self) -> bool:
        return self.receipt.spf_verdict.status is Verdict.FAIL
