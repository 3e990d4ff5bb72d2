"""Which engine runs the reports' queries: Athena in AWS; DuckDB where ``LAKE_ENGINE=duckdb`` (the
local runtime and tests), over a mirror (``LAKE_MIRROR_DIR``) of the lake bucket (``LAKE_BUCKET``).

Read on first use, never at import. DuckDB's module is imported only when it is chosen, so the
Lambda package never needs it.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from functools import cache
from pathlib import Path

from helpdesk.services.reports import LakeQueries


@cache
def lake_queries() -> LakeQueries:
    if os.environ.get("LAKE_ENGINE", "athena") == "duckdb":
        from helpdesk.adapters.duckdb_lake import DuckDbLake

        mirror = Path(os.environ.get("LAKE_MIRROR_DIR") or tempfile.mkdtemp(prefix="helpdesk-lake-"))
        return DuckDbLake(mirror, bucket=os.environ.get("LAKE_BUCKET"))
    from helpdesk.adapters.athena_lake import AthenaLake

    return AthenaLake(os.environ["LAKE_DATABASE"], os.environ["LAKE_WORKGROUP"])


def fresh_for() -> timedelta:
    """How long an answer that includes today is kept (``REPORTS_FRESH_SECONDS``; default 5 minutes)."""
    return timedelta(seconds=float(os.environ.get("REPORTS_FRESH_SECONDS", "300")))
