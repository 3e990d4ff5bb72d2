"""The local runtime's settings, from the environment, with documented local-only defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# LOCAL DEVELOPMENT ONLY: these secrets sign tokens on your machine; never use them anywhere else.
DEFAULT_MESSENGER_SECRET = "local-dev-messenger-secret-change-me"
DEFAULT_AGENT_SECRET = "local-dev-agent-secret-change-me"
DEFAULT_EMAIL_SECRET = "local-dev-email-secret-change-me-signs-reply-addresses"
DEFAULT_SUPPORT_ADDRESS = "support@demo-shop.example"


@dataclass(frozen=True)
class Settings:
    port: int
    moto_port: int
    table_name: str
    workspace_dir: Path
    messenger_secret: str
    agent_secret: str
    region: str = "us-east-1"
    attachments_bucket: str = "helpdesk-local-attachments"
    inbound_email_bucket: str = "helpdesk-local-inbound-email"
    smtp_port: int = 2525
    support_address: str = DEFAULT_SUPPORT_ADDRESS
    email_secret: str = DEFAULT_EMAIL_SECRET
    lake_bucket: str = "helpdesk-local-lake"
    search_index_bucket: str = "helpdesk-local-search-index"
    web_dir: Path = REPO / "web"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            port=int(os.environ.get("PORT", "8000")),
            moto_port=int(os.environ.get("MOTO_PORT", "5000")),
            table_name=os.environ.get("LOCAL_TABLE_NAME", "helpdesk-local"),
            workspace_dir=Path(os.environ.get("LOCAL_WORKSPACE_DIR", str(REPO / "workspace" / "demo"))),
            messenger_secret=os.environ.get("LOCAL_MESSENGER_SECRET", DEFAULT_MESSENGER_SECRET),
            agent_secret=os.environ.get("LOCAL_AGENT_SECRET", DEFAULT_AGENT_SECRET),
            smtp_port=int(os.environ.get("SMTP_PORT", "2525")),
            support_address=os.environ.get("LOCAL_SUPPORT_ADDRESS", DEFAULT_SUPPORT_ADDRESS).strip().lower(),
            email_secret=os.environ.get("LOCAL_EMAIL_SECRET", DEFAULT_EMAIL_SECRET),
        )
