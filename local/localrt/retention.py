"""What AWS expires on its own, expired here: the table's TTL and the buckets' lifecycle rules.

moto keeps items past their ``expires_at`` and objects past their lifecycle expiry, so the local
runtime honours the workspace's retention settings with this sweeper: every ``every_seconds`` it
deletes the items whose TTL has passed (a Scan, as DynamoDB's own TTL process reads the whole table:
this is the service's background work, never a request path) and the objects older than the
workspace's ``retention`` allows under each prefix (``Retention.lifecycle``, the same numbers the CDK
app turns into lifecycle rules). Deleting through the API puts a REMOVE on the stream, as TTL does.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from helpdesk.adapters.table import TTL_ATTRIBUTE
from helpdesk.domain.retention import Retention

from localrt.workers import Duty

log = logging.getLogger("localrt.retention")


def expire_items(table_name: str, now: float | None = None) -> int:
    """Delete the items whose TTL attribute is in the past; how many."""
    moment = int(now if now is not None else time.time())
    dynamodb = boto3.client("dynamodb")
    expired = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="#ttl < :now",
        ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
        ExpressionAttributeValues={":now": {"N": str(moment)}},
        ProjectionExpression="PK, SK",
    )
    for page in pages:
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=table_name, Key={"PK": item["PK"], "SK": item["SK"]})
            expired += 1
    return expired


def expire_objects(buckets: dict[str, list[str]], retention: Retention, now: datetime | None = None) -> int:
    """Delete the objects older than the retention allows under each prefix of each bucket role
    (``files``: the attachments and inbound-email buckets; ``lake``: the lake's)."""
    moment = now or datetime.now(UTC)
    s3 = boto3.client("s3")
    expired = 0
    for role, prefixes in retention.lifecycle().items():
        for bucket, (prefix, days) in ((b, p) for b in buckets.get(role, []) for p in prefixes.items()):
            cutoff = moment - timedelta(days=days)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    if entry["LastModified"] < cutoff:
                        s3.delete_object(Bucket=bucket, Key=entry["Key"])
                        expired += 1
    return expired


class RetentionSweeper:
    """A worker of the local runtime: the table's TTL and the buckets' lifecycle, every ``every_seconds``."""

    def __init__(
        self, table_name: str, buckets: dict[str, list[str]], retention: Retention, every_seconds: float = 30
    ) -> None:
        self.name = "retention-sweeper"
        self.table_name = table_name
        self.buckets = buckets
        self.retention = retention
        self.every_seconds = every_seconds

    def run(self, duty: Duty) -> None:
        duty.ready()
        while duty.rest(self.every_seconds):
            try:
                items = expire_items(self.table_name)
                objects = expire_objects(self.buckets, self.retention)
            except (BotoCoreError, ClientError):
                log.warning("the retention sweep failed; it runs again in %ss", self.every_seconds)
                continue
            if items or objects:
                log.info("retention: %s items and %s objects expired", items, objects)
