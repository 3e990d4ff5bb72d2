"""The custom resource that creates the lake's views on Athena at deployment (``infra.lake``).

On Create and Update it runs the statements it is given (the base views, then the metric views),
in order, each to its end: a view may use the ones before it. On Delete it leaves the views: they
go with the Glue database when the stack removes it, and a failed rollback must not drop what works.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters.athena_lake import AthenaLake
from helpdesk.adapters.cloudformation import respond

logger = Logger()
PHYSICAL_ID = "helpdesk-lake-views"


@cache
def athena() -> AthenaLake:
    return AthenaLake(os.environ["LAKE_DATABASE"], os.environ["LAKE_WORKGROUP"])


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    request = event.get("RequestType")
    statements = list(event.get("ResourceProperties", {}).get("Statements", []))
    try:
        if request in ("Create", "Update"):
            for statement in statements:
                athena().run_statement(statement)
            logger.info("lake views created", extra={"statements": len(statements)})
    except (RuntimeError, TimeoutError) as error:
        logger.exception("lake views not created")
        respond(event, getattr(context, "log_stream_name", ""), PHYSICAL_ID, success=False, reason=str(error)[:500])
        return
    respond(
        event,
        getattr(context, "log_stream_name", ""),
        PHYSICAL_ID,
        success=True,
        data={"Statements": str(len(statements))},
    )
