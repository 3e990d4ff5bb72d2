"""DynamoDB stream worker: turns the table's committed changes into live frames for the connected pages.

A second consumer of the stream, beside the event publisher, so neither can hold the other up. A batch
is decoded and fanned out as a whole (``helpdesk.services.live_fanout``); if it fails the stream
retries it, and its frames go out again with the same ids (pages drop duplicates). Frames are
ephemeral: after a few attempts the batch goes to the on-failure queue (alarmed) and pages catch up
through the APIs when they next reconnect or poll.
"""

from __future__ import annotations

from typing import Any

from helpdesk.handlers.entry import Handler, LambdaFunction, logger, metrics


def build() -> Handler:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        decode = wiring.stream_decoder()
        changes = [change for record in event.get("Records") or [] if (change := decode(record)) is not None]
        if not changes:
            return {"batchItemFailures": []}
        report = wiring.live_fanout().process(changes)
        metrics().add_metric(name="LiveFramesPosted", unit=MetricUnit.Count, value=report.posted)
        if report.gone:
            metrics().add_metric(name="LiveConnectionsGone", unit=MetricUnit.Count, value=len(report.gone))
        logger().info(
            "live frames posted",
            extra={"changes": len(changes), "frames": report.frames, "posted": report.posted, "gone": len(report.gone)},
        )
        return {"batchItemFailures": []}

    return handle


lambda_handler = LambdaFunction(build)
