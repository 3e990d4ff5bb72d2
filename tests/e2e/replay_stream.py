"""Redeliver every record of a table's stream to the event publisher (run by the e2e tests).

Reads the bus and topic the local runtime created, then feeds the whole stream to the same
handler the runtime's stream poller uses, as Lambda would when it retries a batch.
"""

from __future__ import annotations

import json
import os

import boto3


def main() -> None:
    table = os.environ["TABLE_NAME"]
    os.environ["EVENT_BUS_NAME"] = "helpdesk-local"
    topics = boto3.client("sns").list_topics()["Topics"]
    os.environ["STATUS_TOPIC_ARN"] = next(t["TopicArn"] for t in topics if t["TopicArn"].endswith("status-updates"))
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from helpdesk.handlers.event_publisher import lambda_handler
    from localrt.context import FakeLambdaContext
    from localrt.pollers import _epoch

    streams = boto3.client("dynamodbstreams")
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=100)
            records = page.get("Records", [])
            if not records:
                break
            event = json.loads(json.dumps({"Records": [{**r, "eventSourceARN": arn} for r in records]}, default=_epoch))
            result = lambda_handler(event, FakeLambdaContext(function_name="replay"))
            assert not result.get("batchItemFailures"), result
            iterator = page.get("NextShardIterator")


if __name__ == "__main__":
    main()
