"""Lambda entry points that cost nothing to import: everything is built on the first invocation.

A function's cold start is its import plus its first invocation. Importing a handler module loads
only this module: no powertools, no pydantic, no AWS SDK, no environment read. On the first
invocation the entry builds, once per container, what the function needs and nothing more:

- powertools' ``Logger`` (with the Lambda context and a correlation id) and ``Metrics`` (flushed
  after each invocation);
- ``Tracer`` only when tracing is on (``POWERTOOLS_TRACE_DISABLED`` not true, inside Lambda): with
  tracing off the X-Ray SDK is never imported;
- the function's code: an API's routes (``api_function("helpdesk.api.messenger")``), or a queue
  worker's record handler with powertools' partial-batch processing (``sqs_worker``).

Code that logs or counts asks for ``logger()`` and ``metrics()`` when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

API_GATEWAY_REST = "requestContext.requestId"
"""powertools' ``correlation_paths.API_GATEWAY_REST``: the request id becomes the logs' correlation id."""

Handler = Callable[[dict[str, Any], Any], Any]


@cache
def logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger()


@cache
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics()


def instrumented(handler: Handler, *, correlation_id_path: str | None = None) -> Handler:
    """``handler`` with the Lambda context in every log line, metrics flushed, and tracing when on."""
    from helpdesk.settings import settings

    wrapped = handler
    if settings().tracing:
        from aws_lambda_powertools import Tracer

        wrapped = Tracer().capture_lambda_handler(wrapped, capture_response=False)
    wrapped = metrics().log_metrics(wrapped)
    if correlation_id_path is not None:
        return logger().inject_lambda_context(wrapped, correlation_id_path=correlation_id_path)
    return logger().inject_lambda_context(wrapped)


class LambdaFunction:
    """A Lambda handler whose code is built by ``build`` on the first invocation, then reused."""

    def __init__(self, build: Callable[[], Handler], *, correlation_id_path: str | None = None) -> None:
        self._build = build
        self._correlation_id_path = correlation_id_path
        self._handler: Handler | None = None

    def prepare(self) -> Handler:
        """Build the handler now (what the first invocation would do): the local runtime warms its
        functions one by one before it serves, so no two threads import the same modules at once."""
        if self._handler is None:
            self._handler = instrumented(self._build(), correlation_id_path=self._correlation_id_path)
        return self._handler

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        return self.prepare()(event, context)


def api_function(module: str) -> LambdaFunction:
    """An API: ``module`` defines its routes and ``handle(event, context)``; it loads on the first request."""

    def build() -> Handler:
        handle: Handler = importlib.import_module(module).handle
        return handle

    return LambdaFunction(build, correlation_id_path=API_GATEWAY_REST)


def sqs_worker(handle_record: Callable[[SQSRecord], None]) -> LambdaFunction:
    """A queue consumer: each record through ``handle_record``; failures reported per record."""

    def build() -> Handler:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        processor = BatchProcessor(event_type=EventType.SQS)

        def handle(event: dict[str, Any], context: Any) -> Any:
            return process_partial_response(
                event=event, record_handler=handle_record, processor=processor, context=context
            )

        return handle

    return LambdaFunction(build)


def authorizer_answer(principal: str, effect: str, resource: str, context: dict[str, str]) -> dict[str, Any]:
    """A Lambda authorizer's answer: ``effect`` (Allow or Deny) on ``resource``, with the caller's context."""
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }
