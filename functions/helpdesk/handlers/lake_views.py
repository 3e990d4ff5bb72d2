"""The custom resource that creates the lake's views on Athena at deployment (``infra.lake``).

On Create and Update it runs the statements it is given (the base views, then the metric views),
in order, each to its end: a view may use the ones before it. On Delete it leaves the views: they
go with the Glue database when the stack removes it, and a failed rollback must not drop what works.
"""

from __future__ import annotations

from typing import Any, Protocol

from helpdesk.handlers.entry import Handler, LambdaFunction, logger

PHYSICAL_ID = "helpdesk-lake-views"


class Statements(Protocol):
    def run_statement(self, sql: str) -> None:
        """Run one statement on Athena to its end; raise if it fails."""


def athena() -> Statements:
    from helpdesk import wiring

    return wiring.athena_lake()


def create_views(event: dict[str, Any], context: Any) -> None:
    from helpdesk import wiring

    respond = wiring.custom_resource_reply()
    request = event.get("RequestType")
    statements = list(event.get("ResourceProperties", {}).get("Statements", []))
    log_stream = getattr(context, "log_stream_name", "")
    try:
        if request in ("Create", "Update"):
            for statement in statements:
                athena().run_statement(statement)
            logger().info("lake views created", extra={"statements": len(statements)})
    except (RuntimeError, TimeoutError) as error:
        logger().exception("lake views not created")
        respond(event, log_stream, PHYSICAL_ID, success=False, reason=str(error)[:500])
        return
    respond(event, log_stream, PHYSICAL_ID, success=True, data={"Statements": str(len(statements))})


def _build() -> Handler:
    return create_views


lambda_handler = LambdaFunction(_build)
