"""The workspace's retention settings (``helpdesk.domain.retention``) as S3 lifecycle rules.

The functions read the same ``retention`` block of ``workspace.yaml`` to set the table's TTL when a
conversation closes or a ticket resolves, so one setting drives both; ``tests/infra`` asserts the
rules in the synthesized template.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from helpdesk.domain.retention import Retention


def retention_of(workspace_dir: Path) -> Retention:
    """The deployed workspace's retention settings (defaults where it says nothing)."""
    from helpdesk.adapters.workspace_files import load_workspace

    return load_workspace(workspace_dir).retention


def expiry_rules(retention: Retention, role: str) -> list[s3.LifecycleRule]:
    """One expiration rule per key prefix of a bucket role (``files``: attachments, received emails and
    exports; ``lake``: the event lake's partitions), named ``retention-<prefix>``."""
    return [
        s3.LifecycleRule(id=f"retention-{prefix.strip('/')}", prefix=prefix, expiration=Duration.days(days))
        for prefix, days in sorted(retention.lifecycle()[role].items())
    ]
